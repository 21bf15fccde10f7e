#!/usr/bin/env python3
"""Load client of `make bench-serve` (standard library only): C concurrent clients, each on its own
keep-alive connection, POST one embedding request after another until N requests are answered in
all or S seconds have passed; prints one JSON line: requests/s, p50/p99 latency, errors.

    python3 bench/serve_client.py URL PATH CONCURRENCY MAX_REQUESTS MAX_SECONDS SENTENCES_FILE
Each request embeds one sentence of the file (taken in turn), as {"input": [sentence]}."""

import http.client
import json
import sys
import threading
import time

url, path = sys.argv[1], sys.argv[2]
conc, max_req, max_s = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
sentences = [s for s in open(sys.argv[6], encoding="utf-8").read().splitlines() if s.strip()]
host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
lat, errors = [], []
lock = threading.Lock()
issued = 0


def worker(i):
    global issued
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    k = i
    while True:
        with lock:
            if issued >= max_req or time.perf_counter() > deadline:
                break
            issued += 1
        body = json.dumps({"input": [sentences[k % len(sentences)]], "model": "m"}).encode()
        k += conc
        t = time.perf_counter()
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            ok = r.status == 200 and b'"embedding"' in data
        except (OSError, http.client.HTTPException) as e:
            ok, data = False, str(e).encode()
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=120)
        dt = time.perf_counter() - t
        with lock:
            (lat if ok else errors).append(dt if ok else data[:100])
    conn.close()


# warm-up: a few requests on one connection
for k in range(4):
    c = http.client.HTTPConnection(host, int(port), timeout=120)
    c.request("POST", path, json.dumps({"input": [sentences[k]]}).encode(),
              {"Content-Type": "application/json"})
    c.getresponse().read()
    c.close()
start = time.perf_counter()
deadline = start + max_s
threads = [threading.Thread(target=worker, args=(i,)) for i in range(conc)]
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.perf_counter() - start
lat.sort()


def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")


print(json.dumps({"concurrency": conc, "requests": len(lat), "errors": len(errors),
                  "seconds": round(wall, 2), "req_per_s": round(len(lat) / wall, 1),
                  "p50_ms": round(pct(0.50), 1), "p99_ms": round(pct(0.99), 1),
                  "first_error": errors[0].decode("utf-8", "replace") if errors else None}))
