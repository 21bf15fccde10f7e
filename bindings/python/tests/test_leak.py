"""No leak over 10,000 calls: the process's resident memory (RSS, /proc/self/statm) after 10,000
calls of each kind, successful and failing, is within a small margin of what it was after a
warm-up. The calls are C calls on tiny models: the whole file takes a few seconds."""

import gc
import os

import pytest

import liblm

pytestmark = pytest.mark.leak

CALLS = 10_000
MARGIN = 3 << 20  # bytes: a leak of 300 bytes a call shows


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def grows(fn, warmup=500):
    for i in range(warmup):
        fn(i)
    gc.collect()
    before = rss()
    for i in range(CALLS):
        fn(i)
    gc.collect()
    return rss() - before


def test_text_calls_do_not_leak(model_cache):
    mlm, seqcls, tagger = model_cache("mlm"), model_cache("seqcls"), model_cache("tagger")
    calls = [lambda i: mlm.encode(["a short text", f"number {i}"]),
             lambda i: seqcls.classify(f"a good film {i}", top_k=None),
             lambda i: mlm.fill_mask("the [MASK] is good ."),
             lambda i: tagger.tag(f"John Smith {i} moved to Paris", aggregation_strategy="simple")]
    growth = grows(lambda i: calls[i % 4](i))
    assert growth < MARGIN, f"RSS grew {growth} bytes over {CALLS} calls"


def test_tokenizer_calls_do_not_leak(models):
    with liblm.Tokenizer(models / "seqcls") as tok:
        growth = grows(lambda i: (tok.encode(f"text {i}", "its pair"),
                                  tok.decode([2, 100 + i % 50, 3])))
    assert growth < MARGIN, f"RSS grew {growth} bytes over {CALLS} calls"


def test_failing_calls_do_not_leak(model_cache):
    m = model_cache("seqcls")

    def fail(i):
        try:
            m.classify([b"fine", b"bad \xff" + str(i).encode()])
        except liblm.Utf8Error:
            pass
        else:  # pragma: no cover
            raise AssertionError("no error")

    growth = grows(fail)
    assert growth < MARGIN, f"RSS grew {growth} bytes over {CALLS} failing calls"


def test_load_and_free_do_not_leak(models):
    """Loading and freeing (context managers) 500 times: the handles are released."""
    def cycle(i):
        with liblm.Model(models / "seqcls") as m:
            m.tokenizer.encode("a")
        with liblm.Tokenizer(models / "tagger") as t:
            t.vocab_size
    for i in range(50):
        cycle(i)
    gc.collect()
    before = rss()
    for i in range(500):
        cycle(i)
    gc.collect()
    assert rss() - before < MARGIN
