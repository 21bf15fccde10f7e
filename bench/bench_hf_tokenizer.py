"""Hugging Face `tokenizers` (Rust) side of bench/tokenizer.sh: the same lines, the same
vocabulary, BertTokenizerFast's pipeline (via BertWordPieceTokenizer), encode_batch in chunks
of 10,000 lines. Threads are fixed by RAYON_NUM_THREADS, set by the caller before start.
usage: python bench_hf_tokenizer.py VOCAB TSV MIN_MB"""
import os
import sys
import time

from tokenizers import BertWordPieceTokenizer

vocab, tsv, min_mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
t0 = time.perf_counter()
tok = BertWordPieceTokenizer(vocab, lowercase=True)
load = time.perf_counter() - t0
lines = []
with open(tsv, encoding="utf-8") as f:
    next(f)
    for line in f:
        lines.append(line.split("\t")[0])
base = list(lines)
size = sum(len(s.encode()) for s in lines)
while size < min_mb * 1e6:
    lines += base
    size += sum(len(s.encode()) for s in base)
tokens = 0
t0 = time.perf_counter()
c0 = time.process_time()
for i in range(0, len(lines), 10000):
    for e in tok.encode_batch(lines[i:i + 10000]):
        tokens += len(e.ids)
dt = time.perf_counter() - t0
dc = time.process_time() - c0
print(f"hf-tokenizers threads={os.environ.get('RAYON_NUM_THREADS', '?')} MB/s={size / 1e6 / dt:.2f} "
      f"({dt:.2f} s wall, {dc:.2f} s CPU = {size / 1e6 / dc:.2f} MB per CPU-second, {tokens} tokens; "
      f"vocab load {load * 1e3:.1f} ms)")
