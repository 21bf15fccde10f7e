"""PyTorch side of `make bench-infer`: the same measurement as bench/infer.c, one per process.
usage: infer.py (--model DIR | --random-base) --batch B --seq T --threads N --iters K
Prints one JSON line with the same keys as the C program."""
import argparse
import json
import resource
import statistics
import time

import torch
from transformers import BertConfig, BertModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--random-base", action="store_true")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    if a.model:
        model = BertModel.from_pretrained(a.model)
    else:
        torch.manual_seed(1)
        model = BertModel(BertConfig())  # bert-base sizes
    model.eval()
    load_ms = (time.perf_counter() - t0) * 1e3
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, model.config.vocab_size, (a.batch, a.seq), generator=g)
    ids[:, 0] = 101
    ids[:, -1] = 102
    mask = torch.ones_like(ids)
    times = []
    with torch.inference_mode():
        model(input_ids=ids, attention_mask=mask)  # warm-up
        for _ in range(a.iters):
            t0 = time.perf_counter()
            model(input_ids=ids, attention_mask=mask)
            times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    print(json.dumps({"impl": "pytorch", "batch": a.batch, "seq": a.seq, "threads": torch.get_num_threads(),
                      "load_ms": round(load_ms, 1), "median_ms": round(med, 2),
                      "mean_ms": round(sum(times) / len(times), 2),
                      "seq_per_s": round(a.batch * 1000.0 / med, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
