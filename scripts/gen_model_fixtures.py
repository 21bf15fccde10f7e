#!/usr/bin/env python3
"""Writes the model reference fixtures under tests/data/model/ (layout: tests/data/model/README.md).

(a) minilm/: token ids, masks, last hidden states (subset) and mean-pooled L2-normalised
    embeddings of the real all-MiniLM-L6-v2 for sentences of 2..256 tokens, batched with padding.
(b) tiny/<case>/: small random BERT models saved by transformers (save_pretrained) for every head,
    hidden_act and weight dtype, with inputs and every output in expected.safetensors.

Run with the reference environment:
    PY=$(LM_PYENV=/work/main/.venv-ref bash scripts/pyenv.sh); $PY scripts/gen_model_fixtures.py
Deterministic (fixed seeds); CPU only; takes about a minute.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import torch
from safetensors.torch import load_file, save_file

import transformers
from transformers import (AutoModel, AutoTokenizer, BertConfig, BertForMaskedLM,
                          BertForQuestionAnswering, BertForSequenceClassification,
                          BertForTokenClassification, BertModel)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "data", "model")
SST2_DEV = os.path.join(os.path.dirname(REPO), "shared", "data", "sst2", "dev.tsv")

torch.set_num_threads(2)


def versions():
    return {"transformers": transformers.__version__, "torch": torch.__version__}


def save_st(path, tensors, meta):
    save_file({k: v.contiguous() for k, v in tensors.items()}, path,
              metadata={k: str(v) for k, v in meta.items()})


# ---------------------------------------------------------------- (a) all-MiniLM-L6-v2

def minilm_sentences(tok):
    """>= 64 sentences whose token counts (with [CLS] and [SEP]) spread over 2..256."""
    rows = []
    with open(SST2_DEV, encoding="utf-8") as f:
        next(f)
        for line in f:
            s = line.rstrip("\n").split("\t")[0]
            rows.append(s)
    lens = [len(tok(s)["input_ids"]) for s in rows]
    order = sorted(range(len(rows)), key=lambda i: (lens[i], i))
    picked = []
    seen = set()
    # 52 SST-2 sentences spread evenly over the sorted lengths (distinct lengths first)
    for k in range(52):
        i = order[(k * (len(order) - 1)) // 51]
        while i in seen:
            i += 1
        seen.add(i)
        picked.append(rows[i])
    extra = ["", "a", "Hello, world!", "naïve café — “quotes” and emoji 🙂 and 中文字符",
             "UNAFFABLE unaffable", "   spaces   everywhere   "]
    picked.extend(extra)
    # long ones: join consecutive sentences, then single words, up to the target (no truncation)
    targets = [96, 128, 160, 192, 224, 240, 255, 256]
    pos = 0
    for t in targets:
        text = ""
        words = []
        while True:
            if not words:
                words = rows[pos].split()
                pos = (pos + 1) % len(rows)
            cand = (text + " " + words[0]).strip()
            if len(tok(cand)["input_ids"]) > t:
                break
            text = cand
            words.pop(0)
        picked.append(text)
    return picked


def gen_minilm(model_dir):
    out_dir = os.path.join(OUT, "minilm")
    os.makedirs(out_dir, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32).eval()
    sents = minilm_sentences(tok)
    n = len(sents)
    enc = tok(sents, padding=True, return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    tmax = ids.shape[1]
    lengths = mask.sum(1)
    hidden = torch.zeros(n, tmax, model.config.hidden_size)
    batch = 16
    with torch.no_grad():
        for b in range(0, n, batch):
            sub = tok(sents[b:b + batch], padding=True, return_tensors="pt")
            h = model(**sub).last_hidden_state
            hidden[b:b + batch, :h.shape[1]] = h
    m = mask.unsqueeze(-1).float()
    pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    emb = torch.nn.functional.normalize(pooled, p=2, dim=1)
    # sentence-transformers, as a cross-check of the pooling recipe
    try:
        from sentence_transformers import SentenceTransformer
        st_model = SentenceTransformer(model_dir, device="cpu")
        ref = torch.tensor(st_model.encode(sents, batch_size=16))
        print(f"minilm: max |emb - sentence_transformers| = {(emb - ref).abs().max().item():.3g}")
    except Exception as e:  # noqa: BLE001 - informational only
        print(f"minilm: sentence-transformers cross-check skipped ({e})")
    first = hidden[:, 0]
    last = hidden[torch.arange(n), lengths - 1]
    # full rows for 8 sentences of various lengths (the shortest 16 tokens or fewer dominate)
    subset = [0, 5, 10, 20, 30, 45, 52, 55]
    ts = int(lengths[subset].max())
    hs = hidden[subset, :ts] * mask[subset, :ts].unsqueeze(-1)
    tensors = {
        "input_ids": ids.to(torch.int64),
        "token_type_ids": enc["token_type_ids"].to(torch.int64),
        "attention_mask": mask.to(torch.int64),
        "lengths": lengths.to(torch.int64),
        "embeddings": emb.float(),
        "last_hidden_state.first": first.float(),
        "last_hidden_state.last": last.float(),
        "subset_index": torch.tensor(subset, dtype=torch.int64),
        "last_hidden_state.subset": hs.float(),
    }
    meta = {"model": "sentence-transformers/all-MiniLM-L6-v2", "batch_size": batch,
            "pooling": "mean over attention_mask, then L2 normalise", **versions()}
    save_st(os.path.join(out_dir, "reference.safetensors"), tensors, meta)
    with open(os.path.join(out_dir, "sentences.txt"), "w", encoding="utf-8") as f:
        for s in sents:
            assert "\n" not in s
            f.write(s + "\n")
    print(f"minilm: {n} sentences, lengths {int(lengths.min())}..{int(lengths.max())}, "
          f"padded to {tmax}")


# ---------------------------------------------------------------- (b) tiny random models

HEADS = [
    ("model", BertModel, {}),
    ("seqcls", BertForSequenceClassification,
     {"num_labels": 3, "problem_type": "single_label_classification",
      "id2label": {0: "neg", 1: "neu", 2: "pos"}, "label2id": {"neg": 0, "neu": 1, "pos": 2}}),
    ("regression", BertForSequenceClassification, {"num_labels": 1, "problem_type": "regression"}),
    ("tokcls", BertForTokenClassification, {"num_labels": 5}),
    ("qa", BertForQuestionAnswering, {}),
    ("mlm", BertForMaskedLM, {}),
]
ACTS = ["gelu", "gelu_new", "relu"]
DTYPES = [("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)]
VOCABS = [100, 128, 257, 300, 199, 500]


def randomize(model, gen):
    """Stronger random weights than the default init, so that mistakes show in the outputs."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))


def tiny_inputs(vocab, gen):
    lengths = [7, 12, 3]
    T = max(lengths)
    ids = torch.zeros(3, T, dtype=torch.int64)
    types = torch.zeros(3, T, dtype=torch.int64)
    mask = torch.zeros(3, T, dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(1, vocab, (n,), generator=gen)
        ids[b, 0] = 2 if vocab > 2 else 1  # a [CLS]-like id
        mask[b, :n] = 1
        if n > 4:
            types[b, n // 2:n] = 1
    return ids, types, mask


def write_tiny_vocab(path, vocab):
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(vocab):
            f.write((special[i] if i < len(special) else f"tok{i}") + "\n")


def gen_tiny():
    root = os.path.join(OUT, "tiny")
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)
    cases = []
    for h, (hname, cls, extra) in enumerate(HEADS):
        for a, act in enumerate(ACTS):
            dname, dtype = DTYPES[(h + a) % 3]
            case = f"{hname}-{act}-{dname}"
            seed = 1000 + 10 * h + a
            gen = torch.Generator().manual_seed(seed)
            torch.manual_seed(seed)
            vocab = VOCABS[(h + 2 * a) % len(VOCABS)]
            cfg = BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2,
                             num_attention_heads=4, intermediate_size=37,
                             max_position_embeddings=64, type_vocab_size=2, hidden_act=act,
                             layer_norm_eps=1e-12 if a != 1 else 1e-5, **extra)
            model = cls(cfg).eval()
            randomize(model, gen)
            if dtype != torch.float32:  # the stored weights are what the reference computes with
                with torch.no_grad():
                    for p in model.parameters():
                        p.copy_(p.to(dtype).float())
            d = os.path.join(root, case)
            model.save_pretrained(d, safe_serialization=True)
            write_tiny_vocab(os.path.join(d, "vocab.txt"), vocab)
            wpath = os.path.join(d, "model.safetensors")
            if dtype != torch.float32:
                w = load_file(wpath)
                save_file({k: v.to(dtype).contiguous() for k, v in w.items()}, wpath,
                          metadata={"format": "pt"})
            ids, types, mask = tiny_inputs(vocab, gen)
            with torch.no_grad():
                out = model(input_ids=ids, token_type_ids=types, attention_mask=mask,
                            output_hidden_states=True)
                base = model if hname == "model" else model.bert
                bout = base(input_ids=ids, token_type_ids=types, attention_mask=mask,
                            output_hidden_states=True)
            t = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask,
                 "hidden_states": torch.stack(bout.hidden_states).float(),
                 "last_hidden_state": bout.last_hidden_state.float()}
            if bout.pooler_output is not None:
                t["pooler_output"] = bout.pooler_output.float()
            if hname == "qa":
                t["start_logits"] = out.start_logits.float()
                t["end_logits"] = out.end_logits.float()
            elif hname != "model":
                t["logits"] = out.logits.float()
            meta = {"case": case, "architecture": cls.__name__, "hidden_act": act,
                    "weights_dtype": dname.upper().replace("F32", "F32"), **versions()}
            save_st(os.path.join(d, "expected.safetensors"), t, meta)
            cases.append({"case": case, "architecture": cls.__name__, "hidden_act": act,
                          "dtype": {"f32": "F32", "f16": "F16", "bf16": "BF16"}[dname],
                          "vocab_size": vocab, "num_labels": cfg.num_labels,
                          "layer_norm_eps": cfg.layer_norm_eps,
                          "outputs": sorted(k for k in t if k not in
                                            ("input_ids", "token_type_ids", "attention_mask"))})
    with open(os.path.join(root, "cases.json"), "w") as f:
        json.dump({"cases": cases, **versions()}, f, indent=1)
        f.write("\n")
    print(f"tiny: {len(cases)} cases")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-minilm", action="store_true")
    ap.add_argument("--skip-tiny", action="store_true")
    args = ap.parse_args()
    if not args.skip_minilm:
        model_dir = subprocess.check_output(
            ["bash", os.path.join(REPO, "scripts", "find_minilm.sh")], text=True).strip()
        gen_minilm(model_dir)
    if not args.skip_tiny:
        gen_tiny()
    return 0


if __name__ == "__main__":
    sys.exit(main())
