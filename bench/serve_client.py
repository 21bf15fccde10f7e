#!/usr/bin/env python3
"""Load client of `make bench-serve` (standard library only): C concurrent keep-alive connections
driven by one thread (selectors, non-blocking sockets: the client's own CPU use stays small and
does not grow with C), each posting one embedding request after another, until N requests are
answered in all or S seconds have passed. Prints one JSON line: requests/s, p50/p99 latency,
errors.

    python3 bench/serve_client.py URL PATH CONCURRENCY MAX_REQUESTS MAX_SECONDS SENTENCES_FILE
Each request embeds one sentence of the file (taken in turn), as {"input": [sentence]}."""

import json
import selectors
import socket
import sys
import time

url, path = sys.argv[1], sys.argv[2]
conc, max_req, max_s = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
sentences = [s for s in open(sys.argv[6], encoding="utf-8").read().splitlines() if s.strip()]
host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
port = int(port)
bodies = [json.dumps({"input": [s], "model": "m"}).encode() for s in sentences]
requests = [b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (path.encode(), host.encode(), len(b), b)
            for b in bodies]


class Conn:
    def __init__(self, k):
        self.k = k
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buf = b""
        self.out = b""
        self.t0 = 0.0


def response_length(buf):
    """Bytes of the whole response at the start of buf (with its status), or None while
    incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").lower()
    length = 0
    for line in head.split("\r\n")[1:]:
        if line.startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    if len(buf) < end + 4 + length:
        return None
    return end + 4 + length


def run():
    sel = selectors.DefaultSelector()
    lat, errors = [], []
    issued = 0
    start = time.perf_counter()
    deadline = start + max_s

    def send_next(c):
        nonlocal issued
        if issued >= max_req or time.perf_counter() > deadline:
            sel.unregister(c.sock)
            c.sock.close()
            return
        issued += 1
        c.out = requests[c.k % len(requests)]
        c.k += conc
        c.t0 = time.perf_counter()
        sel.modify(c.sock, selectors.EVENT_WRITE, c)

    conns = [Conn(i) for i in range(conc)]
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)
        send_next(c)
    while sel.get_map():
        for key, events in sel.select(timeout=1):
            c = key.data
            if events & selectors.EVENT_WRITE:
                n = c.sock.send(c.out)
                c.out = c.out[n:]
                if not c.out:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            data = c.sock.recv(1 << 20)
            if not data:
                errors.append("connection closed")
                sel.unregister(c.sock)
                c.sock.close()
                continue
            c.buf += data
            n = response_length(c.buf)
            if n is None:
                continue
            resp, c.buf = c.buf[:n], c.buf[n:]
            if resp.startswith(b"HTTP/1.1 200") and b'"embedding"' in resp:
                lat.append(time.perf_counter() - c.t0)
            else:
                errors.append(resp[:120].decode("latin-1"))
            send_next(c)
    return lat, errors, time.perf_counter() - start


# warm-up: a few requests first
saved = max_req, max_s
max_req, max_s = 4, 60
run()
max_req, max_s = saved
lat, errors, wall = run()
lat.sort()


def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")


print(json.dumps({"concurrency": conc, "requests": len(lat), "errors": len(errors),
                  "seconds": round(wall, 2), "req_per_s": round(len(lat) / wall, 1),
                  "p50_ms": round(pct(0.50), 1), "p99_ms": round(pct(0.99), 1),
                  "first_error": errors[0] if errors else None}))
