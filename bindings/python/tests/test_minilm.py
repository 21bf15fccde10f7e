"""The real all-MiniLM-L6-v2 (LM_MINILM_DIR): Model.encode gives sentence-transformers' encode
(tests/data/pipeline/minilm.json.gz: cosine >= 0.99999, texts far beyond max_seq_length
truncated alike)."""

import os

import numpy as np
import pytest

import liblm

pytestmark = pytest.mark.minilm


@pytest.fixture(scope="module")
def minilm():
    d = os.environ.get("LM_MINILM_DIR")
    if not d or not os.path.isfile(os.path.join(d, "model.safetensors")):
        pytest.skip("LM_MINILM_DIR is not set (all-MiniLM-L6-v2)")
    with liblm.Model(d) as m:
        yield m


def test_encode_equals_sentence_transformers(minilm):
    import gzip
    import json

    from conftest import REPO
    with gzip.open(REPO / "tests/data/pipeline/minilm.json.gz", "rt", encoding="utf-8") as f:
        ref = json.load(f)
    got = minilm.encode(ref["texts"], batch_size=8)
    want = np.array(ref["embeddings"], dtype=np.float32)
    assert got.shape == want.shape == (len(ref["texts"]), 384)
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cos.min() >= 0.99999, cos.min()
    assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)  # its Normalize module
    assert minilm.get_sentence_embedding_dimension() == 384
