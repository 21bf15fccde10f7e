"""Shared fixtures: the repository's test models and the reference files of the pipelines.

The tests run against whichever liblm the package finds (tests/sh_python.sh installs the
library into a prefix and points pkg-config at it). LM_SOURCE_DIR names the repository (default:
three folders up); LM_MINILM_DIR the real all-MiniLM-L6-v2 (tests that need it skip without it);
LM_BIN the `lm` tool of the same build (the CLI comparison skips without it)."""

import gzip
import json
import os
from pathlib import Path

import pytest

REPO = Path(os.environ.get("LM_SOURCE_DIR", Path(__file__).resolve().parents[3]))
MODELS = REPO / "tests" / "data" / "pipeline" / "models"
TINY = REPO / "tests" / "data" / "model" / "tiny"


def _json_gz(name):
    with gzip.open(REPO / "tests" / "data" / "pipeline" / name, "rt", encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def tiny_ref():
    """tests/data/pipeline/tiny.json.gz: the pipelines' numbers (what tests/test_text.c checks)."""
    return _json_gz("tiny.json.gz")


@pytest.fixture(scope="session")
def python_ref():
    """tests/data/pipeline/python.json.gz: the pipelines' Python return values."""
    return _json_gz("python.json.gz")


@pytest.fixture(scope="session")
def models():
    return MODELS


@pytest.fixture(scope="session")
def model_cache():
    """Models loaded once per session, by folder name under tests/data/pipeline/models."""
    import liblm
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = liblm.Model(MODELS / name, threads=1)  # tiny: one thread is fastest
        return cache[name]

    yield get
    for m in cache.values():
        m.close()
