#!/usr/bin/env python3
"""Loads a model folder (e.g. one written by liblm's lm_model_save) with Hugging Face transformers
and compares its outputs with a fixture (an expected.safetensors of tests/data/model/tiny/<case>/).

    PY=$(LM_PYENV=/work/main/.venv-ref bash scripts/pyenv.sh)
    $PY scripts/check_saved_model.py DIR FIXTURE [--tol 1e-4]

The class comes from config.json's "architectures" (BertModel when absent); weights are loaded in
float32 whatever their stored dtype. The inputs (input_ids, token_type_ids, attention_mask) come
from the fixture; every output present in both is compared (logits, start_logits, end_logits,
last_hidden_state, pooler_output). Prints one line per output with the max abs diff, then
"OK" or "FAIL"; the exit status is 0 only when every diff <= tol and no output was missing.
"""
import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file

import transformers


def main():
    ap = argparse.ArgumentParser(description="compare a saved model folder with a fixture")
    ap.add_argument("dir")
    ap.add_argument("fixture")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()

    with open(os.path.join(args.dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    arch = (cfg.get("architectures") or ["BertModel"])[0]
    cls = getattr(transformers, arch, None)
    if cls is None:
        print(f"FAIL: unknown architecture {arch}")
        return 2
    model = cls.from_pretrained(args.dir, dtype=torch.float32).eval()
    fx = load_file(args.fixture)
    inputs = {k: fx[k] for k in ("input_ids", "token_type_ids", "attention_mask") if k in fx}
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True)
        base = model if arch == "BertModel" else getattr(model, "bert", model)
        bout = base(**inputs)
    got = {}
    for name in ("logits", "start_logits", "end_logits"):
        v = getattr(out, name, None)
        if v is not None:
            got[name] = v
    got["last_hidden_state"] = bout.last_hidden_state
    if getattr(bout, "pooler_output", None) is not None:
        got["pooler_output"] = bout.pooler_output
    ok = True
    compared = 0
    for name in ("logits", "start_logits", "end_logits", "last_hidden_state", "pooler_output"):
        if name not in fx:
            continue
        if name not in got:
            print(f"{name}: missing from the loaded model's outputs")
            ok = False
            continue
        if tuple(got[name].shape) != tuple(fx[name].shape):
            print(f"{name}: shape {tuple(got[name].shape)} != fixture {tuple(fx[name].shape)}")
            ok = False
            continue
        diff = (got[name].float() - fx[name].float()).abs().max().item()
        print(f"{name}: max abs diff {diff:.3g}")
        compared += 1
        if not diff <= args.tol:
            ok = False
    if compared == 0:
        print("nothing to compare")
        ok = False
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
