"""Trainer: a few training steps on tiny models (every head), losses that fall, seeded runs that
repeat bit for bit, evaluate() against the model's forward pass, fit() with its callback and its
tqdm bar, and the errors of bad batches. Skipped when the library has no trainer."""

import sys
import types

import numpy as np
import pytest

import liblm
from liblm import _ffi

pytestmark = pytest.mark.skipif(not _ffi.has_trainer, reason="this liblm has no trainer")

TEXTS = ["a good film", "a bad film", "great acting , truly", "an awful plot", "wonderful",
         "terrible and dull", "a joy to watch", "a waste of time"] * 3
LABELS = ["positive", "negative"] * 12


def load(models, name, **kw):
    return liblm.Model(models / name, threads=1, **kw)


def test_fit_lowers_the_loss(models, tmp_path):
    with load(models, "seqcls") as m, liblm.Trainer(m, learning_rate=1e-3, seed=1) as t:
        before = t.evaluate_texts(TEXTS, LABELS)
        seen = []
        history = t.fit(TEXTS, LABELS, epochs=4, batch_size=8, callback=seen.append,
                        progress=False)
        after = t.evaluate_texts(TEXTS, LABELS)
        assert len(history) == len(seen) == 12 and t.steps == 12
        assert [h["step"] for h in history] == list(range(1, 13))
        assert history[-1]["epoch"] == 4 and history[-1]["learning_rate"] == 0  # linear decay
        assert after < before * 0.8, (before, after)
        assert all(np.isfinite(h["loss"]) and h["grad_norm"] > 0 for h in history)
        m.save(tmp_path / "trained")
        ids = m.tokenizer(TEXTS[:4], padding="longest", return_tensors="np")
        with load(models, tmp_path / "trained") as again:  # an absolute path
            assert np.allclose(again.forward(ids["input_ids"], ids["attention_mask"]),
                               m.forward(ids["input_ids"], ids["attention_mask"]), atol=1e-5)


def test_seeded_runs_repeat(models):
    runs = []
    for _ in range(2):
        with load(models, "seqcls") as m, liblm.Trainer(m, learning_rate=1e-3, seed=7) as t:
            runs.append([h["loss"] for h in t.fit(TEXTS, LABELS, epochs=1, batch_size=8,
                                                  progress=False)])
    assert runs[0] == runs[1]


def test_evaluate_equals_forward(models):
    with load(models, "seqcls") as m, liblm.Trainer(m, schedule="constant") as t:
        batch = t.make_batch(TEXTS[:5], LABELS[:5])
        loss, logits = t.evaluate(batch)
        assert np.allclose(logits, m.forward(batch["input_ids"], batch["attention_mask"],
                                             batch["token_type_ids"]), atol=1e-5)
        z = logits - logits.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        assert abs(loss - -logp[np.arange(5), batch["labels"]].mean()) < 1e-5


@pytest.mark.parametrize("name", ["tagger", "mlm", "qa", "regression", "multilabel"])
def test_every_head_trains(models, name):
    with load(models, name) as m, liblm.Trainer(m, learning_rate=1e-3, schedule="constant",
                                                  seed=3) as t:
        tok = m.tokenizer
        enc = tok(TEXTS[:8], padding="longest", return_tensors="np")
        B, T = enc["input_ids"].shape
        batch = dict(enc)
        rng = np.random.default_rng(0)
        if name == "tagger":
            words = [[("B-PER" if i % 3 == 0 else "O") for i, _ in enumerate(x.split())]
                     for x in TEXTS[:8]]
            batch = t.make_batch(TEXTS[:8], words)
        elif name == "mlm":
            batch = t.make_batch(TEXTS[:8], rng=rng)
            assert (batch["labels"] != -100).any()
        elif name == "qa":
            batch["start_positions"] = np.full(B, 1)
            batch["end_positions"] = np.full(B, 2)
        elif name == "regression":
            batch["labels"] = rng.random((B, 1)).astype(np.float32)
        else:
            batch["labels"] = (rng.random((B, 3)) > 0.5).astype(np.float32)
        losses = [t.step(batch) for _ in range(8)]
        assert all(np.isfinite(losses)) and losses[-1] < losses[0], losses
        assert t.steps == 8


def test_callback_stops_and_tqdm_bar(models, monkeypatch):
    updates = []

    class FakeBar:
        def __init__(self, total, **kw):
            updates.append(("total", total))

        def update(self, n):
            updates.append(("update", n))

        def set_postfix(self, **kw):
            pass

        def close(self):
            updates.append(("close", 0))

    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    with load(models, "seqcls") as m, liblm.Trainer(m) as t:
        history = t.fit(TEXTS, LABELS, epochs=2, batch_size=8, callback=lambda i: i["step"] < 4)
    assert len(history) == 4
    assert updates[0] == ("total", 6) and updates.count(("update", 1)) == 4
    assert updates[-1] == ("close", 0)


def test_trainer_errors(models):
    with load(models, "seqcls") as m:
        with liblm.Trainer(m) as t:  # linear schedule without total_steps
            with pytest.raises(liblm.InvalidArgumentError) as info:
                t.step(t.make_batch(TEXTS[:2], LABELS[:2]))
            assert "total_steps" in info.value.message
        with liblm.Trainer(m, schedule="constant") as t:
            with pytest.raises(liblm.RangeError):
                t.step(t.make_batch(TEXTS[:2], [0, 7]))  # label 7 of 3
            with pytest.raises(liblm.InvalidArgumentError):
                enc = m.tokenizer(TEXTS[:2], padding="longest", return_tensors="np")
                t.step(dict(enc))  # no labels
            with pytest.raises(ValueError):
                t.fit(TEXTS, LABELS[:3])
    with load(models, "mlm", head="base") as base:
        with pytest.raises(liblm.StateError):
            liblm.Trainer(base, schedule="constant").step(
                {"input_ids": [[2, 10, 3]], "labels": [[-100, 10, -100]]})
