"""Errors: one LmError subclass per status, the library's sentence in the message, the built-in
exception types a Python caller expects, and no state left behind by a failure."""

import os
import pickle
import threading

import numpy as np
import pytest

import liblm
from liblm import _ffi


def test_every_status_has_its_class():
    for status in range(1, 15):
        e = liblm.errors.error_for(status, "why")
        assert isinstance(e, liblm.LmError)
        assert e.status == status
        c_name = _ffi.lib.lm_status_string(status).decode()
        assert e.status_name == c_name or c_name == "LM_ERR_UNKNOWN"  # 14: a newer library's
        assert type(e) is not liblm.LmError, status
        assert str(e) == f"{e.status_name}: why"
        again = pickle.loads(pickle.dumps(e))
        assert type(again) is type(e) and again.message == "why"
    unknown = liblm.errors.error_for(99, "odd")
    assert type(unknown) is liblm.LmError and unknown.status == 99


def test_missing_folder(models):
    with pytest.raises(liblm.NotFoundError) as info:
        liblm.Model(models / "no-such-model")
    assert isinstance(info.value, FileNotFoundError)
    assert "no-such-model" in info.value.message
    assert info.value.status == _ffi.ERR_NOT_FOUND
    with pytest.raises(FileNotFoundError):
        liblm.Tokenizer(models / "no-such-vocab.txt")


def test_corrupt_files(tmp_path, models):
    (tmp_path / "config.json").write_text("{ not json")
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(liblm.FormatError) as info:
        liblm.Model(tmp_path)
    assert isinstance(info.value, ValueError)
    (tmp_path / "vocab.txt").write_text("a\nb\n")  # no [UNK]
    with pytest.raises(liblm.FormatError):
        liblm.Tokenizer(tmp_path / "vocab.txt")


def test_invalid_utf8(model_cache):
    m = model_cache("seqcls")
    with pytest.raises(liblm.Utf8Error) as info:
        m.classify([b"fine", b"bad \xff byte"])
    assert isinstance(info.value, UnicodeError)
    assert "1" in info.value.message  # names the input
    with pytest.raises(liblm.Utf8Error):
        m.encode("lone surrogate \udc80 here")
    assert len(m.classify([b"bad \xff byte"], replace_invalid_utf8=True)) == 1


def test_wrong_head_and_state(model_cache):
    m = model_cache("seqcls")
    with pytest.raises(liblm.StateError):
        m.fill_mask("a [MASK]")
    with pytest.raises(liblm.InvalidArgumentError):
        model_cache("mlm").fill_mask("no mask here")
    created = liblm.Model.create({"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1,
                                  "num_attention_heads": 2, "intermediate_size": 8,
                                  "max_position_embeddings": 16})
    assert created.tokenizer is None
    with pytest.raises(liblm.StateError):
        created.encode(["no tokenizer"])
    with pytest.raises(liblm.RangeError):
        created.hidden_states([[1, 2, 99]])  # id beyond the vocabulary
    with pytest.raises(liblm.RangeError):
        created.hidden_states(np.ones((1, 17), dtype=np.int32))  # longer than the positions
    with pytest.raises(ValueError):
        created.hidden_states(np.ones((1, 2, 3)))
    created.close()
    with pytest.raises(liblm.StateError):
        created.hidden_size
    created.close()  # twice is fine


def test_bad_options(model_cache, models):
    with pytest.raises(liblm.InvalidArgumentError):
        model_cache("seqcls").classify("a", top_k=-7)
    with pytest.raises(KeyError):
        model_cache("tagger").tag("a", aggregation_strategy="median")
    with pytest.raises(liblm.InvalidArgumentError):
        model_cache("qa").answer(["q1", "q2"], ["only one context"] * 3)
    with pytest.raises(TypeError):
        model_cache("seqcls").classify([1, 2])


def test_errors_are_per_thread(model_cache):
    """lm_last_error() is thread-local: each thread's exception names its own input."""
    m = model_cache("seqcls")
    msgs = {}

    def run(i):
        try:
            m.classify([b"ok"] * i + [b"\xff"])
        except liblm.Utf8Error as e:
            msgs[i] = e.message

    threads = [threading.Thread(target=run, args=(i,)) for i in range(1, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(msgs) == [1, 2, 3, 4, 5]
    for i, msg in msgs.items():
        assert str(i) in msg


def test_save_errors(model_cache, tmp_path):
    with pytest.raises((liblm.NotFoundError, liblm.LmIOError)):
        model_cache("seqcls").save(tmp_path / "missing-parent" / "child")
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(liblm.PermissionDeniedError):
            model_cache("seqcls").save(ro / "m")
