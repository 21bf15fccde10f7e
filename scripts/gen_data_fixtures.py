#!/usr/bin/env python3
"""Writes the data-layer fixtures under tests/data/datasets/ from ../shared/data with Hugging Face
transformers (fast BertTokenizer), scikit-learn, scipy and seqeval in the reference venv:

    PY=$(LM_PYENV=/work/main/.venv-ref bash scripts/pyenv.sh seqeval scipy scikit-learn)
    $PY scripts/gen_data_fixtures.py

Sample files (small, committed, read by `make check`): sst2.tsv, stsb.tsv, rte.tsv, sst2.csv
(with quotes, commas and a newline inside quoted fields), stsb.jsonl, wnut17.conll (50
sentences), squad.json (30 questions), text.txt (lines for masked LM).

Fixtures (gzip'd JSON):
  features.json.gz  the rows transformers' example scripts make from the samples:
                    run_glue (ids, type ids, label ids), run_ner tokenize_and_align_labels
                    (label_all_tokens off and on), run_qa prepare_train_features /
                    prepare_validation_features (windows, start/end, offsets), the QA answers of
                    postprocess_qa_predictions for seeded random logits, run_mlm group_texts.
  metrics.json.gz   accuracy / F1 / confusion (sklearn), Pearson / Spearman (scipy), seqeval
                    entity scores, SQuAD v1.1 exact match / F1 (the official script's functions,
                    copied below), on seeded random inputs.
The functions from run_qa / utils_qa / run_ner / run_mlm are copied from transformers' examples
(Apache-2.0), reduced to the default arguments, because the examples are not in the package."""
import collections
import csv
import gzip
import io
import json
import os
import random
import re
import shutil
import string
import sys
import tempfile
from collections import Counter
from itertools import chain

import numpy as np
from scipy import stats
from seqeval.metrics import accuracy_score as seq_accuracy
from seqeval.metrics import classification_report
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from transformers import BertTokenizer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "data")
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/data"
OUT = os.path.join(REPO, "tests", "data", "datasets")


def tokenizer():
    d = tempfile.mkdtemp(prefix="lm-dataref-")
    shutil.copy(os.path.join(SHARED, "vocab", "bert-base-uncased.txt"), os.path.join(d, "vocab.txt"))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer"}, f)
    tok = BertTokenizer.from_pretrained(d, do_lower_case=True)
    shutil.rmtree(d)
    assert tok.is_fast
    return tok


def write_text(name, text):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="") as f:
        f.write(text)
    print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes")


def write_gz(name, obj):
    path = os.path.join(OUT, name)
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as f:
        f.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    print(f"{name}: {os.path.getsize(path)} bytes")


# ---- samples ----

def read_tsv(path):
    # newline="": stsb/train.tsv has a "\r" at the end of its second column (kept out of samples)
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").split("\n")
    return [[c.rstrip("\r") for c in line.split("\t")] for line in lines if line]


def pick(rows, n, rng):
    header, body = rows[0], rows[1:]
    return [header] + rng.sample(body, n)


def conll_sentences(path):
    sents, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if cur:
                    sents.append(cur)
                cur = []
                continue
            tok, tag = line.split("\t")
            cur.append((tok, tag))
    if cur:
        sents.append(cur)
    return sents


def make_samples(rng):
    s = {}
    sst2 = pick(read_tsv(os.path.join(SHARED, "sst2", "train.tsv")), 40, rng)
    stsb = pick(read_tsv(os.path.join(SHARED, "stsb", "train.tsv")), 30, rng)
    rte = pick(read_tsv(os.path.join(SHARED, "rte", "train.tsv")), 12, rng)
    write_text("sst2.tsv", "".join("\t".join(r) + "\n" for r in sst2))
    write_text("stsb.tsv", "".join("\t".join(r) + "\n" for r in stsb))
    write_text("rte.tsv", "".join("\t".join(r) + "\n" for r in rte))
    # CSV: the SST-2 rows with some texts made to need quoting
    csv_rows = [["sentence", "label"]]
    for i, (text, label) in enumerate(sst2[1:]):
        if i == 3:
            text = 'he said "no , never" , twice'
        if i == 5:
            text = "two lines\nin one field"
        csv_rows.append([text, label])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(csv_rows)
    write_text("sst2.csv", buf.getvalue())
    s["sst2_csv"] = csv_rows
    write_text("stsb.jsonl", "".join(json.dumps({"sentence1": a, "sentence2": b, "score": float(c)},
                                                ensure_ascii=False) + "\n" for a, b, c in stsb[1:]))
    sents = conll_sentences(os.path.join(SHARED, "wnut17", "train.conll"))
    plain = [x for x in sents[:200] if all(ord(c) < 128 for t, _ in x for c in t)]
    dev = conll_sentences(os.path.join(SHARED, "wnut17", "dev.conll"))
    fancy = [x for x in dev if any(ord(c) >= 128 for t, _ in x for c in t)]  # train is ASCII
    wnut = plain[:38] + fancy[:12]
    write_text("wnut17.conll", "-DOCSTART-\tO\n\n" + "".join(
        "".join(f"{t}\t{g}\n" for t, g in x) + "\n" for x in wnut))
    # SQuAD: the first paragraph (CJK, accents) and long paragraphs, 30 questions in all
    with open(os.path.join(SHARED, "squad", "dev.json"), encoding="utf-8") as f:
        dev = json.load(f)
    paras = [(a["title"], p) for a in dev["data"] for p in a["paragraphs"]]
    chosen = [paras[0]] + sorted(paras[1:], key=lambda tp: -len(tp[1]["context"]))[:3] + paras[5:40]
    data, count = [], 0
    for title, p in chosen:
        qas = []
        for qa in p["qas"]:
            if count == 30:
                break
            qas.append(qa)
            count += 1
        if qas:
            data.append({"title": title, "paragraphs": [{"context": p["context"], "qas": qas}]})
    write_text("squad.json", json.dumps({"version": "1.1", "data": data}, ensure_ascii=False))
    lines = [r[0].strip() for r in read_tsv(os.path.join(SHARED, "sst2", "dev.tsv"))[1:161]]
    write_text("text.txt", "".join(line + "\n" for line in lines))
    s.update(sst2=sst2, stsb=stsb, rte=rte, wnut=wnut, squad=data, text=lines)
    return s


# ---- run_glue ----

def glue_rows(tok, rows, text_keys, label_key, max_length, regression=False):
    header, body = rows[0], rows[1:]
    cols = [header.index(k) for k in text_keys]
    li = header.index(label_key)
    if regression:
        labels = [float(r[li]) for r in body]
        label_list = None
    else:
        vals = [r[li] for r in body]
        if all(re.fullmatch(r"[+-]?\d+", v) for v in vals):
            vals = [int(v) for v in vals]
        label_list = sorted(set(vals))
        labels = [label_list.index(v) for v in vals]
    args = [[r[c] for r in body] for c in cols]
    enc = tok(*args, max_length=max_length, truncation=True)
    return {"max_length": max_length, "label_list": [str(x) for x in label_list] if label_list else None,
            "ids": enc["input_ids"], "type": enc["token_type_ids"], "labels": labels}


# ---- run_ner ----

def ner_rows(tok, sents, max_length, label_all_tokens):
    label_list = sorted({g for x in sents for _, g in x})
    label_to_id = {l: i for i, l in enumerate(label_list)}
    b_to_i_label = []
    for idx, label in enumerate(label_list):
        if label.startswith("B-") and label.replace("B-", "I-") in label_list:
            b_to_i_label.append(label_list.index(label.replace("B-", "I-")))
        else:
            b_to_i_label.append(idx)
    words = [[t for t, _ in x] for x in sents]
    tags = [[g for _, g in x] for x in sents]
    tokenized_inputs = tok(words, padding=False, truncation=True, max_length=max_length,
                           is_split_into_words=True)
    labels = []
    for i, label in enumerate(tags):
        word_ids = tokenized_inputs.word_ids(batch_index=i)
        previous_word_idx = None
        label_ids = []
        for word_idx in word_ids:
            if word_idx is None:
                label_ids.append(-100)
            elif word_idx != previous_word_idx:
                label_ids.append(label_to_id[label[word_idx]])
            else:
                if label_all_tokens:
                    label_ids.append(b_to_i_label[label_to_id[label[word_idx]]])
                else:
                    label_ids.append(-100)
            previous_word_idx = word_idx
        labels.append(label_ids)
    return {"max_length": max_length, "label_all_tokens": label_all_tokens, "label_list": label_list,
            "ids": tokenized_inputs["input_ids"], "labels": labels}


# ---- run_qa (prepare_train_features + prepare_validation_features, no padding) ----

def squad_examples(data):
    ex = []
    for a in data:
        for p in a["paragraphs"]:
            for qa in p["qas"]:
                ex.append({"id": qa["id"], "question": qa["question"], "context": p["context"],
                           "answers": {"text": [x["text"] for x in qa["answers"]],
                                       "answer_start": [x["answer_start"] for x in qa["answers"]]}})
    return ex


def qa_rows(tok, examples, max_seq_length, doc_stride):
    pad_on_right = tok.padding_side == "right"
    questions = [q["question"].lstrip() for q in examples]
    contexts = [q["context"] for q in examples]
    tokenized_examples = tok(questions, contexts, truncation="only_second", max_length=max_seq_length,
                             stride=doc_stride, return_overflowing_tokens=True,
                             return_offsets_mapping=True, padding=False)
    sample_mapping = tokenized_examples.pop("overflow_to_sample_mapping")
    offset_mapping = tokenized_examples["offset_mapping"]
    starts, ends, offsets = [], [], []
    for i, offs in enumerate(offset_mapping):
        input_ids = tokenized_examples["input_ids"][i]
        cls_index = input_ids.index(tok.cls_token_id)
        sequence_ids = tokenized_examples.sequence_ids(i)
        sample_index = sample_mapping[i]
        answers = examples[sample_index]["answers"]
        if len(answers["answer_start"]) == 0:
            starts.append(cls_index)
            ends.append(cls_index)
        else:
            start_char = answers["answer_start"][0]
            end_char = start_char + len(answers["text"][0])
            token_start_index = 0
            while sequence_ids[token_start_index] != (1 if pad_on_right else 0):
                token_start_index += 1
            token_end_index = len(input_ids) - 1
            while sequence_ids[token_end_index] != (1 if pad_on_right else 0):
                token_end_index -= 1
            if not (offs[token_start_index][0] <= start_char and offs[token_end_index][1] >= end_char):
                starts.append(cls_index)
                ends.append(cls_index)
            else:
                while token_start_index < len(offs) and offs[token_start_index][0] <= start_char:
                    token_start_index += 1
                starts.append(token_start_index - 1)
                while offs[token_end_index][1] >= end_char:
                    token_end_index -= 1
                ends.append(token_end_index + 1)
        # prepare_validation_features: offsets of the context only
        offsets.append([x for k, o in enumerate(offs)
                        for x in (o if sequence_ids[k] == 1 else (-1, -1))])
    return {"max_length": max_seq_length, "doc_stride": doc_stride, "example": sample_mapping,
            "ids": tokenized_examples["input_ids"], "type": tokenized_examples["token_type_ids"],
            "start": starts, "end": ends, "offsets": offsets}


def qa_logits(row, n, salt):
    """Logits the C test recomputes: ((hash % 20001) - 10000) / 1000 in float32."""
    t = np.arange(n, dtype=np.uint64)
    h = ((np.uint64(row) * np.uint64(1000003) + t * np.uint64(7919) + np.uint64(salt)) *
         np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)
    k = (h % np.uint64(20001)).astype(np.int64) - 10000
    return k.astype(np.float32) / np.float32(1000)


def postprocess_qa_predictions(examples, rows, all_start_logits, all_end_logits, n_best_size=20,
                               max_answer_length=30):
    """utils_qa.postprocess_qa_predictions with version_2_with_negative=False."""
    features_per_example = collections.defaultdict(list)
    for i, k in enumerate(rows["example"]):
        features_per_example[k].append(i)
    all_predictions = []
    for example_index, example in enumerate(examples):
        feature_indices = features_per_example[example_index]
        prelim_predictions = []
        for feature_index in feature_indices:
            start_logits = all_start_logits[feature_index]
            end_logits = all_end_logits[feature_index]
            flat = rows["offsets"][feature_index]
            offset_mapping = [None if flat[2 * k] < 0 else (flat[2 * k], flat[2 * k + 1])
                              for k in range(len(flat) // 2)]
            start_indexes = np.argsort(start_logits)[-1: -n_best_size - 1: -1].tolist()
            end_indexes = np.argsort(end_logits)[-1: -n_best_size - 1: -1].tolist()
            for start_index in start_indexes:
                for end_index in end_indexes:
                    if (start_index >= len(offset_mapping) or end_index >= len(offset_mapping)
                            or offset_mapping[start_index] is None
                            or len(offset_mapping[start_index]) < 2
                            or offset_mapping[end_index] is None
                            or len(offset_mapping[end_index]) < 2):
                        continue
                    if end_index < start_index or end_index - start_index + 1 > max_answer_length:
                        continue
                    prelim_predictions.append({
                        "offsets": (offset_mapping[start_index][0], offset_mapping[end_index][1]),
                        "score": start_logits[start_index] + end_logits[end_index]})
        predictions = sorted(prelim_predictions, key=lambda x: x["score"], reverse=True)[:n_best_size]
        context = example["context"]
        for pred in predictions:
            offsets = pred.pop("offsets")
            pred["text"] = context[offsets[0]: offsets[1]]
        if len(predictions) == 0 or (len(predictions) == 1 and predictions[0]["text"] == ""):
            predictions.insert(0, {"text": "empty", "score": 0.0})
        all_predictions.append(predictions[0]["text"])
    return all_predictions


# ---- run_mlm group_texts ----

def mlm_groups(tok, lines, max_seq_length, batch=1000):
    out = []
    for at in range(0, len(lines), batch):
        enc = tok(lines[at: at + batch], return_special_tokens_mask=True)
        ids = list(chain(*enc["input_ids"]))
        total_length = (len(ids) // max_seq_length) * max_seq_length
        out += [ids[i: i + max_seq_length] for i in range(0, total_length, max_seq_length)]
    return out


# ---- SQuAD v1.1 evaluate-v1.1.py (functions copied unchanged) ----

def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def squad_f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return (normalize_answer(prediction) == normalize_answer(ground_truth))


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)


# ---- metrics fixtures ----

def metric_cases(rng, samples):
    np_rng = np.random.default_rng(7)
    out = {"classification": [], "regression": [], "seqeval": [], "squad": []}
    for n, k in [(50, 2), (200, 3), (97, 5), (10, 4)]:
        gold = np_rng.integers(0, k, n).tolist()
        pred = [g if np_rng.random() < 0.6 else int(np_rng.integers(0, k)) for g in gold]
        if k == 4:
            pred = [min(p, 2) for p in pred]  # a class never predicted
        out["classification"].append({
            "k": k, "gold": gold, "pred": pred, "accuracy": accuracy_score(gold, pred),
            "f1_binary": f1_score(gold, pred, average="binary") if k == 2 else
            f1_score([int(g == 1) for g in gold], [int(p == 1) for p in pred]),
            "f1_macro": f1_score(gold, pred, average="macro", zero_division=0),
            "confusion": confusion_matrix(gold, pred, labels=list(range(k))).reshape(-1).tolist()})
    for n, ties in [(40, False), (100, True), (7, True), (500, False)]:
        x = np_rng.normal(size=n)
        y = x * 0.7 + np_rng.normal(size=n)
        if ties:
            x = np.round(x * 2) / 2
            y = np.round(y)
        out["regression"].append({"x": x.tolist(), "y": y.tolist(),
                                  "pearson": float(stats.pearsonr(x, y)[0]),
                                  "spearman": float(stats.spearmanr(x, y)[0])})
    # seqeval: random tag sequences over BIO, IOBES and odd tags
    tagsets = [["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
               ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"],
               ["O", "B-PER", "I-PER", "I-LOC", "B-MISC-X", "I-MISC-X", "PER", "I-", "B", ".", "X"]]
    for ts in tagsets:
        gold, pred = [], []
        for _ in range(60):
            n = int(np_rng.integers(1, 12))
            g = [ts[int(np_rng.integers(0, len(ts)))] for _ in range(n)]
            p = [t if np_rng.random() < 0.5 else ts[int(np_rng.integers(0, len(ts)))] for t in g]
            gold.append(g)
            pred.append(p)
        rep = classification_report(gold, pred, output_dict=True, zero_division=0)
        m = rep["micro avg"]
        out["seqeval"].append({"labels": ts, "gold": [[ts.index(t) for t in s] for s in gold],
                               "pred": [[ts.index(t) for t in s] for s in pred],
                               "precision": m["precision"], "recall": m["recall"],
                               "f1": m["f1-score"], "accuracy": seq_accuracy(gold, pred)})
    # SQuAD answers: golds of the sample, perturbed predictions, and hand-made hard cases
    ex = squad_examples(samples["squad"])
    cases = []
    for e in ex:
        golds = e["answers"]["text"]
        g = golds[0]
        words = e["context"].split()
        start = rng.randrange(len(words))
        variants = [g, g.upper(), "The " + g + ".", g[: max(1, len(g) // 2)],
                    " ".join(words[start: start + rng.randrange(1, 8)]), ""]
        for v in variants:
            cases.append((v, golds))
    hard = [("An apple, the pear & a fig!", ["apple pear fig"]),
            ("İstanbul", ["i̇stanbul"]), ("ΣΊΣΥΦΟΣ", ["σίσυφος"]), ("ΟΔΟΣ Α", ["οδος α"]),
            ("the the a an", ["", "the"]), ("théâtre", ["theatre"]), ("a\u00a0b\u3000c", ["a b c"]),
            ("an_apple", ["anapple"]), ("über-cool", ["übercool"]), ("2,000", ["2000"]),
            ("antenna", ["antenna"]), ("Ω-meter a", ["ω-meter"]), ("x\u0301the", ["x\u0301the"]),
            ("1\u00bd the", ["1\u00bd"]), ("ǅungla", ["ǆungla"]), ("the\u2028end", ["end"])]
    cases += hard
    for pred, golds in cases:
        out["squad"].append({"pred": pred, "golds": golds,
                             "em": float(metric_max_over_ground_truths(exact_match_score, pred, golds)),
                             "f1": float(metric_max_over_ground_truths(squad_f1_score, pred, golds)),
                             "norm": normalize_answer(pred)})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(1234)
    tok = tokenizer()
    s = make_samples(rng)
    feats = {}
    feats["sst2"] = [glue_rows(tok, s["sst2"], ["sentence"], "label", L) for L in (128, 12)]
    feats["sst2_csv"] = glue_rows(tok, s["sst2_csv"], ["sentence"], "label", 128)
    feats["rte"] = [glue_rows(tok, s["rte"], ["sentence1", "sentence2"], "label", L) for L in (128, 40)]
    feats["stsb"] = glue_rows(tok, s["stsb"], ["sentence1", "sentence2"], "score", 128, regression=True)
    feats["wnut"] = [ner_rows(tok, s["wnut"], L, a) for L, a in ((512, False), (512, True), (16, False))]
    ex = squad_examples(s["squad"])
    feats["squad"] = []
    for L, stride in ((384, 128), (128, 32)):
        rows = qa_rows(tok, ex, L, stride)
        start_logits = [qa_logits(r, len(ids), 1) for r, ids in enumerate(rows["ids"])]
        end_logits = [qa_logits(r, len(ids), 2) for r, ids in enumerate(rows["ids"])]
        rows["answers"] = postprocess_qa_predictions(ex, rows, start_logits, end_logits)
        feats["squad"].append(rows)
    feats["mlm"] = {"max_length": 64, "group_lines": 50, "blocks": mlm_groups(tok, s["text"], 64, 50),
                    "lines": tok(s["text"], truncation=True, max_length=32)["input_ids"]}
    write_gz("features.json.gz", feats)
    write_gz("metrics.json.gz", metric_cases(rng, s))
    n_win = {L["max_length"]: len(L["ids"]) for L in feats["squad"]}
    print(f"squad: {len(ex)} questions, windows {n_win}")


if __name__ == "__main__":
    sys.exit(main())
