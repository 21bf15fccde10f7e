"""The C library through ctypes: finding liblm.so, the structs and prototypes of lm.h, the status
codes. Nothing here is public; the classes of the package wrap it.

The library is looked for, in order:
  1. the environment variable LM_LIBRARY: the path of liblm.so(.0), or the folder holding it;
  2. a copy carried inside the package (a wheel built with LM_BUNDLE_LIBRARY set);
  3. pkg-config: the libdir of the `lm` package (PKG_CONFIG_PATH is honoured);
  4. the system's dynamic loader (ldconfig's folders, LD_LIBRARY_PATH): liblm.so.0.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from ctypes import (POINTER, Structure, c_char_p, c_double, c_float, c_int, c_int32, c_int64,
                    c_size_t, c_uint32, c_uint64, c_void_p)

SONAME = "liblm.so.0"
# The oldest library this package runs with: 0.2 added the text-level calls.
MIN_VERSION = (0, 2)

_here = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    """(where, path) pairs in the order they are tried."""
    env = os.environ.get("LM_LIBRARY")
    if env:
        if os.path.isdir(env):
            for name in (SONAME, "liblm.so"):
                yield "LM_LIBRARY", os.path.join(env, name)
        else:
            yield "LM_LIBRARY", env
        return  # an explicit choice is never second-guessed
    bundled = os.path.join(_here, "_lib", SONAME)
    if os.path.exists(bundled):
        yield "bundled", bundled
    pkg_config = shutil.which(os.environ.get("PKG_CONFIG", "pkg-config"))
    if pkg_config:
        try:
            libdir = subprocess.run([pkg_config, "--variable=libdir", "lm"], check=True,
                                    capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            libdir = ""
        if libdir:
            yield "pkg-config", os.path.join(libdir, SONAME)
    yield "loader", SONAME
    found = ctypes.util.find_library("lm")
    if found:
        yield "loader", found


def _blas_fast_path():
    """OpenBLAS reads OPENBLAS_CORETYPE once, when it loads (with liblm): on an AVX-512 CPU that
    Debian's OpenBLAS misdetects the generic kernel is ~5x slower. Like the `lm` tool, pick the
    fast kernel before loading unless the variable is set (LM_NO_CORETYPE=1 leaves it alone)."""
    if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("LM_NO_CORETYPE"):
        return
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
                        os.environ["OPENBLAS_CORETYPE"] = "SKYLAKEX"
                    return
    except OSError:
        return


def _load():
    tried = []
    _blas_fast_path()
    for where, path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{where}: {path} ({e})")
            continue
        lib._lm_path = path
        lib._lm_where = where
        return lib
    raise ImportError("liblm: cannot find the C library liblm.so.0; set LM_LIBRARY to its path, "
                      "install it where pkg-config or the loader finds it (make install), or "
                      "install a wheel that carries it. Tried: " + "; ".join(tried))


lib = _load()

# ---- status codes (lm.h LM_STATUS_MAP) ----

OK = 0
ERR_INVALID_ARGUMENT = 1
ERR_NOMEM = 2
ERR_IO = 3
ERR_NOT_FOUND = 4
ERR_PERMISSION = 5
ERR_FORMAT = 6
ERR_UNSUPPORTED = 7
ERR_UTF8 = 8
ERR_RANGE = 9
ERR_SHAPE = 10
ERR_STATE = 11
ERR_INTERNAL = 12
ERR_BUFFER_TOO_SMALL = 13
ERR_NUMERIC = 14

# ---- structs ----


class TokenizerOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("lower_case", c_int), ("strip_accents", c_int),
                ("tokenize_chinese_chars", c_int), ("replace_invalid_utf8", c_int),
                ("clean_text", c_int)]


class EncodeOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("add_special_tokens", c_int),
                ("max_length", c_size_t), ("truncation", c_int32), ("padding", c_int32),
                ("stride", c_size_t), ("return_overflowing", c_int)]


class ModelOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("threads", c_int32), ("head", c_int32),
                ("num_labels", c_int32), ("problem_type", c_int32),
                ("label_names", POINTER(c_char_p)), ("seed", c_uint64),
                ("no_tokenizer", c_int32), ("reserved0", c_int32),
                ("int8", c_int32), ("reserved1", c_int32)]


class TextOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("max_length", c_int32), ("batch_size", c_int32),
                ("replace_invalid_utf8", c_int32), ("pooling", c_int32), ("normalize", c_int32),
                ("function_to_apply", c_int32), ("top_k", c_int32), ("aggregation", c_int32),
                ("doc_stride", c_int32), ("max_answer_length", c_int32),
                ("max_question_length", c_int32), ("handle_impossible_answer", c_int32)]


class LabelScore(Structure):
    _fields_ = [("label", c_int32), ("score", c_float)]


class TokenScore(Structure):
    _fields_ = [("token_id", c_int32), ("score", c_float)]


class Answer(Structure):
    _fields_ = [("score", c_float), ("reserved", c_int32), ("start", c_int64), ("end", c_int64),
                ("byte_start", c_int64), ("byte_end", c_int64)]


class Entity(Structure):
    _fields_ = [("text", c_int32), ("label", c_int32), ("score", c_float), ("token", c_int32),
                ("start", c_int64), ("end", c_int64), ("byte_start", c_int64),
                ("byte_end", c_int64)]


# ---- prototypes ----

LOG_FN = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_void_p)

P = c_void_p  # opaque handles
i32p = POINTER(c_int32)
f32p = POINTER(c_float)
sizep = POINTER(c_size_t)
strv = POINTER(c_char_p)

_protos = {
    "lm_version": (c_uint32, []),
    "lm_version_string": (c_char_p, []),
    "lm_status_string": (c_char_p, [c_int]),
    "lm_status_description": (c_char_p, [c_int]),
    "lm_last_error": (c_char_p, []),
    "lm_clear_error": (None, []),
    "lm_set_log_callback": (None, [LOG_FN, c_int, c_void_p]),
    "lm_free": (None, [c_void_p]),
    "lm_blas_kernel": (c_char_p, []),
    "lm_blas_info": (c_char_p, []),
    "lm_blas_suggested_coretype": (c_char_p, []),
    # tokenizer
    "lm_tokenizer_options_init": (c_int, [POINTER(TokenizerOptions), c_size_t]),
    "lm_tokenizer_load_vocab": (c_int, [c_char_p, POINTER(TokenizerOptions), POINTER(P)]),
    "lm_tokenizer_load_json": (c_int, [c_char_p, POINTER(TokenizerOptions), POINTER(P)]),
    "lm_tokenizer_load_dir": (c_int, [c_char_p, POINTER(TokenizerOptions), POINTER(P)]),
    "lm_tokenizer_save_dir": (c_int, [P, c_char_p]),
    "lm_tokenizer_free": (None, [P]),
    "lm_tokenizer_vocab_size": (c_size_t, [P]),
    "lm_tokenizer_token_to_id": (c_int32, [P, c_char_p]),
    "lm_tokenizer_id_to_token": (c_char_p, [P, c_int32]),
    "lm_tokenizer_special_id": (c_int32, [P, c_int]),
    "lm_encode_options_init": (c_int, [POINTER(EncodeOptions), c_size_t]),
    "lm_tokenizer_encode": (c_int, [P, c_char_p, c_size_t, POINTER(EncodeOptions), POINTER(P)]),
    "lm_tokenizer_encode_pair": (c_int, [P, c_char_p, c_size_t, c_char_p, c_size_t,
                                         POINTER(EncodeOptions), POINTER(P)]),
    "lm_tokenizer_encode_batch": (c_int, [P, c_size_t, strv, sizep, strv, sizep,
                                          POINTER(EncodeOptions), c_int, POINTER(P), i32p]),
    "lm_tokenizer_decode": (c_int, [P, i32p, c_size_t, c_int, POINTER(c_void_p)]),
    "lm_encoding_free": (None, [P]),
    "lm_encoding_length": (c_size_t, [P]),
    "lm_encoding_ids": (i32p, [P]),
    "lm_encoding_type_ids": (i32p, [P]),
    "lm_encoding_attention_mask": (i32p, [P]),
    "lm_encoding_special_tokens_mask": (i32p, [P]),
    "lm_encoding_word_ids": (i32p, [P]),
    "lm_encoding_sequence_ids": (i32p, [P]),
    "lm_encoding_offsets": (sizep, [P]),
    "lm_encoding_byte_offsets": (sizep, [P]),
    "lm_encoding_overflow_count": (c_size_t, [P]),
    "lm_encoding_overflow": (P, [P, c_size_t]),
    # model
    "lm_model_options_init": (c_int, [POINTER(ModelOptions), c_size_t]),
    "lm_model_load": (c_int, [c_char_p, POINTER(ModelOptions), POINTER(P)]),
    "lm_model_create": (c_int, [c_char_p, c_size_t, c_uint64, POINTER(ModelOptions),
                                POINTER(P)]),
    "lm_model_save": (c_int, [P, c_char_p]),
    "lm_model_tokenizer": (P, [P]),
    "lm_model_free": (None, [P]),
    "lm_model_head": (c_int, [P]),
    "lm_model_hidden_size": (c_size_t, [P]),
    "lm_model_num_layers": (c_size_t, [P]),
    "lm_model_num_heads": (c_size_t, [P]),
    "lm_model_vocab_size": (c_size_t, [P]),
    "lm_model_type_vocab_size": (c_size_t, [P]),
    "lm_model_max_length": (c_size_t, [P]),
    "lm_model_num_labels": (c_size_t, [P]),
    "lm_model_label_name": (c_char_p, [P, c_size_t]),
    "lm_model_parameter_count": (c_uint64, [P]),
    "lm_model_has_pooler": (c_int, [P]),
    "lm_model_has_fresh_head": (c_int, [P]),
    "lm_model_problem_type": (c_int32, [P]),
    "lm_model_embedding_defaults": (None, [P, POINTER(c_int), POINTER(c_int)]),
    "lm_model_config_json": (c_int, [P, POINTER(c_void_p)]),
    "lm_model_hidden_states": (c_int, [P, i32p, i32p, i32p, c_size_t, c_size_t, f32p, f32p]),
    "lm_model_embed": (c_int, [P, i32p, i32p, i32p, c_size_t, c_size_t, c_int, c_int, f32p]),
    "lm_model_classify": (c_int, [P, i32p, i32p, i32p, c_size_t, c_size_t, f32p]),
    "lm_model_token_logits": (c_int, [P, i32p, i32p, i32p, c_size_t, c_size_t, f32p]),
    "lm_model_qa_logits": (c_int, [P, i32p, i32p, i32p, c_size_t, c_size_t, f32p, f32p]),
    "lm_model_mlm_logits": (c_int, [P, i32p, i32p, i32p, c_size_t, c_size_t, sizep, c_size_t,
                                    f32p]),
    # text
    "lm_text_options_init": (c_int, [POINTER(TextOptions), c_size_t]),
    "lm_embed_texts": (c_int, [P, c_size_t, strv, sizep, POINTER(TextOptions), f32p, c_size_t]),
    "lm_classify_texts": (c_int, [P, c_size_t, strv, sizep, strv, sizep, POINTER(TextOptions),
                                  POINTER(LabelScore), c_size_t, sizep]),
    "lm_fill_mask": (c_int, [P, c_size_t, strv, sizep, POINTER(TextOptions), POINTER(TokenScore),
                             c_size_t, sizep, i32p]),
    "lm_answer_questions": (c_int, [P, c_size_t, strv, sizep, strv, sizep, POINTER(TextOptions),
                                    POINTER(Answer), c_size_t]),
    "lm_tag_texts": (c_int, [P, c_size_t, strv, sizep, POINTER(TextOptions), POINTER(Entity),
                             c_size_t, sizep]),
}

for _name, (_res, _args) in _protos.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args

_v = lib.lm_version()
version = (_v // 10000, _v // 100 % 100, _v % 100)
if version[0] != MIN_VERSION[0] or version < MIN_VERSION:
    raise ImportError(f"liblm: {lib._lm_path} is version {'.'.join(map(str, version))}; this "
                      f"package needs {MIN_VERSION[0]}.{MIN_VERSION[1]} or a later "
                      f"{MIN_VERSION[0]}.x")



class TrainerOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("optimizer", c_int32), ("schedule", c_int32),
                ("learning_rate", c_double), ("beta1", c_double), ("beta2", c_double),
                ("eps", c_double), ("weight_decay", c_double), ("momentum", c_double),
                ("nesterov", c_int32), ("accumulation_steps", c_int32),
                ("max_grad_norm", c_double), ("warmup_steps", c_int64),
                ("total_steps", c_int64), ("dropout", c_int32), ("threads", c_int32),
                ("seed", c_uint64)]


class Batch(Structure):
    _fields_ = [("struct_size", c_size_t), ("batch", c_size_t), ("seq_len", c_size_t),
                ("ids", i32p), ("type_ids", i32p), ("attention_mask", i32p), ("labels", i32p),
                ("float_labels", f32p), ("start_positions", i32p), ("end_positions", i32p)]


# The trainer (lm/trainer.h) arrived after 0.2's text calls: present when the library has it.
has_trainer = hasattr(lib, "lm_trainer_create")
if has_trainer:
    for _name, (_res, _args) in {
        "lm_trainer_options_init": (c_int, [POINTER(TrainerOptions), c_size_t]),
        "lm_batch_init": (c_int, [POINTER(Batch), c_size_t]),
        "lm_trainer_create": (c_int, [P, POINTER(TrainerOptions), POINTER(P)]),
        "lm_trainer_free": (None, [P]),
        "lm_trainer_step": (c_int, [P, POINTER(Batch), f32p]),
        "lm_trainer_evaluate": (c_int, [P, POINTER(Batch), f32p, f32p, c_size_t]),
        "lm_trainer_steps": (c_int64, [P]),
        "lm_trainer_learning_rate": (c_double, [P]),
        "lm_trainer_grad_norm": (c_double, [P]),
    }.items():
        _fn = getattr(lib, _name)
        _fn.restype = _res
        _fn.argtypes = _args

def init_options(struct_type, init_fn):
    """A struct filled by its lm_*_options_init function with our own size."""
    o = struct_type()
    s = init_fn(ctypes.byref(o), ctypes.sizeof(o))
    if s != OK:  # pragma: no cover (only a NULL pointer or a short size fail)
        raise RuntimeError(f"{init_fn.__name__} failed: {s}")
    return o


def as_bytes(text, what="text"):
    """UTF-8 bytes of a str (lone surrogates pass through, so liblm reports them as invalid
    UTF-8 with their offset); bytes and bytearray as they are."""
    if isinstance(text, str):
        return text.encode("utf-8", "surrogatepass")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError(f"{what} must be str or bytes, not {type(text).__name__}")


class TextArray:
    """Texts as the C calls take them: an array of pointers and one of byte lengths. Keeps the
    bytes alive as long as it lives."""

    __slots__ = ("n", "keep", "ptrs", "lens")

    def __init__(self, texts, what="texts"):
        self.keep = [as_bytes(t, what) for t in texts]
        self.n = len(self.keep)
        self.ptrs = (c_char_p * max(self.n, 1))(*self.keep)
        self.lens = (c_size_t * max(self.n, 1))(*[len(b) for b in self.keep])


def take_string(ptr):
    """A NUL-terminated string the library allocated, as str, freed with lm_free."""
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.lm_free(ptr)


__all__ = ["lib", "version", "has_trainer", "init_options", "TextArray"]
