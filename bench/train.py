"""PyTorch side of `make bench-train`: the same measurement as bench/train.c, one per process.
usage: train.py (--model DIR | --random-base) --batch B --seq T --threads N --steps K
Eager PyTorch: BertForSequenceClassification (2 labels) in training mode (dropout on), AdamW with
weight decay 0.01 off biases and LayerNorm weights, linear schedule, clip_grad_norm_ 1.0; the same
batch as bench/train.c; one warm-up step, then K timed steps. Prints one JSON line with the same
keys as the C program."""
import argparse
import json
import resource
import statistics
import time

import torch
from transformers import BertConfig, BertForSequenceClassification, get_linear_schedule_with_warmup


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--random-base", action="store_true")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    torch.manual_seed(1)
    if a.model:
        model = BertForSequenceClassification.from_pretrained(a.model, num_labels=2)
    else:
        model = BertForSequenceClassification(BertConfig(num_labels=2))  # bert-base sizes
    model.train()
    load_ms = (time.perf_counter() - t0) * 1e3
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if not ("bias" in n or "LayerNorm" in n)],
               "weight_decay": 0.01},
              {"params": [p for n, p in named if "bias" in n or "LayerNorm" in n],
               "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=5e-5)
    sched = get_linear_schedule_with_warmup(opt, 0, 1000)
    B, T, V = a.batch, a.seq, model.config.vocab_size
    i = torch.arange(B * T, dtype=torch.int64)
    ids = 1000 + (i * 7919 + 13) % (V - 1000)
    ids[i % T == 0] = 101
    ids[i % T == T - 1] = 102
    ids = ids.reshape(B, T)
    mask = torch.ones_like(ids)
    labels = torch.arange(B) % 2

    def step():
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        return out.loss.item()

    loss = step()  # warm-up
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    print(json.dumps({"impl": "pytorch", "batch": B, "seq": T, "threads": torch.get_num_threads(),
                      "load_ms": round(load_ms, 1), "median_ms": round(med, 1),
                      "mean_ms": round(sum(times) / len(times), 1),
                      "steps_per_s": round(1000.0 / med, 3), "loss": round(loss, 4),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
                      "torch": torch.__version__,
                      "attn": model.config._attn_implementation}))


if __name__ == "__main__":
    main()
