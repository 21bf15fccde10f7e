"""Tokenizer and Encoding: BERT WordPiece as Hugging Face's BertTokenizerFast, through liblm."""

from __future__ import annotations

import ctypes
import os
from ctypes import byref, c_int32, c_size_t, c_void_p

import numpy as np

from . import _ffi
from ._ffi import lib
from .errors import StateError, check, error_for

_TRUNCATION = {"longest_first": 0, "only_first": 1, "only_second": 2}
_PADDING = {None: 0, False: 0, "do_not_pad": 0, True: 1, "longest": 1, "max_length": 2}
_SPECIAL = {"cls": 0, "sep": 1, "pad": 2, "unk": 3, "mask": 4}


def _tri(value):
    """A tri-state option: None = from the files (-1), else 1 or 0."""
    return -1 if value is None else int(bool(value))


def _array(ptr, n, dtype):
    if n == 0:
        return np.empty(0, dtype=dtype)
    return np.ctypeslib.as_array(ptr, shape=(n,)).astype(dtype, copy=True)


class Encoding:
    """The result of encoding one text or pair, copied out of the library (plain lists, as in
    Hugging Face tokenizers' Encoding): ids, type_ids, attention_mask, special_tokens_mask,
    word_ids (None for special tokens), sequence_ids, offsets (character [start, end) pairs in
    the text of the token's sequence), byte_offsets, tokens, overflowing."""

    __slots__ = ("ids", "type_ids", "attention_mask", "special_tokens_mask", "word_ids",
                 "sequence_ids", "offsets", "byte_offsets", "tokens", "overflowing")

    def __init__(self, handle, tok):
        n = lib.lm_encoding_length(handle)
        self.ids = _array(lib.lm_encoding_ids(handle), n, np.int32).tolist()
        self.type_ids = _array(lib.lm_encoding_type_ids(handle), n, np.int32).tolist()
        self.attention_mask = _array(lib.lm_encoding_attention_mask(handle), n, np.int32).tolist()
        self.special_tokens_mask = _array(lib.lm_encoding_special_tokens_mask(handle), n,
                                          np.int32).tolist()
        self.word_ids = [None if w < 0 else w
                         for w in _array(lib.lm_encoding_word_ids(handle), n, np.int32).tolist()]
        self.sequence_ids = [None if s < 0 else s for s in
                             _array(lib.lm_encoding_sequence_ids(handle), n, np.int32).tolist()]
        off = _array(lib.lm_encoding_offsets(handle), 2 * n, np.int64).tolist()
        self.offsets = list(zip(off[0::2], off[1::2]))
        off = _array(lib.lm_encoding_byte_offsets(handle), 2 * n, np.int64).tolist()
        self.byte_offsets = list(zip(off[0::2], off[1::2]))
        self.tokens = [tok.id_to_token(i) for i in self.ids]
        self.overflowing = [Encoding(lib.lm_encoding_overflow(handle, i), tok)
                            for i in range(lib.lm_encoding_overflow_count(handle))]

    def __len__(self):
        return len(self.ids)

    def __repr__(self):
        return f"Encoding(num_tokens={len(self.ids)}, tokens={self.tokens[:8]!r}...)"


class Tokenizer:
    """A WordPiece tokenizer.

    Tokenizer(path) loads a model folder (tokenizer.json, else vocab.txt with
    tokenizer_config.json), a tokenizer.json file or a vocab.txt file. Options left None follow
    the files. Use it as a context manager, or call close(), to free it at once."""

    def __init__(self, path, *, lower_case=None, strip_accents=None, tokenize_chinese_chars=None,
                 clean_text=None, replace_invalid_utf8=False):
        o = _ffi.init_options(_ffi.TokenizerOptions, lib.lm_tokenizer_options_init)
        o.lower_case = _tri(lower_case)
        o.strip_accents = _tri(strip_accents)
        o.tokenize_chinese_chars = _tri(tokenize_chinese_chars)
        o.clean_text = _tri(clean_text)
        o.replace_invalid_utf8 = int(bool(replace_invalid_utf8))
        path = os.fspath(path)
        if os.path.isdir(path):
            fn = lib.lm_tokenizer_load_dir
        elif path.endswith(".json"):
            fn = lib.lm_tokenizer_load_json
        else:
            fn = lib.lm_tokenizer_load_vocab
        h = c_void_p()
        check(fn(os.fsencode(path), byref(o), byref(h)))
        self._h = h
        self._owner = None  # None: this object frees the handle

    @classmethod
    def from_file(cls, path, **options):
        """Loads a tokenizer.json or vocab.txt file (as tokenizers' Tokenizer.from_file)."""
        return cls(path, **options)

    @classmethod
    def from_pretrained(cls, folder, **options):
        """Loads a model folder's tokenizer (as transformers' from_pretrained, local only)."""
        return cls(folder, **options)

    @classmethod
    def _borrow(cls, handle, owner):
        """The tokenizer a model owns: valid while `owner` lives; close() does not free it."""
        t = cls.__new__(cls)
        t._h = c_void_p(handle)
        t._owner = owner
        return t

    # ---- lifetime ----

    def close(self):
        """Frees the tokenizer (a model's own tokenizer is freed with its model)."""
        h, self._h = getattr(self, "_h", None), None
        if h and self._owner is None:
            lib.lm_tokenizer_free(h)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def handle(self):
        """The lm_tokenizer_t pointer (for ctypes callers)."""
        if not self._h:
            raise StateError("the tokenizer is closed")
        if self._owner is not None and not self._owner._h:
            raise StateError("the model that owns this tokenizer is closed")
        return self._h

    # ---- vocabulary ----

    @property
    def vocab_size(self):
        return lib.lm_tokenizer_vocab_size(self.handle)

    def get_vocab_size(self):
        return self.vocab_size

    def __len__(self):
        return self.vocab_size

    def token_to_id(self, token):
        """The id of a token, or None."""
        i = lib.lm_tokenizer_token_to_id(self.handle, _ffi.as_bytes(token, "token"))
        return None if i < 0 else i

    def id_to_token(self, id):
        """The text of an id, or None when out of range."""
        s = lib.lm_tokenizer_id_to_token(self.handle, int(id))
        return None if s is None else s.decode("utf-8", "replace")

    def special_token_id(self, which):
        """The id of "cls", "sep", "pad", "unk" or "mask", or None."""
        i = lib.lm_tokenizer_special_id(self.handle, _SPECIAL[which])
        return None if i < 0 else i

    cls_token_id = property(lambda self: self.special_token_id("cls"))
    sep_token_id = property(lambda self: self.special_token_id("sep"))
    pad_token_id = property(lambda self: self.special_token_id("pad"))
    unk_token_id = property(lambda self: self.special_token_id("unk"))
    mask_token_id = property(lambda self: self.special_token_id("mask"))

    # ---- encoding ----

    @staticmethod
    def _encode_options(add_special_tokens, max_length, truncation, padding, stride,
                        return_overflowing):
        o = _ffi.init_options(_ffi.EncodeOptions, lib.lm_encode_options_init)
        o.add_special_tokens = int(bool(add_special_tokens))
        o.max_length = int(max_length or 0)
        if truncation in (True, None, False):
            truncation = "longest_first"
        o.truncation = _TRUNCATION[truncation]
        o.padding = _PADDING[padding]
        o.stride = int(stride)
        o.return_overflowing = int(bool(return_overflowing))
        return o

    def encode(self, text, pair=None, *, add_special_tokens=True, max_length=None,
               truncation="longest_first", padding=None, stride=0, return_overflowing=False):
        """Encodes a text, or a pair `[CLS] text [SEP] pair [SEP]`. max_length truncates (0 or
        None: no limit); padding "max_length" pads to it."""
        o = self._encode_options(add_special_tokens, max_length, truncation, padding, stride,
                                 return_overflowing)
        a = _ffi.as_bytes(text)
        h = c_void_p()
        if pair is None:
            check(lib.lm_tokenizer_encode(self.handle, a, len(a), byref(o), byref(h)))
        else:
            b = _ffi.as_bytes(pair)
            check(lib.lm_tokenizer_encode_pair(self.handle, a, len(a), b, len(b), byref(o),
                                               byref(h)))
        try:
            return Encoding(h, self)
        finally:
            lib.lm_encoding_free(h)

    def encode_batch(self, texts, pairs=None, *, add_special_tokens=True, max_length=None,
                     truncation="longest_first", padding=None, stride=0,
                     return_overflowing=False, threads=0):
        """Encodes many texts (or pairs) on `threads` threads (0: all cores); padding "longest"
        pads to the longest of the batch. Raises the first failure."""
        texts = list(texts)
        o = self._encode_options(add_special_tokens, max_length, truncation, padding, stride,
                                 return_overflowing)
        a = _ffi.TextArray(texts)
        b = None
        if pairs is not None:
            b = _ffi.TextArray(list(pairs), "pairs")
            if b.n != a.n:
                raise ValueError(f"{a.n} texts but {b.n} pairs")
        n = a.n
        out = (c_void_p * max(n, 1))()
        s = lib.lm_tokenizer_encode_batch(self.handle, n, a.ptrs, a.lens,
                                          b.ptrs if b else None, b.lens if b else None,
                                          byref(o), int(threads), out, None)
        err = error_for(s) if s != _ffi.OK else None
        try:
            if err is not None:
                raise err
            return [Encoding(out[i], self) for i in range(n)]
        finally:
            for i in range(n):
                lib.lm_encoding_free(out[i])

    def __call__(self, text, text_pair=None, *, add_special_tokens=True, padding=False,
                 truncation=False, max_length=None, return_tensors=None, threads=0):
        """transformers-style: a dict of input_ids, token_type_ids, attention_mask; lists, or
        numpy arrays with return_tensors="np" (which needs equal lengths: padding)."""
        single = isinstance(text, (str, bytes))
        texts = [text] if single else list(text)
        pairs = None if text_pair is None else ([text_pair] if single else list(text_pair))
        if not truncation:
            max_length = None
        encs = self.encode_batch(texts, pairs, add_special_tokens=add_special_tokens,
                                 max_length=max_length, padding=padding, threads=threads)
        out = {k: [getattr(e, f) for e in encs] for k, f in
               (("input_ids", "ids"), ("token_type_ids", "type_ids"),
                ("attention_mask", "attention_mask"))}
        if return_tensors == "np":
            return {k: np.array(v, dtype=np.int64) for k, v in out.items()}
        if return_tensors is not None:
            raise ValueError("return_tensors must be None or 'np'")
        return {k: v[0] for k, v in out.items()} if single else out

    def decode(self, ids, skip_special_tokens=True):
        """Ids back to text, as Hugging Face decode (## pieces joined, spaces cleaned up)."""
        arr = np.ascontiguousarray(np.asarray(ids, dtype=np.int32).reshape(-1))
        p = c_void_p()
        check(lib.lm_tokenizer_decode(self.handle, arr.ctypes.data_as(ctypes.POINTER(c_int32)),
                                      c_size_t(arr.size), int(bool(skip_special_tokens)),
                                      byref(p)))
        return _ffi.take_string(p)

    def save(self, folder):
        """Writes vocab.txt and tokenizer_config.json into an existing folder."""
        check(lib.lm_tokenizer_save_dir(self.handle, os.fsencode(os.fspath(folder))))

    save_pretrained = save

    def __repr__(self):
        state = "closed" if not self._h else f"vocab_size={self.vocab_size}"
        return f"Tokenizer({state})"
