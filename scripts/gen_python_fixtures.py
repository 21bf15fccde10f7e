#!/usr/bin/env python3
"""Writes tests/data/pipeline/python.json.gz: what the transformers pipelines and
sentence-transformers return, as Python objects (lists of dicts with every key: "label",
"token_str", "sequence", "entity_group", "word", ...), on the tiny models of
tests/data/pipeline/models/, for the call forms the Python binding mirrors. The binding's tests
(bindings/python/tests/test_pipelines.py) compare their answers with these: same structure, same
keys and strings, numbers within 1e-4.

Run with the reference environment:
    /work/main/.venv-ref/bin/python scripts/gen_python_fixtures.py
Deterministic; CPU only; a few seconds.
"""
import gzip
import json
import os
import warnings

import numpy as np
import torch
import transformers
from transformers import pipeline

warnings.filterwarnings("ignore")
transformers.logging.set_verbosity_error()
torch.set_num_threads(2)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(REPO, "tests", "data", "pipeline", "models")
OUT = os.path.join(REPO, "tests", "data", "pipeline", "python.json.gz")

TEXTS = ["gives us a reason to care about them", "a", "John Smith moved from Paris to New York.",
         "Unaffable UNAFFABLE unaffable, naïve café — “quotes”!", "   spaces   everywhere   "]


def plain(x):
    """numpy scalars and arrays to Python numbers and lists."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def main():
    cases = []

    def add(kind, model, args, kwargs, result):
        cases.append({"kind": kind, "model": model, "args": args, "kwargs": kwargs,
                      "result": plain(result)})

    for name in ("seqcls", "multilabel", "regression"):
        p = pipeline("text-classification", model=os.path.join(MODELS, name), device="cpu")
        add("classify", name, [TEXTS[0]], {}, p(TEXTS[0]))
        add("classify", name, [TEXTS], {}, p(TEXTS))
        add("classify", name, [TEXTS[0]], {"top_k": None}, p(TEXTS[0], top_k=None))
        add("classify", name, [TEXTS], {"top_k": 2}, p(TEXTS, top_k=2))
        pair = {"text": "A man is playing a guitar.", "text_pair": "A man plays the guitar."}
        add("classify", name, [pair], {"top_k": None}, p(pair, top_k=None))
        add("classify", name, [[pair, {"text": "a", "text_pair": "b"}]], {},
            p([pair, {"text": "a", "text_pair": "b"}]))
    p = pipeline("text-classification", model=os.path.join(MODELS, "seqcls"), device="cpu")
    for fn in ("sigmoid", "softmax", "none"):
        add("classify", "seqcls", [TEXTS], {"top_k": None, "function_to_apply": fn},
            p(TEXTS, top_k=None, function_to_apply=fn))

    p = pipeline("fill-mask", model=os.path.join(MODELS, "mlm"), device="cpu")
    one = "the [MASK] is good ."
    two = "[MASK] and [MASK] again , a [MASK] ."
    add("fill_mask", "mlm", [one], {}, p(one))
    add("fill_mask", "mlm", [two], {"top_k": 3}, p(two, top_k=3))
    add("fill_mask", "mlm", [[one, two, "a [MASK]"]], {"top_k": 2},
        p([one, two, "a [MASK]"], top_k=2))

    for name in ("tagger", "tagger2"):
        p = pipeline("token-classification", model=os.path.join(MODELS, name), device="cpu")
        for agg in ("none", "simple", "first", "average", "max"):
            kw = {} if agg == "none" else {"aggregation_strategy": agg}
            add("tag", name, [TEXTS[2]], kw, p(TEXTS[2], **kw))
            add("tag", name, [TEXTS], kw, p(TEXTS, **kw))

    doc = {"versions": {"transformers": transformers.__version__, "torch": torch.__version__},
           "cases": cases}
    with open(OUT, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                               mtime=0) as f:
        f.write(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
