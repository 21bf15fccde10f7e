#!/usr/bin/env python3
"""Writes the training reference fixtures under tests/data/train/ (layout: tests/data/train/README.md).

(a) tiny/<case>/: small random BERT models for every head (sequence classification single-label,
    multi-label, regression; token classification; question answering; masked LM with a tied and
    an untied decoder) and every hidden_act, saved by transformers (save_pretrained, safetensors),
    with expected.safetensors: 20 batches, the loss and every parameter's gradient of batch 0
    after one backward, and for AdamW, Adam and SGD the losses of 20 steps (accumulation 2, so 10
    updates, with warm-up, a schedule and clipping) and every parameter after them, plus the
    losses of the same runs in float64 (how far float32 strays by itself). Dropout off.
(b) minilm/: the real all-MiniLM-L6-v2 with a fresh 2-label classification head (its initial
    weights are in the fixture): 10 batches of 16 SST-2 sentences, the loss and every gradient of
    batch 0 (per tensor: the norm and 16 sampled values) and the losses of 10 AdamW steps.

Run with the reference environment:
    PY=$(LM_PYENV=/work/main/.venv-ref bash scripts/pyenv.sh); $PY scripts/gen_train_fixtures.py
Deterministic (fixed seeds); CPU only; about a minute.
"""
import argparse
import json
import lzma
import os
import shutil
import subprocess

import torch
from safetensors.torch import save_file

import transformers
from transformers import (AutoTokenizer, BertConfig, BertForMaskedLM, BertForQuestionAnswering,
                          BertForSequenceClassification, BertForTokenClassification)
from transformers import (get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup,
                          get_linear_schedule_with_warmup)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "data", "train")
SST2 = os.path.join(REPO, "examples", "data", "sst2", "train.tsv.xz")

torch.set_num_threads(2)

# ---------------------------------------------------------------- (a) tiny models

VOCAB, HIDDEN, HEADS, INTER, LAYERS, POS = 24, 8, 2, 16, 2, 12
B, T, STEPS, ACCUM = 3, 8, 20, 2

HEADS_CASES = [
    # name, class, num_labels, problem_type, tie
    ("seq-single", BertForSequenceClassification, 3, None, True),
    ("seq-multi", BertForSequenceClassification, 3, None, True),  # float labels: inferred
    ("seq-regression", BertForSequenceClassification, 1, None, True),
    ("token", BertForTokenClassification, 3, None, True),
    ("qa", BertForQuestionAnswering, 2, None, True),
    ("mlm-tied", BertForMaskedLM, 2, None, True),
    ("mlm-untied", BertForMaskedLM, 2, None, False),
]
ACTS = ["gelu", "gelu_new", "relu"]

# optimizer runs: (name, optimizer, schedule, lr, extra)
OPTIMIZERS = [
    ("adamw", "adamw", "linear", 5e-3, {}),
    ("adam", "adam", "cosine", 5e-3, {}),
    ("sgd", "sgd", "linear", 2e-2, {"momentum": 0.9, "nesterov": False}),
]
WARMUP, UPDATES, WEIGHT_DECAY, MAX_NORM = 2, STEPS // ACCUM, 0.01, 1.0


def liblm_name(torch_name):
    return torch_name[5:] if torch_name.startswith("bert.") else torch_name


def no_decay(name):
    return "bias" in name or "LayerNorm" in name


def make_batches(kind, num_labels, gen):
    """STEPS batches of B x T with padding, labels of the head."""
    out = []
    for _ in range(STEPS):
        lens = torch.randint(2, T + 1, (B,), generator=gen)
        lens[0] = T
        ids = torch.randint(1, 9, (B, T), generator=gen)  # few ids: repeats
        ids[1, 1] = 0  # the padding id among real tokens
        mask = (torch.arange(T)[None, :] < lens[:, None]).long()
        ids = ids * mask
        types = ((torch.arange(T)[None, :] >= 3).long() * mask)
        b = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
        if kind == "seq-single":
            y = torch.randint(0, num_labels, (B,), generator=gen)
            y[1] = -100
            b["labels"] = y
        elif kind == "seq-multi":
            b["labels"] = torch.randint(0, 2, (B, num_labels), generator=gen).float()
        elif kind == "seq-regression":
            b["labels"] = torch.randn(B, generator=gen)
        elif kind == "token":
            y = torch.randint(0, num_labels, (B, T), generator=gen)
            y[mask == 0] = -100
            y[0, 2] = -100
            b["labels"] = y
        elif kind == "qa":
            s = torch.randint(0, T + 3, (B,), generator=gen)
            e = torch.randint(0, T + 3, (B,), generator=gen)
            s[0], e[0] = 1, T - 2  # one counted position per side at least
            s[2] = -1              # clamped to 0
            b["start_positions"], b["end_positions"] = s, e
        else:  # masked LM: ~30% of the tokens, at least one
            y = torch.randint(0, VOCAB, (B, T), generator=gen)
            keep = torch.rand(B, T, generator=gen) < 0.3
            keep[0, 1] = True
            y[~keep] = -100
            b["labels"] = y
        out.append(b)
    return out


def randomize(model, gen):
    """O(1) weights so that every nonlinearity matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 2:
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))


def trained_params(model):
    """(liblm name, parameter) of every parameter the loss reaches (transformers 5 keeps an
    unused cls.predictions.bias beside an untied decoder's own bias)."""
    out = []
    for name, p in model.named_parameters():
        if isinstance(model, BertForMaskedLM) and not model.config.tie_word_embeddings and \
                name == "cls.predictions.bias":
            continue
        out.append((liblm_name(name), p))
    return out


def make_optimizer(model, kind, lr, extra):
    params = trained_params(model)
    groups = [{"params": [p for n, p in params if not no_decay(n)], "weight_decay": WEIGHT_DECAY},
              {"params": [p for n, p in params if no_decay(n)], "weight_decay": 0.0}]
    if kind == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    if kind == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    return torch.optim.SGD(groups, lr=lr, momentum=extra["momentum"], nesterov=extra["nesterov"])


def make_schedule(opt, kind):
    if kind == "linear":
        return get_linear_schedule_with_warmup(opt, WARMUP, UPDATES)
    if kind == "cosine":
        return get_cosine_schedule_with_warmup(opt, WARMUP, UPDATES)
    return get_constant_schedule_with_warmup(opt, WARMUP)


def flat(tensors):
    return torch.cat([t.detach().reshape(-1).float() for t in tensors])


def tiny_case(kind, cls, num_labels, problem, tie, act, seed):
    name = f"{kind}-{act}"
    folder = os.path.join(OUT, "tiny", name)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                     num_attention_heads=HEADS, intermediate_size=INTER,
                     max_position_embeddings=POS, type_vocab_size=2, hidden_act=act,
                     num_labels=num_labels, layer_norm_eps=1e-5, tie_word_embeddings=tie)
    if problem is not None:
        cfg.problem_type = problem
    model = cls(cfg)
    randomize(model, gen)
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    batches = make_batches(kind, num_labels, gen)
    tensors = {}
    # inputs, stacked over the steps
    for key in ("input_ids", "token_type_ids", "attention_mask", "labels", "start_positions",
                "end_positions"):
        if key in batches[0]:
            v = torch.stack([b[key] for b in batches])
            tensors[key] = v.float() if v.is_floating_point() else v.long()
    # (1) one backward of batch 0, dropout off
    model.eval()
    model.zero_grad()
    out = model(**batches[0])
    out.loss.backward()
    params = trained_params(model)
    names = [n for n, _ in params]
    tensors["loss"] = out.loss.detach().reshape(1).double()
    tensors["grad"] = flat([p.grad for _, p in params])
    # (2) optimizer runs from the saved weights; each again in float64, which measures how far
    # float32 itself strays from the exact result after a few updates (the tests' loss tolerance)
    for oname, okind, sched, lr, extra in OPTIMIZERS:
        for dtype in (torch.float32, torch.float64):
            m = cls.from_pretrained(folder).to(dtype)
            m.eval()
            opt = make_optimizer(m, okind, lr, extra)
            sch = make_schedule(opt, sched)
            losses = []
            for k, b in enumerate(batches):
                o = m(**{key: v.to(dtype) if v.is_floating_point() else v for key, v in b.items()})
                losses.append(o.loss.item())
                (o.loss / ACCUM).backward()
                if (k + 1) % ACCUM == 0:
                    torch.nn.utils.clip_grad_norm_([p for _, p in trained_params(m)], MAX_NORM)
                    opt.step()
                    sch.step()
                    opt.zero_grad()
            if dtype == torch.float32:
                tensors[f"{oname}.losses"] = torch.tensor(losses, dtype=torch.float64)
                tensors[f"{oname}.params"] = flat([p for _, p in trained_params(m)])
            else:
                tensors[f"{oname}.losses64"] = torch.tensor(losses, dtype=torch.float64)
    meta = {"names": ",".join(names), "kind": kind, "act": act,
            "transformers": transformers.__version__, "torch": torch.__version__}
    save_file({k: v.contiguous() for k, v in tensors.items()},
              os.path.join(folder, "expected.safetensors"), metadata=meta)
    return name


OPTIONS_DOC = {
    "adamw": {"optimizer": "adamw", "schedule": "linear", "learning_rate": 5e-3},
    "adam": {"optimizer": "adam", "schedule": "cosine", "learning_rate": 5e-3},
    "sgd": {"optimizer": "sgd", "schedule": "linear", "learning_rate": 2e-2, "momentum": 0.9},
}


def gen_tiny():
    names = []
    seed = 100
    for kind, cls, nl, problem, tie in HEADS_CASES:
        for act in ACTS:
            seed += 1
            names.append(tiny_case(kind, cls, nl, problem, tie, act, seed))
    common = {"warmup_steps": WARMUP, "total_steps": UPDATES, "weight_decay": WEIGHT_DECAY,
              "max_grad_norm": MAX_NORM, "accumulation_steps": ACCUM, "steps": STEPS,
              "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    with open(os.path.join(OUT, "tiny", "cases.json"), "w") as f:
        json.dump({"cases": names, "common": common, "optimizers": OPTIONS_DOC,
                   "transformers": transformers.__version__, "torch": torch.__version__}, f,
                  indent=1)
        f.write("\n")


# ---------------------------------------------------------------- (b) all-MiniLM-L6-v2

MINI_BATCH, MINI_STEPS, MINI_SAMPLES = 16, 10, 16
MINI_LR, MINI_WARMUP, MINI_WD = 1e-4, 2, 0.01


def find_minilm():
    d = os.environ.get("LM_MINILM_DIR")
    if d:
        return d
    return subprocess.check_output(["bash", os.path.join(REPO, "scripts", "find_minilm.sh")],
                                   text=True).strip()


def sst2_rows(n):
    rows = []
    with lzma.open(SST2, "rt", encoding="utf-8") as f:
        next(f)
        for line in f:
            s, y = line.rstrip("\n").split("\t")
            rows.append((s, int(y)))
            if len(rows) == n:
                break
    return rows


def gen_minilm():
    folder = os.path.join(OUT, "minilm")
    os.makedirs(folder, exist_ok=True)
    d = find_minilm()
    tok = AutoTokenizer.from_pretrained(d)
    torch.manual_seed(0)  # the fresh classifier's initialisation
    model = BertForSequenceClassification.from_pretrained(d, num_labels=2)
    model.eval()
    rows = sst2_rows(MINI_BATCH * MINI_STEPS)
    tensors = {"classifier.weight": model.classifier.weight.detach().clone(),
               "classifier.bias": model.classifier.bias.detach().clone()}
    batches = []
    for k in range(MINI_STEPS):
        part = rows[k * MINI_BATCH:(k + 1) * MINI_BATCH]
        enc = tok([s for s, _ in part], padding=True, truncation=True, max_length=128,
                  return_tensors="pt")
        b = {"input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"],
             "attention_mask": enc["attention_mask"],
             "labels": torch.tensor([y for _, y in part])}
        batches.append(b)
        for key, v in b.items():
            tensors[f"b{k}.{key}"] = v.long()
    # (1) loss and gradients of batch 0
    model.zero_grad()
    out = model(**batches[0])
    out.loss.backward()
    params = [(liblm_name(n), p) for n, p in model.named_parameters()]
    names = [n for n, _ in params]
    gen = torch.Generator().manual_seed(3)
    norms = []
    used_rows = torch.unique(batches[0]["input_ids"])
    for n, p in params:
        g = p.grad.detach()
        norms.append(g.double().norm().item())
        if n == "embeddings.word_embeddings.weight":  # rows of the batch's tokens
            r = used_rows[torch.randint(0, len(used_rows), (MINI_SAMPLES,), generator=gen)]
            c = torch.randint(0, g.shape[1], (MINI_SAMPLES,), generator=gen)
            idx = r * g.shape[1] + c
        else:
            idx = torch.randint(0, g.numel(), (MINI_SAMPLES,), generator=gen)
        tensors[f"idx.{n}"] = idx.long()
        tensors[f"val.{n}"] = g.reshape(-1)[idx].float()
    tensors["loss"] = out.loss.detach().reshape(1).double()
    tensors["grad_norms"] = torch.tensor(norms, dtype=torch.float64)
    # (2) 10 AdamW steps from the same start
    torch.manual_seed(0)
    m = BertForSequenceClassification.from_pretrained(d, num_labels=2)
    m.eval()
    ps = [(liblm_name(n), p) for n, p in m.named_parameters()]
    groups = [{"params": [p for n, p in ps if not no_decay(n)], "weight_decay": MINI_WD},
              {"params": [p for n, p in ps if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=MINI_LR, betas=(0.9, 0.999), eps=1e-8)
    sch = get_linear_schedule_with_warmup(opt, MINI_WARMUP, MINI_STEPS)
    losses = []
    for b in batches:
        o = m(**b)
        losses.append(o.loss.item())
        o.loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        sch.step()
        opt.zero_grad()
    tensors["adamw.losses"] = torch.tensor(losses, dtype=torch.float64)
    meta = {"names": ",".join(names), "steps": str(MINI_STEPS), "lr": str(MINI_LR),
            "warmup": str(MINI_WARMUP), "weight_decay": str(MINI_WD),
            "transformers": transformers.__version__, "torch": torch.__version__}
    save_file({k: v.contiguous() for k, v in tensors.items()},
              os.path.join(folder, "reference.safetensors"), metadata=meta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-tiny", action="store_true")
    ap.add_argument("--skip-minilm", action="store_true")
    a = ap.parse_args()
    if not a.skip_tiny:
        gen_tiny()
    if not a.skip_minilm:
        gen_minilm()


if __name__ == "__main__":
    main()
