"""Exceptions: one LmError subclass per liblm status, each also a subclass of the built-in
exception a Python programmer would catch for it (a missing folder is a FileNotFoundError, bad
UTF-8 a UnicodeError, ...). The message is "LM_ERR_NAME: the library's sentence"."""

from __future__ import annotations

from . import _ffi


class LmError(Exception):
    """A liblm call failed. `status` is the lm_status code, `status_name` its name
    ("LM_ERR_NOT_FOUND") and `message` the library's sentence (lm_last_error())."""

    status = -1
    status_name = "LM_ERR_UNKNOWN"

    def __init__(self, message, status=None):
        if status is not None:
            self.status = status
            self.status_name = _ffi.lib.lm_status_string(status).decode()
        self.message = message
        super().__init__(f"{self.status_name}: {message}")

    def __str__(self):
        return f"{self.status_name}: {self.message}"

    def __reduce__(self):  # picklable, for multiprocessing
        return (_rebuild, (self.status, self.message))


class InvalidArgumentError(LmError, ValueError):
    """LM_ERR_INVALID_ARGUMENT: an argument or option the call refuses."""
    status, status_name = _ffi.ERR_INVALID_ARGUMENT, "LM_ERR_INVALID_ARGUMENT"


class OutOfMemoryError(LmError, MemoryError):
    """LM_ERR_NOMEM: an allocation failed."""
    status, status_name = _ffi.ERR_NOMEM, "LM_ERR_NOMEM"


class LmIOError(LmError, OSError):
    """LM_ERR_IO: reading or writing a file failed."""
    status, status_name = _ffi.ERR_IO, "LM_ERR_IO"


class NotFoundError(LmError, FileNotFoundError):
    """LM_ERR_NOT_FOUND: a file, a tensor or an item is missing."""
    status, status_name = _ffi.ERR_NOT_FOUND, "LM_ERR_NOT_FOUND"


class PermissionDeniedError(LmError, PermissionError):
    """LM_ERR_PERMISSION: the file system refused."""
    status, status_name = _ffi.ERR_PERMISSION, "LM_ERR_PERMISSION"


class FormatError(LmError, ValueError):
    """LM_ERR_FORMAT: a malformed or corrupt file."""
    status, status_name = _ffi.ERR_FORMAT, "LM_ERR_FORMAT"


class UnsupportedError(LmError, NotImplementedError):
    """LM_ERR_UNSUPPORTED: a feature or configuration liblm does not run."""
    status, status_name = _ffi.ERR_UNSUPPORTED, "LM_ERR_UNSUPPORTED"


class Utf8Error(LmError, UnicodeError):
    """LM_ERR_UTF8: invalid UTF-8 (the message names the input and the byte offset)."""
    status, status_name = _ffi.ERR_UTF8, "LM_ERR_UTF8"


class RangeError(LmError, ValueError):
    """LM_ERR_RANGE: a value out of range (a token id, a label, a length)."""
    status, status_name = _ffi.ERR_RANGE, "LM_ERR_RANGE"


class ShapeError(LmError, ValueError):
    """LM_ERR_SHAPE: tensor shapes disagree."""
    status, status_name = _ffi.ERR_SHAPE, "LM_ERR_SHAPE"


class StateError(LmError, RuntimeError):
    """LM_ERR_STATE: not valid now (a model without a tokenizer, or without the head)."""
    status, status_name = _ffi.ERR_STATE, "LM_ERR_STATE"


class InternalError(LmError, RuntimeError):
    """LM_ERR_INTERNAL: a bug in liblm."""
    status, status_name = _ffi.ERR_INTERNAL, "LM_ERR_INTERNAL"


class BufferTooSmallError(LmError, RuntimeError):
    """LM_ERR_BUFFER_TOO_SMALL (the package sizes its buffers: a bug if seen)."""
    status, status_name = _ffi.ERR_BUFFER_TOO_SMALL, "LM_ERR_BUFFER_TOO_SMALL"


class NumericError(LmError, ArithmeticError):
    """LM_ERR_NUMERIC: a loss or a gradient that is not finite (training)."""
    status, status_name = _ffi.ERR_NUMERIC, "LM_ERR_NUMERIC"


_by_status = {cls.status: cls for cls in LmError.__subclasses__()}


def _rebuild(status, message):
    cls = _by_status.get(status, LmError)
    return cls(message) if cls is not LmError else LmError(message, status)


def error_for(status, message=None):
    """The exception for a status, with the calling thread's lm_last_error() sentence."""
    if message is None:
        message = _ffi.lib.lm_last_error().decode("utf-8", "replace")
    cls = _by_status.get(status)
    return cls(message) if cls is not None else LmError(message, status)


def check(status):
    """Raises the status's exception unless it is LM_OK."""
    if status != _ffi.OK:
        raise error_for(status)


__all__ = ["LmError"] + [c.__name__ for c in LmError.__subclasses__()]
