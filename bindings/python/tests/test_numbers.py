"""The same numbers as the C API: each method against the raw C call made here through ctypes
(bit for bit), against the reference pipelines (tests/data/pipeline/tiny.json.gz, the numbers
tests/test_text.c checks), and against the `lm` tool of the same build."""

import ctypes
import os
import subprocess
from ctypes import POINTER, byref, c_float, c_size_t

import numpy as np
import pytest

import liblm
from liblm import _ffi
from liblm._ffi import lib


def c_embed(model, texts):
    a = _ffi.TextArray(texts)
    out = np.empty((a.n, model.hidden_size), dtype=np.float32)
    s = lib.lm_embed_texts(model.handle, a.n, a.ptrs, a.lens, None,
                           out.ctypes.data_as(POINTER(c_float)), out.size)
    assert s == 0
    return out


def test_embed_equals_c(model_cache, tiny_ref):
    ref = tiny_ref["embed"]
    m = model_cache(ref["model"])
    got = m.encode(ref["texts"])
    assert got.dtype == np.float32 and got.shape == (len(ref["texts"]), m.hidden_size)
    assert np.array_equal(got, c_embed(m, ref["texts"]))
    want = np.array(ref["embeddings"], dtype=np.float32)
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cos.min() >= 0.99999
    one = m.encode(ref["texts"][0])
    assert one.shape == (m.hidden_size,)
    assert np.allclose(one, got[0], atol=1e-6)
    assert m.encode([]).shape == (0, m.hidden_size)
    norm = m.encode(ref["texts"][:3], normalize_embeddings=True)
    assert np.allclose(np.linalg.norm(norm, axis=1), 1, atol=1e-6)
    assert isinstance(m.encode(["a"], convert_to_numpy=False), list)


@pytest.mark.parametrize("case", range(7))
def test_classify_equals_reference(model_cache, tiny_ref, case):
    c = tiny_ref["classification"][case]
    m = model_cache(c["model"])
    fn = None if c["function_to_apply"] == "default" else c["function_to_apply"]
    got = m.classify(c["texts"], top_k=None, function_to_apply=fn)
    for row, want in zip(got, c["results"]):
        assert [m.labels.index(r["label"]) for r in row] == [w[0] for w in want]
        assert np.allclose([r["score"] for r in row], [w[1] for w in want], atol=1e-4)
    pairs = [tuple(p) for p in c["pairs"]]
    got = m.classify(pairs, top_k=None, function_to_apply=fn)
    for row, want in zip(got, c["pair_results"]):
        assert [m.labels.index(r["label"]) for r in row] == [w[0] for w in want]
        assert np.allclose([r["score"] for r in row], [w[1] for w in want], atol=1e-4)


def test_classify_equals_c(model_cache, tiny_ref):
    m = model_cache("seqcls")
    texts = tiny_ref["classification"][0]["texts"]
    a = _ffi.TextArray(texts)
    o = _ffi.init_options(_ffi.TextOptions, lib.lm_text_options_init)
    o.top_k = -1
    res = (_ffi.LabelScore * (a.n * 3))()
    k = c_size_t()
    assert lib.lm_classify_texts(m.handle, a.n, a.ptrs, a.lens, None, None, byref(o), res,
                                 a.n * 3, byref(k)) == 0
    got = m.classify(texts, top_k=None)
    flat = [(m.labels.index(r["label"]), r["score"]) for row in got for r in row]
    assert flat == [(r.label, float(np.float32(r.score))) for r in res]


def test_forward_equals_c(model_cache):
    m = model_cache("seqcls")
    enc = m.tokenizer(["a good film", "a bad one , really"], padding="longest",
                      return_tensors="np")
    logits = m.forward(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    ids = enc["input_ids"].astype(np.int32)
    mask = enc["attention_mask"].astype(np.int32)
    out = np.empty((2, 3), dtype=np.float32)
    p = lambda x, t: x.ctypes.data_as(POINTER(t))  # noqa: E731
    assert lib.lm_model_classify(m.handle, p(ids, ctypes.c_int32), None, p(mask, ctypes.c_int32),
                                 2, ids.shape[1], p(out, c_float)) == 0
    assert np.array_equal(logits, out)
    # the classification of text agrees with the logits of its ids
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    best = m.classify(["a good film", "a bad one , really"])
    assert [b["label"] for b in best] == [m.labels[i] for i in probs.argmax(1)]
    assert np.allclose([b["score"] for b in best], probs.max(1), atol=1e-6)
    hidden, pooled = m.hidden_states(ids, mask, return_pooled=True)
    assert hidden.shape == (2, ids.shape[1], m.hidden_size) and pooled.shape == (2, m.hidden_size)
    for name, shape in (("tagger", (2, ids.shape[1], 5)), ("mlm", (2, ids.shape[1], None))):
        out = model_cache(name).forward(ids, mask)
        assert out.shape[:2] == shape[:2] and (shape[2] is None or out.shape[2] == shape[2])
    start, end = model_cache("qa").forward(ids, mask)
    assert start.shape == end.shape == ids.shape


@pytest.mark.parametrize("case", range(2))
def test_fill_mask_equals_reference(model_cache, tiny_ref, case):
    c = tiny_ref["fill_mask"][case]
    got = model_cache("mlm").fill_mask(c["texts"], top_k=c["top_k"])
    for text_got, text_want in zip(got, c["results"]):
        if len(text_want) == 1:  # one mask: the pipeline drops a level
            text_got = [text_got]
        assert len(text_got) == len(text_want)
        for g, w in zip(text_got, text_want):
            assert [x["token"] for x in g] == [x[0] for x in w]
            assert np.allclose([x["score"] for x in g], [x[1] for x in w], atol=1e-4)


@pytest.mark.parametrize("case", range(10))
def test_tag_equals_reference(model_cache, tiny_ref, case):
    c = tiny_ref["tagging"][case]
    got = model_cache(c["model"]).tag(c["texts"], aggregation_strategy=c["aggregation"])
    for text_got, text_want in zip(got, c["results"]):
        assert len(text_got) == len(text_want)
        for g, w in zip(text_got, text_want):
            key = "entity" if c["aggregation"] == "none" else "entity_group"
            assert g[key] == w["entity"]  # the file keeps the group under "entity"
            assert (g["start"], g["end"]) == (w["start"], w["end"])
            assert abs(g["score"] - w["score"]) < 1e-4
            if key == "entity":
                assert g["index"] == w["index"]


@pytest.mark.parametrize("case", range(5))
def test_answer_equals_reference(model_cache, tiny_ref, case):
    c = tiny_ref["qa"][case]
    o = c["options"]
    got = model_cache("qa").answer(c["questions"], c["contexts"], top_k=o.get("top_k", 1),
                                   max_seq_len=o.get("max_seq_len"),
                                   doc_stride=o.get("doc_stride"),
                                   max_answer_len=o.get("max_answer_len"),
                                   handle_impossible_answer=o.get("handle_impossible_answer",
                                                                  False))
    for g, want, ctx in zip(got, c["results"], c["contexts"]):
        g = [g] if isinstance(g, dict) else g
        assert len(g) == len(want)
        for a, w in zip(g, want):
            assert (a["start"], a["end"]) == (w[1], w[2])
            assert abs(a["score"] - w[0]) < 1e-4
            assert a["answer"] == ctx[w[1]:w[2]]


def test_tokenizer_equals_c(models):
    with liblm.Tokenizer(models / "seqcls") as tok:
        text = "Unaffable naïve café — “quotes”!"
        enc = tok.encode(text)
        h = ctypes.c_void_p()
        raw = text.encode()
        assert lib.lm_tokenizer_encode(tok.handle, raw, len(raw), None, byref(h)) == 0
        n = lib.lm_encoding_length(h)
        assert enc.ids == [lib.lm_encoding_ids(h)[i] for i in range(n)]
        lib.lm_encoding_free(h)
        for t, (s, e) in zip(enc.tokens[1:-1], enc.offsets[1:-1]):
            assert text[s:e].lower().replace("ï", "i").replace("é", "e").startswith(
                t.lstrip("#")[:1]) or t == "[UNK]"
        assert tok.decode(enc.ids) == tok.decode(enc.ids[1:-1])
        batch = tok.encode_batch([text, "a", ""], padding="longest")
        assert [len(e) for e in batch] == [len(enc)] * 3
        assert batch[1].attention_mask.count(1) == 3
        pair = tok.encode("a question", "a context")
        assert pair.sequence_ids[-2] == 1 and pair.type_ids[-1] == 1
        over = tok.encode(" ".join(["word"] * 40), max_length=16, stride=4,
                          return_overflowing=True)
        assert len(over) == 16 and len(over.overflowing) >= 2
        d = tok("a good film", return_tensors="np")
        assert d["input_ids"].shape == (1, 5)
        assert tok.token_to_id("[CLS]") == tok.cls_token_id
        assert tok.token_to_id("no-such-token-here") is None
        assert tok.id_to_token(10 ** 6) is None


def test_cli_embeddings_equal(model_cache, tiny_ref, tmp_path):
    """`lm embed --format npy` (the C tool on the same library) writes the same floats."""
    lm_bin = os.environ.get("LM_BIN")
    if not lm_bin:
        pytest.skip("LM_BIN (the lm tool) not set")
    texts = tiny_ref["embed"]["texts"]
    path = tmp_path / "e.npy"
    subprocess.run([lm_bin, "embed", "--model", str(model_cache("mlm").path), "--format", "npy",
                    "--threads", "1",
                    "--output", str(path)], input="\n".join(texts) + "\n", text=True, check=True)
    assert np.array_equal(np.load(path), model_cache("mlm").encode(texts))


def test_save_and_reload(model_cache, tmp_path):
    m = model_cache("seqcls")
    m.save(tmp_path / "copy")
    with liblm.Model(tmp_path / "copy") as again:
        assert again.labels == m.labels
        assert again.config["hidden_size"] == m.hidden_size
        texts = ["a good film", "a bad one"]
        assert m.classify(texts, top_k=None) == again.classify(texts, top_k=None)


def test_fresh_head(models):
    with liblm.Model(models / "mlm", head="sequence-classification", labels=["no", "yes"],
                     seed=3) as m:
        assert m.has_fresh_head and m.labels == ["no", "yes"] and m.num_labels == 2
        assert m.head == "sequence-classification"
        assert len(m.classify("a", top_k=None)) == 2


def test_threads_share_a_model(model_cache, tiny_ref):
    """Inference from many Python threads at once (ctypes releases the GIL) gives the same
    rows as one call."""
    from concurrent.futures import ThreadPoolExecutor
    m = model_cache("mlm")
    texts = tiny_ref["embed"]["texts"]
    whole = m.encode(texts)
    with ThreadPoolExecutor(4) as pool:
        rows = list(pool.map(lambda t: m.encode([t])[0], texts * 3))
    assert np.allclose(np.array(rows[:len(texts)]), whole, atol=1e-6)


def test_int8_embeddings_close_to_float(model_cache, tiny_ref):
    """int8=True reaches the library: results differ from float32 but stay close to them."""
    from conftest import MODELS
    ref = tiny_ref["embed"]
    want = model_cache(ref["model"]).encode(ref["texts"])
    with liblm.Model(MODELS / ref["model"], threads=1, int8=True) as m:
        got = m.encode(ref["texts"])
    assert not np.array_equal(got, want)
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cos.min() >= 0.98
