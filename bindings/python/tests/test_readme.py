"""The README's Python snippet runs as written (on the tiny test models), and the package uses the
library it was meant to find (LM_EXPECT_LIBDIR, set by tests/sh_python.sh)."""

import contextlib
import io
import os
import subprocess

import liblm
from conftest import MODELS, REPO


def test_readme_snippet():
    code = subprocess.run(["bash", str(REPO / "tests" / "readme_snippet.sh"), "python"],
                          check=True, capture_output=True, text=True).stdout
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md (python snippet)", "exec"),
             {"MODEL": str(MODELS / "mlm"), "CLASSIFIER": str(MODELS / "seqcls")})
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("(2, 32) ['[CLS]'"), lines
    assert lines[1].startswith("[{'label': '"), lines
    assert lines[2].startswith("LM_ERR_NOT_FOUND: cannot open no-such-folder"), lines


def test_library_found_where_expected():
    want = os.environ.get("LM_EXPECT_LIBDIR")
    if want:
        assert os.path.dirname(os.path.realpath(liblm.library_path)) == os.path.realpath(want)
    assert liblm.library_version.count(".") == 2
