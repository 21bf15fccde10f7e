#!/usr/bin/env python3
"""Tests of `lm serve` with a real client (Python's urllib and raw sockets; standard library
only): the answers equal the `lm` tool's on the same model, every bad request gets its 4xx JSON
error, concurrent requests are merged into model calls, and under load from 64 clients (valid
and hostile) the server stays up and within its memory bound.

    python3 tests/serve_test.py URL CLASSIFIER_DIR LM_BIN SERVER_PID [--quick]

Prints one line per check and "serve_test: N passed, M failed"; exit status 1 on a failure."""

import base64
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

URL, MODEL, LM, PID = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
QUICK = "--quick" in sys.argv
HOST, PORT = URL.split("//")[1].rstrip("/").rsplit(":", 1)
PORT = int(PORT)
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAILED: {name} {detail}")


def post(path, body, headers=None, raw=False):
    """(status, parsed JSON or bytes) of a POST; body a dict (JSON) or bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method="POST",
                                 headers=headers or {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            payload = r.read()
            return r.status, (payload if raw else json.loads(payload))
    except urllib.error.HTTPError as e:
        payload = e.read()
        return e.code, (payload if raw else json.loads(payload))


def get(path):
    try:
        with urllib.request.urlopen(URL + path, timeout=60) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def lm_json(cmd, lines, *extra):
    out = subprocess.run([LM, cmd, "--model", MODEL, "--threads", "1", *extra],
                         input="\n".join(lines) + "\n", capture_output=True, text=True,
                         check=True).stdout
    return [json.loads(x) for x in out.splitlines()]


def close(a, b, tol=1e-6):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def metric(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def rss_kb(field):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


TEXTS = ["gives us a reason to care about them", "a", "", "Unaffable naïve café — “quotes”!",
         "John Smith moved from Paris to New York in 2019.", "   spaces   everywhere   "]


def test_answers():
    code, body, _ = get("/health")
    check("health", code == 200 and json.loads(body) == {"status": "ok"}, body)
    want = [r["embedding"] for r in lm_json("embed", TEXTS)]
    code, r = post("/v1/embeddings", {"input": TEXTS, "model": "tiny"})
    check("openai float 200", code == 200, r)
    got = [d["embedding"] for d in r["data"]]
    check("openai = lm embed", all(close(g, w) for g, w in zip(got, want)) and len(got) == 6)
    check("openai shape", r["object"] == "list" and r["model"] == "tiny" and
          [d["index"] for d in r["data"]] == list(range(6)) and
          all(d["object"] == "embedding" for d in r["data"]))
    check("openai usage", r["usage"]["prompt_tokens"] == r["usage"]["total_tokens"] > 12, r["usage"])
    code, r1 = post("/v1/embeddings", {"input": TEXTS[0]})
    check("openai one string", code == 200 and len(r1["data"]) == 1 and
          close(r1["data"][0]["embedding"], want[0]))
    code, r2 = post("/v1/embeddings", {"input": TEXTS, "encoding_format": "base64"})
    dec = [list(struct.unpack(f"<{len(want[0])}f", base64.b64decode(d["embedding"])))
           for d in r2["data"]]
    f32 = [list(struct.unpack(f"<{len(g)}f", struct.pack(f"<{len(g)}f", *g))) for g in got]
    check("openai base64 = float (9 digits round-trip float32)", code == 200 and dec == f32,
          r2 if code != 200 else "")
    code, r3 = post("/embed", {"inputs": TEXTS, "normalize": False})
    check("tei embed = openai", code == 200 and all(close(a, b, 0) for a, b in zip(r3, got)))
    code, r4 = post("/embed", {"inputs": "a"})
    norm = sum(x * x for x in r4[0]) ** 0.5
    check("tei embed normalizes by default", code == 200 and len(r4) == 1 and
          abs(norm - 1) < 1e-5, norm)
    # /predict against lm classify (all labels)
    want = lm_json("classify", TEXTS, "--top-k", "-1")
    code, r5 = post("/predict", {"inputs": TEXTS})
    ok = code == 200 and len(r5) == len(TEXTS)
    for g, w in zip(r5 if ok else [], want):
        ok = ok and [x["label"] for x in g] == [x["label"] for x in w["labels"]] and \
            close([x["score"] for x in g], [x["score"] for x in w["labels"]], 1e-6)
    check("tei predict = lm classify", ok, (code, r5, want[:1]))
    code, r6 = post("/predict", {"inputs": TEXTS[0]})
    check("tei predict single", code == 200 and isinstance(r6[0], dict) and
          close([x["score"] for x in r6], [x["score"] for x in r5[0]], 1e-6))
    code, r7 = post("/predict", {"inputs": ["A man plays.", "A man is playing."]})
    code2, r8 = post("/predict", {"inputs": [["A man plays.", "A man is playing."], "b"]})
    check("tei predict pair", code == code2 == 200 and isinstance(r7[0], dict) and
          len(r8) == 2 and close([x["score"] for x in r7], [x["score"] for x in r8[0]], 1e-6))
    pair_want = lm_json("classify", ["A man plays.\tA man is playing."], "--top-k", "-1",
                        "--pairs")
    check("tei predict pair = lm classify --pairs",
          close([x["score"] for x in r7], [x["score"] for x in pair_want[0]["labels"]], 1e-6))
    code, r9 = post("/predict", {"inputs": TEXTS[:3], "raw_scores": True})
    check("tei predict raw scores", code == 200 and len(r9) == 3 and (
        any(x["score"] < 0 for x in r9[0]) or any(x["score"] > 1 for x in r9[0])), r9)


def expect_error(name, path, body, code, headers=None):
    got, r = post(path, body, headers, raw=True)
    try:
        doc = json.loads(r)
    except ValueError:
        doc = None
    ok = got == code and isinstance(doc, dict) and "error" in doc
    if ok and path == "/v1/embeddings":
        ok = isinstance(doc["error"], dict) and doc["error"]["code"] == code and \
            isinstance(doc["error"]["message"], str)
    elif ok:
        ok = isinstance(doc["error"], str) and "error_type" in doc
    check(f"error {name}", ok, f"{got} {r[:200]!r}")


def raw_request(data, read=True):
    """Sends bytes on a fresh connection; returns the status line (or b"")."""
    with socket.create_connection((HOST, PORT), timeout=30) as s:
        s.sendall(data)
        if not read:
            return b""
        try:
            return s.recv(4096).split(b"\r\n", 1)[0]
        except (ConnectionResetError, socket.timeout):
            return b""


def test_errors():
    expect_error("invalid JSON", "/embed", b'{"inputs": ', 400)
    expect_error("JSON not an object", "/v1/embeddings", b'["a"]', 400)
    expect_error("trailing garbage", "/embed", b'{"inputs": "a"} x', 400)
    expect_error("empty body", "/embed", b"", 400)
    expect_error("invalid UTF-8", "/v1/embeddings", b'{"input": "a\xff b"}', 400)
    expect_error("overlong UTF-8", "/embed", b'{"inputs": "\xc0\xaf"}', 400)
    expect_error("lone surrogate escape", "/embed", b'{"inputs": "\\udc80"}', 400)
    expect_error("missing input", "/v1/embeddings", {"model": "x"}, 400)
    expect_error("empty input list", "/v1/embeddings", {"input": []}, 400)
    expect_error("token ids", "/v1/embeddings", {"input": [[1, 2, 3]]}, 400)
    expect_error("number input", "/embed", {"inputs": 5}, 400)
    expect_error("encoding_format", "/v1/embeddings", {"input": "a", "encoding_format": "hex"},
                 400)
    expect_error("dimensions", "/v1/embeddings", {"input": "a", "dimensions": 7}, 400)
    expect_error("normalize type", "/embed", {"inputs": "a", "normalize": "yes"}, 400)
    expect_error("predict bad item", "/predict", {"inputs": ["a", ["b"]]}, 400)
    expect_error("predict triple", "/predict", {"inputs": [["a", "b", "c"]]}, 400)
    expect_error("too many inputs", "/v1/embeddings", {"input": ["a"] * 65}, 413)
    expect_error("too many predict inputs", "/predict", {"inputs": ["a"] * 65}, 413)
    expect_error("body over the limit", "/embed",
                 {"inputs": "x" * 70000}, 413)
    code, body, headers = get("/nothing-here")
    check("404", code == 404 and "error" in json.loads(body))
    code, body, headers = get("/embed")
    check("405 with Allow", code == 405 and headers.get("Allow") == "POST", (code, headers))
    got, _ = post("/metrics", b"x", raw=True)
    check("405 on POST /metrics", got == 405)
    # chunked body over the limit (no Content-Length): read, dropped, 413
    chunk = b"a" * 16384
    req = (b"POST /embed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"Content-Type: application/json\r\n\r\n" +
           b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6)) + b"0\r\n\r\n")
    status = raw_request(req)
    check("chunked over the limit: 413", b" 413 " in status, status)
    status = raw_request(b"GARBAGE\r\n\r\n")
    check("garbage request line: 4xx or closed", status == b"" or b" 40" in status, status)
    status = raw_request(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-A: " + b"b" * 100000 +
                         b"\r\n\r\n")
    check("huge header: 4xx or closed", status == b"" or b" 4" in status, status)


def test_batching():
    """Requests sent together are answered by fewer model calls than requests."""
    _, before, _ = get("/metrics")
    n_threads, per = 16, 4
    errors = []

    def client(i):
        for k in range(per):
            code, r = post("/v1/embeddings", {"input": [f"text {i} {k}", "another text"]})
            if code != 200 or len(r["data"]) != 2:
                errors.append((code, r))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _, after, _ = get("/metrics")
    calls = metric(after, "lm_batch_inputs_count") - metric(before, "lm_batch_inputs_count")
    requests = metric(after, 'lm_requests_total{endpoint="/v1/embeddings",code="200"}') - \
        metric(before, 'lm_requests_total{endpoint="/v1/embeddings",code="200"}')
    inputs = metric(after, "lm_batch_inputs_sum") - metric(before, "lm_batch_inputs_sum")
    check("concurrent requests all answered", not errors and requests == n_threads * per,
          (errors[:2], requests))
    check("concurrent requests merged into fewer model calls", 0 < calls < requests,
          (calls, requests))
    check("batched inputs counted", inputs == 2 * n_threads * per, inputs)
    check("tokens counted", metric(after, "lm_tokens_total") > metric(before, "lm_tokens_total"))
    check("latency histogram", 'lm_request_duration_seconds_bucket{endpoint="/v1/embeddings",'
          'le="+Inf"}' in after)


def test_load():
    """64 clients for a few seconds: valid requests at the limits, and hostile ones (garbage,
    bodies over the limit, connections that stall or vanish mid-body). The server answers them
    all, stays up and keeps its memory bound."""
    seconds = 2 if QUICK else 5
    stop = time.time() + seconds
    counts = {"ok": 0, "4xx": 0, "other": []}
    lock = threading.Lock()
    big = {"input": ["word " * 2000] * 6}  # ~60 KB, within --max-body 65536
    many = {"input": ["short text"] * 64}

    def client(i):
        while time.time() < stop:
            kind = i % 8
            try:
                if kind == 0:
                    code, _ = post("/v1/embeddings", big)
                elif kind == 1:
                    code, _ = post("/v1/embeddings", many)
                elif kind == 2:
                    code, _ = post("/embed", b'{"inputs": [' + b'"a",' * 40, raw=True)
                elif kind == 3:
                    code, _ = post("/predict", {"inputs": ["x" * 20000] * 4})
                elif kind == 4:  # promises a body, sends half, goes away
                    raw_request(b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n"
                                + b"{" * 30000, read=False)
                    code = 400
                elif kind == 5:
                    code, _ = post("/embed", os.urandom(2000), raw=True)
                elif kind == 6:
                    code, _ = post("/embed", {"inputs": "z" * 100000})
                else:
                    code, _ = post("/predict", {"inputs": [["a question", "a context"]] * 32})
            except (OSError, ValueError) as e:  # a refused connection beyond the limit is fine
                code = str(e)
            with lock:
                if code == 200:
                    counts["ok"] += 1
                elif isinstance(code, int) and 400 <= code < 500 or code == 503:
                    counts["4xx"] += 1
                else:
                    counts["other"].append(code)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    code, body, _ = get("/health")
    check("alive after load", code == 200 and os.path.exists(f"/proc/{PID}"))
    check("answers under load", counts["ok"] > 0 and counts["4xx"] > 0, counts)
    check("no 5xx nor broken answers under load", len(counts["other"]) <= 2,
          counts["other"][:5])
    hwm = rss_kb("VmHWM")
    limit = int(os.environ.get("LM_SERVE_RSS_LIMIT_KB", 400 * 1024))
    check("memory bound under load", 0 < hwm < limit, f"peak RSS {hwm} kB, bound {limit} kB")
    print(f"serve_test: load {seconds} s, 64 clients: {counts['ok']} answered, {counts['4xx']} "
          f"refused (4xx/503), peak RSS {hwm // 1024} MiB")


test_answers()
test_errors()
test_batching()
test_load()
code, body, _ = get("/metrics")
check("metrics after everything", code == 200 and metric(body, "lm_requests_total") > 100)
print(f"serve_test: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
