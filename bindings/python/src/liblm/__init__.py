"""liblm for Python: BERT-family models in C (tokenize, embed, classify, fill masks, answer
questions, tag entities, fine-tune) through ctypes, with no compiler needed at run time.

    import liblm
    model = liblm.Model("all-MiniLM-L6-v2")          # a Hugging Face folder
    emb = model.encode(["a sentence", "another"])    # numpy float32 [2, 384]

The C library is found through LM_LIBRARY, a copy inside the package, pkg-config, or the system
loader (see liblm._ffi). Every failure raises an LmError subclass named after its status.
"""

import logging as _logging

from . import _ffi
from .errors import *  # noqa: F401,F403 (one class per status)
from .errors import LmError
from .model import Model
from .tokenizer import Encoding, Tokenizer
from .trainer import Trainer

__version__ = "0.2.0"

#: The C library's version ("0.2.0") and where it was found.
library_version = _ffi.lib.lm_version_string().decode()
library_path = _ffi.lib._lm_path


# The library's log (warnings such as a slow BLAS kernel, notes on loading) goes to the logger
# "liblm", from whichever thread the library logs on.
_logger = _logging.getLogger("liblm")
_LEVELS = {0: _logging.ERROR, 1: _logging.WARNING, 2: _logging.INFO, 3: _logging.DEBUG}


@_ffi.LOG_FN
def _log(level, message, user_data):
    _logger.log(_LEVELS.get(level, _logging.INFO), "%s", message.decode("utf-8", "replace"))


_ffi.lib.lm_set_log_callback(_log, 2, None)


def blas_info():
    """One line on the BLAS in use (library, kernel, and the variable to set on a slow path)."""
    return _ffi.lib.lm_blas_info().decode()


__all__ = ["Model", "Tokenizer", "Trainer", "Encoding", "LmError", "library_version", "library_path",
           "blas_info"] + [c.__name__ for c in LmError.__subclasses__()]
