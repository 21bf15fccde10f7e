"""The return values of the transformers pipelines, as Python objects: the same nesting, keys
and strings ("label", "token_str", "sequence", "entity_group", "word", ...) and the same numbers
within 1e-4, for each call form of tests/data/pipeline/python.json.gz
(scripts/gen_python_fixtures.py)."""

import pytest


def same(got, want, path="result"):
    """Asserts equal structure, equal strings and ints, floats within 1e-4."""
    if isinstance(want, dict):
        assert isinstance(got, dict), path
        assert sorted(got) == sorted(want), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            same(got[k], want[k], f"{path}[{k!r}]")
    elif isinstance(want, list):
        assert isinstance(got, list), f"{path}: {type(got).__name__} is not a list"
        assert len(got) == len(want), f"{path}: {len(got)} items, want {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            same(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert abs(got - want) < 1e-4, f"{path}: {got} != {want}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def cases(kind):
    import gzip
    import json

    from conftest import REPO
    with gzip.open(REPO / "tests/data/pipeline/python.json.gz", "rt", encoding="utf-8") as f:
        return [c for c in json.load(f)["cases"] if c["kind"] == kind]


def ident(c):
    return f"{c['model']}-{len(str(c['args']))}-{'-'.join(map(str, c['kwargs'].values()))}"


def run(model_cache, c):
    m = model_cache(c["model"])
    args = [tuple(a) if isinstance(a, list) and c["kind"] == "never" else a for a in c["args"]]
    return getattr(m, c["kind"])(*args, **c["kwargs"])


@pytest.mark.parametrize("c", cases("classify"), ids=ident)
def test_classify(model_cache, c):
    same(run(model_cache, c), c["result"])


@pytest.mark.parametrize("c", cases("fill_mask"), ids=ident)
def test_fill_mask(model_cache, c):
    same(run(model_cache, c), c["result"])


@pytest.mark.parametrize("c", cases("tag"), ids=ident)
def test_tag(model_cache, c):
    kwargs = dict(c["kwargs"])
    m = model_cache(c["model"])
    same(m.tag(*c["args"], **kwargs), c["result"])
