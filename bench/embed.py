"""Python side of `make bench-embed`: sentence embeddings of a file of texts, the whole job, by
sentence-transformers or by ONNX Runtime, as their users run them.
usage: embed.py --impl st|ort --model DIR [--onnx DIR] --input FILE --output FILE.npy
                --threads N [--batch-size 32]
st:  SentenceTransformer(DIR).encode(texts, batch_size) (it sorts the texts by length itself).
ort: the folder's tokenizer.json (tokenizers, truncated at the folder's max_seq_length), the texts
     sorted by length, batches padded to their longest, DIR/model.onnx (scripts/export_onnx.py),
     mean pooling over the mask and L2 normalisation in NumPy (as the model's modules say).
The time runs from loading the model to the last embedding (Python's imports excluded). Prints
one JSON line: seconds, texts, texts/s, peak RSS, version; writes the embeddings (input order)."""
import argparse
import json
import os
import resource
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", required=True, choices=["st", "ort"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--onnx")
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    a = ap.parse_args()
    texts = open(a.input, encoding="utf-8").read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    if a.impl == "st":
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(a.threads)
        t0 = time.perf_counter()
        model = SentenceTransformer(a.model, device="cpu")
        emb = model.encode(texts, batch_size=a.batch_size, convert_to_numpy=True)
        seconds = time.perf_counter() - t0
        version = "sentence-transformers " + __import__("sentence_transformers").__version__
    else:
        import onnxruntime as ort
        from tokenizers import Tokenizer
        t0 = time.perf_counter()
        cfg = json.load(open(os.path.join(a.model, "sentence_bert_config.json")))
        tok = Tokenizer.from_file(os.path.join(a.model, "tokenizer.json"))
        tok.enable_truncation(cfg.get("max_seq_length", 512))
        tok.no_padding()
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(os.path.join(a.onnx, "model.onnx"), so,
                                    providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        enc = tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(enc[i].ids))
        emb = np.zeros((len(texts), 0), dtype=np.float32)
        for s in range(0, len(order), a.batch_size):
            idx = order[s:s + a.batch_size]
            T = max(len(enc[i].ids) for i in idx)
            ids = np.zeros((len(idx), T), dtype=np.int64)
            mask = np.zeros((len(idx), T), dtype=np.int64)
            for r, i in enumerate(idx):
                n = len(enc[i].ids)
                ids[r, :n] = enc[i].ids
                mask[r, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            h = sess.run(None, {n: feeds[n] for n in names})[0]
            m = mask[:, :, None].astype(np.float32)
            e = (h * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            e /= np.clip(np.linalg.norm(e, axis=1, keepdims=True), 1e-12, None)
            if emb.shape[1] == 0:
                emb = np.zeros((len(texts), e.shape[1]), dtype=np.float32)
            emb[idx] = e
        seconds = time.perf_counter() - t0
        version = "onnxruntime " + ort.__version__
    np.save(a.output, emb.astype(np.float32))
    print(json.dumps({"impl": a.impl, "seconds": round(seconds, 3), "texts": len(texts),
                      "texts_per_s": round(len(texts) / seconds, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
                      "version": version}))


if __name__ == "__main__":
    main()
