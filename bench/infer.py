"""PyTorch and ONNX Runtime side of `make bench-infer`: the same measurement as bench/infer.c, one
per process.
usage: infer.py --impl torch|ort|ort-int8 --model DIR [--onnx DIR] --batch B --seq T --threads N
                --iters K
torch: transformers' BertModel (eval, inference_mode) from the folder; ort / ort-int8: ONNX
Runtime (CPU, intra-op threads N, one inter-op thread, default graph optimisations) on
DIR/model.onnx or DIR/model.int8.onnx written by scripts/export_onnx.py. The same tokens as the C
program's (ids 101 ... 102 between random ones, mask all ones). Prints one JSON line with the same
keys as the C program."""
import argparse
import json
import os
import resource
import statistics
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", default="torch", choices=["torch", "ort", "ort-int8"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--onnx")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=10)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    ids = rng.integers(1000, 30522, size=(a.batch, a.seq), dtype=np.int64)
    ids[:, 0] = 101
    ids[:, -1] = 102
    mask = np.ones_like(ids)
    types = np.zeros_like(ids)
    t0 = time.perf_counter()
    if a.impl == "torch":
        import torch
        from transformers import BertModel
        torch.set_num_threads(a.threads)
        model = BertModel.from_pretrained(a.model)
        model.eval()
        tid, tmask = torch.from_numpy(ids), torch.from_numpy(mask)

        def run():
            with torch.inference_mode():
                model(input_ids=tid, attention_mask=tmask)
        version = "torch " + torch.__version__
    else:
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        path = os.path.join(a.onnx, "model.int8.onnx" if a.impl == "ort-int8" else "model.onnx")
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        feeds = {i.name: feeds[i.name] for i in sess.get_inputs()}

        def run():
            sess.run(None, feeds)
        version = "onnxruntime " + ort.__version__
    load_ms = (time.perf_counter() - t0) * 1e3
    run()  # warm-up
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    print(json.dumps({"impl": a.impl, "batch": a.batch, "seq": a.seq, "threads": a.threads,
                      "load_ms": round(load_ms, 1), "median_ms": round(med, 2),
                      "best_ms": round(min(times), 2),
                      "mean_ms": round(sum(times) / len(times), 2),
                      "seq_per_s": round(a.batch * 1000.0 / med, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
                      "version": version}))


if __name__ == "__main__":
    main()
