#!/usr/bin/env python3
"""Writes the text-level (pipeline) reference fixtures under tests/data/pipeline/ (layout:
tests/data/pipeline/README.md).

(a) minilm.json.gz: sentence-transformers `encode` of the real all-MiniLM-L6-v2 on sentences of
    every length, including lines far longer than its max_seq_length (256).
(b) models/<name>/: tiny random models for the text pipelines, made from the weights of
    tests/data/model/tiny/ with a real WordPiece vocabulary of the same size (words and ## pieces
    of the uncased BERT vocabulary most frequent in SST-2 / SQuAD), label names that mean
    something (B-PER/I-PER/O for tagging) and tokenizer_config.json model_max_length 64.
(c) tiny.json: the transformers pipelines on those models: text-classification (single-label,
    multi-label, regression, one-output, pairs, each function_to_apply), fill-mask (several masks
    per text), token-classification (every aggregation_strategy) and question answering (long
    contexts cut into several windows), plus sentence-transformers `encode` of a folder without
    sentence-transformers files.

transformers 5 removed the question-answering pipeline. The QA reference here is
`qa_pipeline()`, a statement of the last one (transformers 4.57 QuestionAnsweringPipeline with a
fast tokenizer: preprocess, select_starts_ends, decode_spans, postprocess with align_to_words)
run on the 5.x tokenizer and model; its answers were checked equal to transformers 4.57's own
pipeline when this script was written.

Run with the reference environment:
    /work/main/.venv-ref/bin/python scripts/gen_pipeline_fixtures.py
Deterministic; CPU only; takes about a minute.
"""
import argparse
import collections
import gzip
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch

import transformers
from transformers import AutoModelForQuestionAnswering, AutoTokenizer, BertTokenizerFast, pipeline

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "data", "pipeline")
TINY = os.path.join(REPO, "tests", "data", "model", "tiny")
SHARED = os.path.join(os.path.dirname(REPO), "shared", "data")
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/data"

torch.set_num_threads(2)


def versions():
    import sentence_transformers
    return {"transformers": transformers.__version__, "torch": torch.__version__,
            "sentence_transformers": sentence_transformers.__version__}


def write_json_gz(path, doc):
    """JSON, gzip-compressed with no time stamp in the header (same input, same bytes)."""
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                 compresslevel=9, mtime=0) as gz:
        gz.write((json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8"))


def read_tsv_column(path, col, skip_header=True):
    rows = []
    with open(path, encoding="utf-8") as f:
        if skip_header:
            next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) > col:
                rows.append(parts[col].strip())
    return rows


def sst2():
    return read_tsv_column(os.path.join(SHARED, "sst2", "dev.tsv"), 0)


def squad():
    with open(os.path.join(SHARED, "squad", "dev.json"), encoding="utf-8") as f:
        d = json.load(f)
    out = []
    for art in d["data"]:
        for p in art["paragraphs"]:
            out.append((p["context"], [q["question"] for q in p["qas"]]))
    return out


def wnut():
    sents, cur = [], []
    with open(os.path.join(SHARED, "wnut17", "dev.conll"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if cur:
                    sents.append(" ".join(cur))
                cur = []
            else:
                cur.append(line.split("\t")[0])
    if cur:
        sents.append(" ".join(cur))
    return sents


def long_line(rows, start, tok, target):
    """SST-2 lines joined until the text has at least `target` tokens (with [CLS]/[SEP])."""
    text, i = "", start
    while len(tok(text)["input_ids"]) < target:
        text = (text + " " + rows[i % len(rows)]).strip()
        i += 1
    return text


# ---------------------------------------------------------------- (a) all-MiniLM-L6-v2


def gen_minilm(model_dir):
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(model_dir, device="cpu")
    tok = AutoTokenizer.from_pretrained(model_dir)
    rows = sst2()
    texts = [rows[i] for i in range(0, 6000, 400)]  # 15 SST-2 lines of various lengths
    texts += ["", "a", "Hello, World!", "naïve café — “quotes” and emoji 🙂 and 中文字符",
              "   spaces   everywhere   ", "The cat sits on the mat.", "A cat is sitting on a mat.",
              "Stock markets fell sharply today."]
    for k, target in enumerate([250, 256, 257, 300, 402, 700, 1500]):
        texts.append(long_line(rows, 100 + 97 * k, tok, target))
    lengths = [len(tok(t)["input_ids"]) for t in texts]
    emb = st.encode(texts, batch_size=8, convert_to_numpy=True)
    print(f"minilm: {len(texts)} texts, {min(lengths)}..{max(lengths)} tokens, "
          f"max_seq_length {st.max_seq_length}")
    doc = {"model": "sentence-transformers/all-MiniLM-L6-v2", "max_seq_length": st.max_seq_length,
           "versions": versions(), "texts": texts, "tokens": lengths,
           "embeddings": [[float(f"{x:.8g}") for x in row] for row in emb.tolist()]}
    write_json_gz(os.path.join(OUT, "minilm.json.gz"), doc)


# ---------------------------------------------------------------- (b) tiny pipeline models

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789") + list(".,!?'\"-:;()&$%/")
CONT = ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]

# name: (source case in tests/data/model/tiny, config changes)
MODELS = {
    "seqcls": ("seqcls-relu-f32", {"id2label": {0: "negative", 1: "neutral", 2: "positive"},
                                   "problem_type": "single_label_classification"}),
    "multilabel": ("seqcls-gelu_new-bf16", {"id2label": {0: "sports", 1: "politics", 2: "science"},
                                            "problem_type": "multi_label_classification"}),
    "regression": ("regression-gelu-bf16", {"id2label": {0: "similarity"},
                                            "problem_type": "regression"}),
    "onelabel": ("regression-gelu_new-f32", {"id2label": {0: "acceptable"}, "problem_type": None}),
    "tagger": ("tokcls-gelu_new-f16", {"id2label": {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC",
                                                    4: "I-LOC"}}),
    "tagger2": ("tokcls-gelu-f32", {"id2label": {0: "O", 1: "PER", 2: "LOC", 3: "B-MISC",
                                                 4: "I-MISC"}}),
    "qa": ("qa-relu-f32", {}),
    "mlm": ("mlm-gelu-bf16", {}),
}


def corpus_counts(base_tok):
    counts = collections.Counter()
    texts = sst2()[:3000] + [c for c, _ in squad()[:60]] + wnut()[:300]
    for t in texts:
        counts.update(base_tok.tokenize(t))
    return counts


def build_vocab(size, counts):
    vocab = SPECIAL + CHARS + CONT
    seen = set(vocab)
    for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= size:
            break
        if t not in seen and not t.startswith("["):
            vocab.append(t)
            seen.add(t)
    assert len(vocab) == size, (len(vocab), size)
    return vocab


def make_models(counts):
    root = os.path.join(OUT, "models")
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)
    for name, (case, change) in MODELS.items():
        src = os.path.join(TINY, case)
        dst = os.path.join(root, name)
        os.makedirs(dst)
        shutil.copyfile(os.path.join(src, "model.safetensors"), os.path.join(dst, "model.safetensors"))
        with open(os.path.join(src, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        if "id2label" in change:
            cfg["id2label"] = {str(k): v for k, v in change["id2label"].items()}
            cfg["label2id"] = {v: k for k, v in change["id2label"].items()}
        if "problem_type" in change:
            if change["problem_type"] is None:
                cfg.pop("problem_type", None)
            else:
                cfg["problem_type"] = change["problem_type"]
        with open(os.path.join(dst, "config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        with open(os.path.join(dst, "vocab.txt"), "w", encoding="utf-8") as f:
            for t in build_vocab(cfg["vocab_size"], counts):
                f.write(t + "\n")
        with open(os.path.join(dst, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({"do_lower_case": True, "tokenize_chinese_chars": True, "strip_accents": None,
                       "model_max_length": 64, "tokenizer_class": "BertTokenizer"}, f, indent=2)
            f.write("\n")
        print(f"models/{name}: from {case}, vocab {cfg['vocab_size']}")


def balance_tagger(name, texts):
    """Shifts the classifier bias by minus the mean logit of each label over the fixture texts, so
    that random weights predict every label (O, B-, I-) and the groupings have work to do."""
    from safetensors.torch import load_file, save_file
    from transformers import BertForTokenClassification
    d = os.path.join(OUT, "models", name)
    tok = AutoTokenizer.from_pretrained(d)
    model = BertForTokenClassification.from_pretrained(d, dtype=torch.float32).eval()
    enc = tok(texts, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits
    mask = enc["attention_mask"].bool()
    mean = logits[mask].mean(0)
    path = os.path.join(d, "model.safetensors")
    w = load_file(path)
    b = w["classifier.bias"]
    w["classifier.bias"] = (b.float() - mean).to(b.dtype)
    save_file({k: v.contiguous() for k, v in w.items()}, path, metadata={"format": "pt"})


# ---------------------------------------------------------------- (c) pipelines


def load_pipe(task, name):
    d = os.path.join(OUT, "models", name)
    return pipeline(task, model=d, tokenizer=d, device="cpu", dtype=torch.float32)


def texts_for_tiny(tok):
    rows = sst2()
    w = wnut()
    texts = [rows[7], rows[123], rows[2024], w[3], w[10], w[44], w[101],
             "John Smith moved from Paris to New York in 2019.",
             "Unaffable UNAFFABLE unaffable, naïve café — “quotes”!",
             "中文 and emoji 🙂 mixed with Ünïcödé", "   spaces   everywhere   ", "a", "",
             "The quick brown fox's well-known jump (again) cost $12.50!"]
    texts.append(long_line(rows, 300, tok, 80))   # truncated at 64
    texts.append(long_line(rows, 900, tok, 150))
    return texts


def f(x):
    return float(f"{float(x):.8g}")


def gen_classification(doc, tok, texts):
    rows = read_tsv_column(os.path.join(SHARED, "stsb", "dev.tsv"), 0)
    rows2 = read_tsv_column(os.path.join(SHARED, "stsb", "dev.tsv"), 1)
    pairs = [(rows[i], rows2[i]) for i in (0, 5, 17, 40)]
    pairs.append(("A man is playing a guitar.", ""))
    pairs.append((long_line(sst2(), 50, tok, 50), long_line(sst2(), 60, tok, 40)))  # truncated
    cases = []
    for name in ("seqcls", "multilabel", "regression", "onelabel"):
        pipe = load_pipe("text-classification", name)
        fns = [None] if name != "seqcls" else [None, "sigmoid", "softmax", "none"]
        for fn in fns:
            kw = {} if fn is None else {"function_to_apply": fn}
            single = pipe(texts, top_k=None, truncation=True, **kw)
            paired = pipe([{"text": a, "text_pair": b} for a, b in pairs], top_k=None,
                          truncation=True, **kw)
            label2id = pipe.model.config.label2id
            conv = lambda res: [[[label2id[r["label"]], f(r["score"])] for r in rr] for rr in res]
            cases.append({"model": name, "function_to_apply": fn or "default",
                          "texts": texts, "results": conv(single),
                          "pairs": [list(p) for p in pairs], "pair_results": conv(paired)})
            # the default top_k (1) gives the best label: the first of the sorted list
            top1 = pipe(texts[:3], truncation=True, **kw)
            for r, full in zip(top1, single):
                assert r["label"] == full[0]["label"] and abs(r["score"] - full[0]["score"]) < 1e-7
    doc["classification"] = cases


def gen_fill_mask(doc, tok):
    rows = sst2()
    texts = ["the movie was [MASK] .", "[MASK] is a [MASK] , [MASK] film !",
             "Paris is the [MASK] of France.", "[MASK]", "no spaces:[MASK][MASK]end",
             rows[55] + " [MASK] " + rows[56], "naïve [MASK] café 🙂 中文"]
    texts.append("[MASK] " + long_line(rows, 400, tok, 90) + " [MASK]")  # the second is cut off
    pipe = load_pipe("fill-mask", "mlm")
    cases = []
    for top_k in (5, 3):
        res = pipe(texts, top_k=top_k, tokenizer_kwargs={"truncation": True})
        out = []
        for r in res:
            if r and isinstance(r[0], dict):
                r = [r]  # one mask: a flat list
            out.append([[[c["token"], f(c["score"])] for c in m] for m in r])
        cases.append({"top_k": top_k, "texts": texts, "results": out})
    doc["fill_mask"] = cases


def gen_tagging(doc, texts):
    cases = []
    for name in ("tagger", "tagger2"):
        for agg in ("none", "simple", "first", "average", "max"):
            pipe = load_pipe("token-classification", name)
            res = pipe(texts, aggregation_strategy=agg)
            out = []
            for ents in res:
                row = []
                for e in ents:
                    row.append({"entity": e.get("entity", e.get("entity_group")),
                                "score": f(e["score"]), "index": e.get("index", -1),
                                "start": e["start"], "end": e["end"]})
                out.append(row)
            cases.append({"model": name, "aggregation": agg, "texts": texts, "results": out})
    doc["tagging"] = cases


# ---- question answering: transformers 4.57's pipeline, stated on the 5.x tokenizer and model


def qa_select_starts_ends(start, end, p_mask, attention_mask, min_null_score, top_k,
                          handle_impossible_answer, max_answer_len):
    undesired_tokens = np.abs(np.array(p_mask) - 1)
    if attention_mask is not None:
        undesired_tokens = undesired_tokens & attention_mask
    undesired_tokens_mask = undesired_tokens == 0.0
    start = np.where(undesired_tokens_mask, -10000.0, start)
    end = np.where(undesired_tokens_mask, -10000.0, end)
    start = np.exp(start - start.max(axis=-1, keepdims=True))
    start = start / start.sum()
    end = np.exp(end - end.max(axis=-1, keepdims=True))
    end = end / end.sum()
    if handle_impossible_answer:
        min_null_score = min(min_null_score, (start[0, 0] * end[0, 0]).item())
    start[0, 0] = end[0, 0] = 0.0
    # decode_spans
    outer = np.matmul(np.expand_dims(start, -1), np.expand_dims(end, 1))
    candidates = np.tril(np.triu(outer), max_answer_len - 1)
    scores_flat = candidates.flatten()
    if top_k == 1:
        idx_sort = [np.argmax(scores_flat)]
    elif len(scores_flat) < top_k:
        idx_sort = np.argsort(-scores_flat)
    else:
        idx = np.argpartition(-scores_flat, top_k)[0:top_k]
        idx_sort = idx[np.argsort(-scores_flat[idx])]
    starts, ends = np.unravel_index(idx_sort, candidates.shape)[1:]
    desired = np.isin(starts, undesired_tokens.nonzero()) & np.isin(ends, undesired_tokens.nonzero())
    starts, ends = starts[desired], ends[desired]
    return starts, ends, candidates[0, starts, ends], min_null_score


def qa_pipeline(tok, model, question, context, top_k=1, doc_stride=None, max_answer_len=15,
                max_seq_len=None, handle_impossible_answer=False):
    if max_seq_len is None:
        max_seq_len = min(tok.model_max_length, 384)
    if doc_stride is None:
        doc_stride = min(max_seq_len // 2, 128)
    enc = tok(text=question, text_pair=context, padding="do_not_pad", truncation="only_second",
              max_length=max_seq_len, stride=doc_stride, return_token_type_ids=True,
              return_overflowing_tokens=True, return_offsets_mapping=True,
              return_special_tokens_mask=True)
    min_null_score = 1000000
    answers = []
    pre_topk = top_k * 2 + 10
    for span in range(len(enc["input_ids"])):
        ids = enc["input_ids"][span]
        p_mask = [tok_seq != 1 for tok_seq in enc.sequence_ids(span)]
        for i, t in enumerate(ids):
            if t == tok.cls_token_id:
                p_mask[i] = 0
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]),
                        token_type_ids=torch.tensor([enc["token_type_ids"][span]]),
                        attention_mask=torch.tensor([enc["attention_mask"][span]]))
        attention = np.array([enc["attention_mask"][span]])
        starts, ends, scores, min_null_score = qa_select_starts_ends(
            out.start_logits.numpy(), out.end_logits.numpy(), p_mask, attention, min_null_score,
            pre_topk, handle_impossible_answer, max_answer_len)
        e = enc[span]
        for s, en, score in zip(starts, ends, scores):
            try:  # align_to_words (the default)
                start_index = e.word_to_chars(e.token_to_word(s), sequence_index=1)[0]
                end_index = e.word_to_chars(e.token_to_word(en), sequence_index=1)[1]
            except Exception:
                start_index, end_index = e.offsets[s][0], e.offsets[en][1]
            target = context[start_index:end_index]
            same = [a for a in answers if a["answer"].lower() == target.lower()]
            if same:
                same[0]["score"] += score.item()
            else:
                answers.append({"score": score.item(), "start": start_index, "end": end_index,
                                "answer": target})
    if handle_impossible_answer:
        answers.append({"score": min_null_score, "start": 0, "end": 0, "answer": ""})
    return sorted(answers, key=lambda x: x["score"], reverse=True)[:top_k]


def gen_qa(doc):
    d = os.path.join(OUT, "models", "qa")
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModelForQuestionAnswering.from_pretrained(d, dtype=torch.float32).eval()
    paras = squad()
    items = []
    # short questions: words split into many pieces in the tiny vocabulary, and a question must
    # leave more than doc_stride tokens for the context (the tokenizer refuses otherwise)
    for ctx, q in zip([c for c, _ in paras[:40:5]], ["Who ruled?", "When was it?", "What year?",
                                                      "Where is the city?", "Which one?",
                                                      "Who was the king?", "What name?",
                                                      "How many?"]):
        items.append((q, ctx))
    items.append(("Who?", "John Smith met Mary in Paris."))
    items.append(("Where did the naïve café open?",
                  "The naïve café — “Chez Ünïcödé” 🙂 — opened in Zürich (中文) in 2019."))
    items.append(("What is unaffable?", "Unaffable UNAFFABLE unaffable people are unaffable."))
    settings = [{}, {"top_k": 3}, {"handle_impossible_answer": True},
                {"max_seq_len": 48, "doc_stride": 16, "max_answer_len": 5, "top_k": 2},
                {"max_seq_len": 40, "doc_stride": 8, "handle_impossible_answer": True, "top_k": 4}]
    cases = []
    for kw in settings:
        results = []
        windows = []
        for q, c in items:
            ans = qa_pipeline(tok, model, q, c, **kw)
            for a in ans:
                assert c[a["start"]:a["end"]] == a["answer"]
            results.append([[f(a["score"]), a["start"], a["end"]] for a in ans])
            msl = kw.get("max_seq_len", 64)
            windows.append(len(tok(q, c, truncation="only_second", max_length=msl,
                                   stride=kw.get("doc_stride", min(msl // 2, 128)),
                                   return_overflowing_tokens=True)["input_ids"]))
        cases.append({"options": kw, "questions": [q for q, _ in items],
                      "contexts": [c for _, c in items], "windows": windows, "results": results})
    doc["qa"] = cases
    print(f"qa: {len(items)} questions, windows per setting: {[c['windows'] for c in cases]}")


def gen_tiny_embed(doc, texts):
    from sentence_transformers import SentenceTransformer
    d = os.path.join(OUT, "models", "mlm")
    st = SentenceTransformer(d, device="cpu")
    emb = st.encode(texts, batch_size=4, convert_to_numpy=True)
    doc["embed"] = {"model": "mlm", "max_seq_length": st.max_seq_length, "texts": texts,
                    "embeddings": [[f(x) for x in row] for row in emb.tolist()]}


def gen_tiny():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copyfile(os.path.join(SHARED, "vocab", "bert-base-uncased.txt"),
                        os.path.join(tmp, "vocab.txt"))
        base = BertTokenizerFast.from_pretrained(tmp)
        assert base.tokenize("Hello unaffable") == ["hello", "una", "##ffa", "##ble"]
    make_models(corpus_counts(base))
    tok = AutoTokenizer.from_pretrained(os.path.join(OUT, "models", "seqcls"))
    assert tok.is_fast and tok.model_max_length == 64
    texts = texts_for_tiny(tok)
    for name in ("tagger", "tagger2"):
        balance_tagger(name, texts)
    doc = {"versions": versions()}
    gen_classification(doc, tok, texts)
    gen_fill_mask(doc, tok)
    gen_tagging(doc, texts)
    gen_qa(doc)
    gen_tiny_embed(doc, texts)
    write_json_gz(os.path.join(OUT, "tiny.json.gz"), doc)
    print(f"tiny: {len(texts)} texts")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-minilm", action="store_true")
    ap.add_argument("--skip-tiny", action="store_true")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not args.skip_tiny:
        gen_tiny()
    if not args.skip_minilm:
        model_dir = subprocess.check_output(
            ["bash", os.path.join(REPO, "scripts", "find_minilm.sh")], text=True).strip()
        gen_minilm(model_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
