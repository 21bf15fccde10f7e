#!/usr/bin/env python3
"""Writes tests/data/fit/base: a tiny base model (BertModel, with its pooler) for the fine-tuning
tests (tests/test_fit.c, tests/sh_train*.sh), as transformers saves one: the encoder and pooler of
tests/data/pipeline/models/seqcls (hidden 32, 2 layers, 64 positions, a 500-token vocabulary of
single characters and common pieces) without its classifier, plus that folder's tokenizer files.
A base model has no head, so lm_fit gives it a fresh one with the labels of the data.

    PY=$(LM_PYENV=/work/main/.venv-ref bash scripts/pyenv.sh)
    $PY scripts/gen_fit_fixtures.py
"""
import os
import shutil

import torch
from transformers import BertModel

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(REPO, "tests", "data", "pipeline", "models", "seqcls")
OUT = os.path.join(REPO, "tests", "data", "fit", "base")


def main():
    model = BertModel.from_pretrained(SRC, dtype=torch.float32)
    model.config.architectures = ["BertModel"]
    for k in ("id2label", "label2id", "problem_type"):
        if hasattr(model.config, k):
            try:
                delattr(model.config, k)
            except AttributeError:
                pass
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(SRC, name), os.path.join(OUT, name))
    print("wrote", OUT, sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
