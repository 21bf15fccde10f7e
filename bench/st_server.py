#!/usr/bin/env python3
"""The comparison server of `make bench-serve`: sentence-transformers behind a minimal Python HTTP
server (http.server's ThreadingHTTPServer), OpenAI-style POST /v1/embeddings, the model on THREADS
torch threads. One encode runs at a time (a lock: concurrent torch calls on the same cores would
only fight); no batching across requests, as a minimal server does.

    python bench/st_server.py MODEL_DIR PORT THREADS"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
from sentence_transformers import SentenceTransformer

model_dir, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
model = SentenceTransformer(model_dir, device="cpu")
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as lm serve
    disable_nagle_algorithm = True  # else headers and body in two writes wait for delayed ACKs

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        texts = req["input"] if isinstance(req["input"], list) else [req["input"]]
        with lock:
            emb = model.encode(texts, batch_size=32, convert_to_numpy=True)
        body = json.dumps({"object": "list", "model": req.get("model", "m"),
                           "data": [{"object": "embedding", "index": i, "embedding": e.tolist()}
                                    for i, e in enumerate(emb)]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 256
print(f"st_server: listening on http://127.0.0.1:{port}/", file=sys.stderr, flush=True)
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
