#!/usr/bin/env python3
"""Checks that folders written by `lm train` (lm_fit) load in Hugging Face transformers with the
same outputs as in liblm: for each folder, transformers' class from config.json "architectures"
and its tokenizer load it; id2label / label2id / problem_type are read back; a few sentences are
tokenized by transformers and run by both transformers and liblm (lib/liblm.so through ctypes:
lm_model_classify, lm_model_token_logits, lm_model_qa_logits or lm_model_mlm_logits); the max abs
difference of the logits is printed. Exit status 0 only when every folder is within --tol.

    PY=$(LM_PYENV=/work/main/.venv-ref bash scripts/pyenv.sh)
    $PY scripts/check_finetuned.py DIR [DIR...] [--tol 1e-4]      (after make)
"""
import argparse
import ctypes
import json
import os
import sys

import numpy as np
import torch
import transformers

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENTENCES = ["I love programming.", "The weather is nice today.",
             "a gorgeous , witty , seductive movie .", "the worst [MASK] of the year ."]
QUESTIONS = [("who ruled the empire?", "The Yuan dynasty was ruled by Kublai Khan, a Mongol."),
             ("what is nice?", "The weather is nice today, and tomorrow too.")]


def liblm():
    lib = ctypes.CDLL(os.path.join(REPO, "lib", "liblm.so"))
    lib.lm_model_load.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.lm_last_error.restype = ctypes.c_char_p
    lib.lm_model_label_name.restype = ctypes.c_char_p
    lib.lm_model_label_name.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.lm_model_num_labels.restype = ctypes.c_size_t
    lib.lm_model_num_labels.argtypes = [ctypes.c_void_p]
    lib.lm_model_free.argtypes = [ctypes.c_void_p]
    return lib


def ptr(a, t=ctypes.c_int32):
    return a.ctypes.data_as(ctypes.POINTER(t))


def check(lib, d, tol):
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    arch = cfg["architectures"][0]
    model = getattr(transformers, arch).from_pretrained(d, dtype=torch.float32).eval()
    tok = transformers.AutoTokenizer.from_pretrained(d)
    conf = model.config
    if arch == "BertForQuestionAnswering":
        enc = tok([q for q, _ in QUESTIONS], [c for _, c in QUESTIONS], padding=True,
                  return_tensors="np")
    else:
        enc = tok(SENTENCES, padding=True, return_tensors="np")
    ids = np.ascontiguousarray(enc["input_ids"], dtype=np.int32)
    types = np.ascontiguousarray(enc["token_type_ids"], dtype=np.int32)
    mask = np.ascontiguousarray(enc["attention_mask"], dtype=np.int32)
    B, T = ids.shape
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids, dtype=torch.long),
                    token_type_ids=torch.tensor(types, dtype=torch.long),
                    attention_mask=torch.tensor(mask, dtype=torch.long))
    m = ctypes.c_void_p()
    if lib.lm_model_load(d.encode(), None, ctypes.byref(m)) != 0:
        return f"liblm cannot load it: {lib.lm_last_error().decode()}", False
    args = [m, ptr(ids), ptr(types), ptr(mask), ctypes.c_size_t(B), ctypes.c_size_t(T)]
    note = ""
    try:
        if arch == "BertForSequenceClassification":
            ref = out.logits.numpy()
            got = np.zeros_like(ref, dtype=np.float32)
            st = lib.lm_model_classify(*args, ptr(got, ctypes.c_float))
            names = [lib.lm_model_label_name(m, i).decode() for i in range(lib.lm_model_num_labels(m))]
            hf = [conf.id2label[i] for i in range(conf.num_labels)]
            if names != hf or any(conf.label2id[n] != i for i, n in enumerate(hf)):
                return f"labels differ: liblm {names}, transformers {hf}", False
            note = f"labels {hf}, problem_type {conf.problem_type}"
        elif arch == "BertForTokenClassification":
            ref = out.logits.numpy()
            got = np.zeros_like(ref, dtype=np.float32)
            st = lib.lm_model_token_logits(*args, ptr(got, ctypes.c_float))
            note = f"{conf.num_labels} labels ({conf.id2label[0]} ...)"
        elif arch == "BertForQuestionAnswering":
            ref = np.stack([out.start_logits.numpy(), out.end_logits.numpy()])
            got = np.zeros_like(ref, dtype=np.float32)
            st = lib.lm_model_qa_logits(*args, ptr(got[0], ctypes.c_float),
                                        ptr(got[1], ctypes.c_float))
        elif arch == "BertForMaskedLM":
            ref = out.logits.numpy()
            got = np.zeros_like(ref, dtype=np.float32)
            st = lib.lm_model_mlm_logits(*args, None, ctypes.c_size_t(0), ptr(got, ctypes.c_float))
        else:
            return f"unexpected architecture {arch}", False
        if st != 0:
            return f"liblm: {lib.lm_last_error().decode()}", False
        # padding positions are not compared (their values are arbitrary in both)
        if ref.ndim >= 3 or arch == "BertForQuestionAnswering":
            keep = mask.astype(bool) if arch != "BertForQuestionAnswering" else np.stack([mask, mask]).astype(bool)
            diff = float(np.max(np.abs(ref[keep] - got[keep])))
        else:
            diff = float(np.max(np.abs(ref - got)))
    finally:
        lib.lm_model_free(m)
    return f"{arch}: max abs diff {diff:.2e} {note}", diff <= tol


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    lib = liblm()
    bad = 0
    for d in a.dirs:
        msg, ok = check(lib, d, a.tol)
        print(f"{'OK  ' if ok else 'FAIL'} {d}: {msg}")
        bad += not ok
    print(f"{len(a.dirs) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
