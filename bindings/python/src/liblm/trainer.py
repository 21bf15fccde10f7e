"""Trainer: fine-tuning a Model in place with liblm's trainer (lm/trainer.h): step() and
evaluate() on batches of token ids, fit() on texts and labels with a progress callback (and a tqdm
bar when tqdm is installed)."""

from __future__ import annotations

import math
from ctypes import POINTER, byref, c_float, c_int32, c_void_p

import numpy as np

from . import _ffi
from ._ffi import lib
from .errors import StateError, UnsupportedError, check

OPTIMIZERS = {"adamw": 0, "adam": 1, "sgd": 2}
SCHEDULES = {"linear": 0, "cosine": 1, "constant": 2}


def _i32(a):
    return None if a is None else np.ascontiguousarray(a, dtype=np.int32)


def _p(a, ctype):
    return None if a is None else a.ctypes.data_as(POINTER(ctype))


class Trainer:
    """Trains `model` in place (its weights change; model.save() writes them).

    The options are those of transformers' TrainingArguments where it has one (learning_rate
    5e-5, AdamW, linear schedule, max_grad_norm 1.0, seed 42). The linear and cosine schedules
    need total_steps: fit() computes it from the data when it is left at 0; step() needs it
    given (or schedule="constant"). A trainer belongs to one thread; while it lives, the model
    must not be used from another thread. Use it as a context manager, or call close()."""

    def __init__(self, model, *, learning_rate=5e-5, optimizer="adamw", schedule="linear",
                 warmup_steps=0, total_steps=0, weight_decay=0.0, beta1=0.9, beta2=0.999,
                 eps=1e-8, momentum=0.0, nesterov=False, accumulation_steps=1,
                 max_grad_norm=1.0, dropout=True, threads=0, seed=42):
        if not _ffi.has_trainer:
            raise UnsupportedError(f"the liblm at {lib._lm_path} has no trainer (it arrived "
                                   "after 0.2.0)")
        o = _ffi.init_options(_ffi.TrainerOptions, lib.lm_trainer_options_init)
        o.optimizer = OPTIMIZERS[optimizer]
        o.schedule = SCHEDULES[schedule]
        o.learning_rate = float(learning_rate)
        o.beta1, o.beta2, o.eps = float(beta1), float(beta2), float(eps)
        o.weight_decay, o.momentum = float(weight_decay), float(momentum)
        o.nesterov = int(bool(nesterov))
        o.accumulation_steps = int(accumulation_steps)
        o.max_grad_norm = float(max_grad_norm)
        o.warmup_steps = int(warmup_steps)
        o.total_steps = int(total_steps)
        o.dropout = int(bool(dropout))
        o.threads = int(threads)
        o.seed = int(seed)
        self._o = o
        self._h = None  # created at the first step, when total_steps is known
        self._provisional = False
        self.model = model
        self.history = []

    # ---- lifetime ----

    def _handle(self, total_steps=None, evaluating=False):
        if self._h is not None and self._provisional and not evaluating:
            # made for evaluation alone, before the run's length was known: no update was made
            lib.lm_trainer_free(self._h)
            self._h = None
        if self._h is None:
            if self.model._h is None:
                raise StateError("the model is closed")
            o = self._o
            if total_steps and not o.total_steps:
                o.total_steps = int(total_steps)
            self._provisional = (evaluating and not o.total_steps and
                                 o.schedule != SCHEDULES["constant"])
            if self._provisional:  # the schedule does not matter to evaluate()
                o = type(o).from_buffer_copy(o)
                o.total_steps = 1
            h = c_void_p()
            check(lib.lm_trainer_create(self.model.handle, byref(o), byref(h)))
            self._h = h
        return self._h

    def close(self):
        """Frees the trainer (its gradients and optimizer state); the model keeps its weights."""
        h, self._h = getattr(self, "_h", None), None
        if h:
            lib.lm_trainer_free(h)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- state ----

    @property
    def steps(self):
        """Optimizer updates done so far."""
        return 0 if self._h is None else lib.lm_trainer_steps(self._h)

    @property
    def learning_rate(self):
        """The rate of the next update."""
        return self._o.learning_rate if self._h is None else lib.lm_trainer_learning_rate(self._h)

    @property
    def grad_norm(self):
        """The gradient norm of the last update, before clipping."""
        return 0.0 if self._h is None else lib.lm_trainer_grad_norm(self._h)

    # ---- batches of ids ----

    def _batch(self, batch):
        """An lm_batch over the arrays of a dict (input_ids, attention_mask, token_type_ids,
        labels, start_positions, end_positions); the arrays are kept alive in `keep`."""
        ids = _i32(batch["input_ids"])
        if ids.ndim != 2:
            raise ValueError(f"input_ids must be [batch, seq_len], not {ids.shape}")
        B, T = ids.shape
        keep = {"input_ids": ids}
        for k in ("attention_mask", "token_type_ids", "start_positions", "end_positions"):
            if batch.get(k) is not None:
                keep[k] = _i32(batch[k])
        labels = batch.get("labels")
        if labels is not None:
            arr = np.asarray(labels)
            if arr.dtype.kind == "f":
                keep["float_labels"] = np.ascontiguousarray(arr, dtype=np.float32)
            else:
                keep["labels"] = _i32(arr)
        b = _ffi.init_options(_ffi.Batch, lib.lm_batch_init)
        b.batch, b.seq_len = B, T
        b.ids = _p(ids, c_int32)
        b.attention_mask = _p(keep.get("attention_mask"), c_int32)
        b.type_ids = _p(keep.get("token_type_ids"), c_int32)
        b.labels = _p(keep.get("labels"), c_int32)
        b.float_labels = _p(keep.get("float_labels"), c_float)
        b.start_positions = _p(keep.get("start_positions"), c_int32)
        b.end_positions = _p(keep.get("end_positions"), c_int32)
        return b, keep

    def step(self, batch):
        """One training step on a batch (a dict of arrays: input_ids [B, T], attention_mask,
        token_type_ids, and labels / start_positions + end_positions as the head needs);
        returns the loss. A non-finite loss raises NumericError and skips the update."""
        b, keep = self._batch(batch)
        loss = c_float()
        check(lib.lm_trainer_step(self._handle(), byref(b), byref(loss)))
        del keep
        return float(loss.value)

    def evaluate(self, batch):
        """(loss, logits) of a batch without dropout and without training: logits [B, labels]
        (sequence classification), [B, T, labels] (tokens), [B, T, 2] (QA), [B, T, vocab]
        (masked LM)."""
        b, keep = self._batch(batch)
        B, T = keep["input_ids"].shape
        m = self.model
        head = m.head
        if head == "sequence-classification":
            shape = (B, m.num_labels)
        elif head == "token-classification":
            shape = (B, T, m.num_labels)
        elif head == "question-answering":
            shape = (B, T, 2)
        else:
            shape = (B, T, m.vocab_size)
        logits = np.empty(shape, dtype=np.float32)
        loss = c_float()
        check(lib.lm_trainer_evaluate(self._handle(evaluating=True), byref(b), byref(loss), _p(logits, c_float),
                                      logits.size))
        return float(loss.value), logits

    # ---- texts ----

    def _encode(self, texts, pairs, max_length):
        tok = self.model.tokenizer
        if tok is None:
            raise StateError("the model has no tokenizer: train with step() on token ids")
        return tok.encode_batch(texts, pairs, max_length=max_length, padding="longest")

    def _labels(self, items):
        """Sequence-classification labels: ids, names, or floats (regression, multi-label)."""
        names = self.model.labels
        first = items[0]
        if isinstance(first, str):
            return np.array([names.index(x) for x in items], dtype=np.int32)
        arr = np.asarray(items)
        if arr.dtype.kind == "f" or arr.ndim == 2:
            arr = arr.astype(np.float32)
            return arr.reshape(len(items), -1)
        return arr.astype(np.int32)

    def make_batch(self, texts, labels=None, text_pairs=None, *, max_length=128, rng=None):
        """The dict of arrays step() takes, from texts (and pairs) and their labels, as the
        model's head needs them: sequence classification one label per text (id, name or
        floats); token classification one label per word (words as the tokenizer splits them:
        the first piece of a word carries it, the others -100, as run_ner); masked LM none (15%
        of the tokens are masked with BERT's 80/10/10 rule, from `rng`)."""
        encs = self._encode(list(texts), None if text_pairs is None else list(text_pairs),
                            max_length)
        batch = {"input_ids": np.array([e.ids for e in encs], dtype=np.int32),
                 "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int32),
                 "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int32)}
        head = self.model.head
        if head == "sequence-classification":
            if labels is None:
                raise ValueError("sequence classification needs labels")
            batch["labels"] = self._labels(list(labels))
        elif head == "token-classification":
            if labels is None:
                raise ValueError("token classification needs one label per word")
            names = self.model.labels
            out = np.full(batch["input_ids"].shape, -100, dtype=np.int32)
            for i, (e, words) in enumerate(zip(encs, labels)):
                seen = set()
                for t, w in enumerate(e.word_ids):
                    if w is None or w in seen or w >= len(words):
                        continue
                    seen.add(w)
                    lab = words[w]
                    out[i, t] = names.index(lab) if isinstance(lab, str) else int(lab)
            batch["labels"] = out
        elif head == "masked-lm":
            rng = rng if rng is not None else np.random.default_rng(self._o.seed)
            ids = batch["input_ids"]
            special = np.array([e.special_tokens_mask for e in encs], dtype=bool)
            pick = (rng.random(ids.shape) < 0.15) & ~special
            lab = np.where(pick, ids, -100).astype(np.int32)
            r = rng.random(ids.shape)
            tok = self.model.tokenizer
            ids = ids.copy()
            ids[pick & (r < 0.8)] = tok.mask_token_id
            rand = pick & (r >= 0.8) & (r < 0.9)
            ids[rand] = rng.integers(0, tok.vocab_size, size=int(rand.sum()))
            batch["input_ids"], batch["labels"] = ids, lab
        else:
            raise UnsupportedError(f"make_batch does not build {head} batches: use step() with "
                                   "start_positions and end_positions")
        return batch

    def fit(self, texts, labels=None, *, text_pairs=None, epochs=1, batch_size=16,
            max_length=128, shuffle=True, callback=None, progress=None, eval_every=0,
            eval_texts=None, eval_labels=None):
        """Trains for `epochs` over texts and labels (see make_batch), in batches of batch_size
        drawn in a seeded order. After each step, callback(info) gets a dict: step (1-based),
        epoch (a float: 1.5 is half-way through the second), loss, learning_rate, grad_norm,
        total_steps; it may return False to stop. progress: True for a tqdm bar, False for none,
        None (default) for a bar when tqdm is installed. With eval_texts, every eval_every steps
        (and at the end) the loss on them is added to info as eval_loss. Returns the history:
        one info dict per step."""
        texts = list(texts)
        labels = None if labels is None else list(labels)
        pairs = None if text_pairs is None else list(text_pairs)
        n = len(texts)
        if n == 0:
            raise ValueError("no texts to train on")
        if labels is not None and len(labels) != n:
            raise ValueError(f"{n} texts but {len(labels)} labels")
        per_epoch = math.ceil(n / batch_size)
        total = per_epoch * epochs
        updates = math.ceil(total / max(self._o.accumulation_steps, 1))
        self._handle(total_steps=updates)
        rng = np.random.default_rng(self._o.seed)
        bar = _progress_bar(progress, total)
        step = 0
        try:
            for epoch in range(epochs):
                order = rng.permutation(n) if shuffle else np.arange(n)
                for k in range(per_epoch):
                    idx = order[k * batch_size:(k + 1) * batch_size]
                    batch = self.make_batch([texts[i] for i in idx],
                                            None if labels is None else [labels[i] for i in idx],
                                            None if pairs is None else [pairs[i] for i in idx],
                                            max_length=max_length, rng=rng)
                    loss = self.step(batch)
                    step += 1
                    info = {"step": step, "epoch": epoch + (k + 1) / per_epoch, "loss": loss,
                            "learning_rate": self.learning_rate, "grad_norm": self.grad_norm,
                            "total_steps": total}
                    if eval_texts is not None and ((eval_every and step % eval_every == 0) or
                                                   step == total):
                        info["eval_loss"] = self.evaluate_texts(eval_texts, eval_labels,
                                                                batch_size=batch_size,
                                                                max_length=max_length)
                    self.history.append(info)
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{loss:.4f}", lr=f"{info['learning_rate']:.2e}")
                    if callback is not None and callback(info) is False:
                        return self.history
        finally:
            if bar is not None:
                bar.close()
        return self.history

    def evaluate_texts(self, texts, labels=None, *, batch_size=16, max_length=128):
        """The mean loss over texts and labels (batches without dropout)."""
        texts = list(texts)
        total, count = 0.0, 0
        rng = np.random.default_rng(0)
        for k in range(0, len(texts), batch_size):
            part = texts[k:k + batch_size]
            batch = self.make_batch(part, None if labels is None else labels[k:k + batch_size],
                                    max_length=max_length, rng=rng)
            loss, _ = self.evaluate(batch)
            total += loss * len(part)
            count += len(part)
        return total / max(count, 1)


def _progress_bar(progress, total):
    if progress is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise
        return None
    return tqdm(total=total, desc="training", unit="step")


__all__ = ["Trainer"]
