"""Model: a BERT-family model folder; sentence embeddings as sentence-transformers' encode, and
classify / fill_mask / answer / tag with the return values of the transformers pipelines."""

from __future__ import annotations

import ctypes
import json
import os
from ctypes import POINTER, byref, c_char_p, c_float, c_int, c_int32, c_size_t, c_void_p

import numpy as np

from . import _ffi
from ._ffi import lib
from .errors import InvalidArgumentError, LmError, StateError, check
from .tokenizer import Tokenizer

HEADS = {"auto": 0, "base": 1, "sequence-classification": 2, "token-classification": 3,
         "question-answering": 4, "masked-lm": 5}
_HEAD_NAMES = {v: k for k, v in HEADS.items()}
_PROBLEMS = {None: 0, "auto": 0, "single_label_classification": 1,
             "multi_label_classification": 2, "regression": 3}
_PROBLEM_NAMES = {1: "single_label_classification", 2: "multi_label_classification",
                  3: "regression"}
_POOLING = {None: 0, "mean": 1, "cls": 2}
_FUNCTIONS = {None: 0, "default": 0, "none": 1, "sigmoid": 2, "softmax": 3}
_AGGREGATIONS = {None: 0, "none": 0, "simple": 1, "first": 2, "average": 3, "max": 4}

_i32p = POINTER(c_int32)
_f32p = POINTER(c_float)
_UNSET = object()  # top_k not given (the pipelines answer differently then)


def _ptr(arr, ctype):
    return None if arr is None else arr.ctypes.data_as(POINTER(ctype))


def _ids(x, name):
    """A [batch, seq_len] C-contiguous int32 array from a list or array (1-D: one row)."""
    if x is None:
        return None
    a = np.ascontiguousarray(np.asarray(x), dtype=np.int32)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"{name} must be [batch, seq_len], not of shape {a.shape}")
    return a


def _token_word(enc, j, text):
    """A token's text for the token-classification pipeline: the token, or for [UNK] the
    characters it stands for."""
    if enc is None:
        return None
    if enc.tokens[j] == "[UNK]":
        b0, b1 = enc.byte_offsets[j]
        return text[b0:b1].decode("utf-8", "replace")
    return enc.tokens[j]


_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
            (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))


def _wordpiece_decode(tokens):
    """Hugging Face's WordPiece decoder (convert_tokens_to_string): "##" pieces joined to the
    token before, spaces between words, then its clean-up of spaces before punctuation."""
    out = "".join(t[2:] if i and t.startswith("##") else (" " + t if i else t)
                  for i, t in enumerate(tokens))
    for a, b in _CLEANUP:
        out = out.replace(a, b)
    return out


class Model:
    """A model folder (config.json, model.safetensors, tokenizer files), loaded by liblm.

    Model(folder, head=None, threads=0): head None follows config.json; another head
    ("sequence-classification", ...) is loaded, fresh when the checkpoint lacks it (num_labels,
    labels, problem_type and seed describe that fresh head). Inference may run from many threads
    at once; close() (or the with block's end) must wait until no call runs. int8=True runs the
    encoder's products in int8 (weights per output channel, activations per row)."""

    def __init__(self, folder, *, head=None, threads=0, num_labels=None, labels=None,
                 problem_type=None, seed=0, load_tokenizer=True, int8=False):
        o = self._options(head, threads, num_labels, labels, problem_type, seed, load_tokenizer,
                          int8)
        h = c_void_p()
        check(lib.lm_model_load(os.fsencode(os.fspath(folder)), byref(o), byref(h)))
        self._h = h
        self.path = os.fspath(folder)

    @staticmethod
    def _options(head, threads, num_labels, labels, problem_type, seed, load_tokenizer,
                 int8=False):
        o = _ffi.init_options(_ffi.ModelOptions, lib.lm_model_options_init)
        o.threads = int(threads)
        o.head = HEADS[head or "auto"]
        o.problem_type = _PROBLEMS[problem_type]
        o.seed = int(seed)
        o.no_tokenizer = 0 if load_tokenizer else 1
        o.int8 = 1 if int8 else 0
        if labels is not None:
            labels = [_ffi.as_bytes(x, "label") for x in labels]
            o._labels = (c_char_p * len(labels))(*labels)  # kept alive with the options
            o.label_names = ctypes.cast(o._labels, POINTER(c_char_p))
            o.num_labels = len(labels)
        if num_labels is not None:
            o.num_labels = int(num_labels)
        return o

    @classmethod
    def from_pretrained(cls, folder, **kwargs):
        """Loads a local folder (as transformers' from_pretrained)."""
        return cls(folder, **kwargs)

    @classmethod
    def create(cls, config, *, seed=0, head=None, threads=0):
        """A model with fresh weights (transformers' initialisation) from a config: a dict or
        config.json text."""
        text = config if isinstance(config, (str, bytes)) else json.dumps(config)
        text = _ffi.as_bytes(text, "config")
        o = cls._options(head, threads, None, None, None, 0, False)
        h = c_void_p()
        check(lib.lm_model_create(text, len(text), int(seed), byref(o), byref(h)))
        m = cls.__new__(cls)
        m._h = h
        m.path = None
        return m

    def save(self, folder):
        """Writes a Hugging Face folder (config.json, model.safetensors, tokenizer files)."""
        check(lib.lm_model_save(self.handle, os.fsencode(os.fspath(folder))))

    save_pretrained = save

    # ---- lifetime ----

    def close(self):
        """Frees the model (and its tokenizer). No call may be running on it."""
        h, self._h = getattr(self, "_h", None), None
        if h:
            lib.lm_model_free(h)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def handle(self):
        """The lm_model_t pointer (for ctypes callers)."""
        if not self._h:
            raise StateError("the model is closed")
        return self._h

    # ---- information ----

    head = property(lambda self: _HEAD_NAMES[lib.lm_model_head(self.handle)])
    hidden_size = property(lambda self: lib.lm_model_hidden_size(self.handle))
    num_layers = property(lambda self: lib.lm_model_num_layers(self.handle))
    num_heads = property(lambda self: lib.lm_model_num_heads(self.handle))
    vocab_size = property(lambda self: lib.lm_model_vocab_size(self.handle))
    type_vocab_size = property(lambda self: lib.lm_model_type_vocab_size(self.handle))
    max_length = property(lambda self: lib.lm_model_max_length(self.handle))
    num_labels = property(lambda self: lib.lm_model_num_labels(self.handle))
    parameter_count = property(lambda self: lib.lm_model_parameter_count(self.handle))
    has_pooler = property(lambda self: bool(lib.lm_model_has_pooler(self.handle)))
    has_fresh_head = property(lambda self: bool(lib.lm_model_has_fresh_head(self.handle)))

    def get_sentence_embedding_dimension(self):
        """The embedding size (sentence-transformers' name for it)."""
        return self.hidden_size

    @property
    def problem_type(self):
        return _PROBLEM_NAMES.get(lib.lm_model_problem_type(self.handle))

    @property
    def labels(self):
        """Label names by id (config.json id2label)."""
        h = self.handle
        return [lib.lm_model_label_name(h, i).decode("utf-8", "replace")
                for i in range(lib.lm_model_num_labels(h))]

    @property
    def id2label(self):
        return dict(enumerate(self.labels))

    @property
    def config(self):
        """config.json as a dict."""
        p = c_void_p()
        check(lib.lm_model_config_json(self.handle, byref(p)))
        return json.loads(_ffi.take_string(p))

    @property
    def tokenizer(self):
        """The model's own tokenizer (None when the folder has none)."""
        t = lib.lm_model_tokenizer(self.handle)
        return None if not t else Tokenizer._borrow(t, self)

    def __repr__(self):
        if not self._h:
            return "Model(closed)"
        return (f"Model({self.path!r}, head={self.head!r}, hidden_size={self.hidden_size}, "
                f"layers={self.num_layers})")

    # ---- forward passes on token ids ----

    def _batch(self, input_ids, attention_mask, token_type_ids):
        ids = _ids(input_ids, "input_ids")
        mask = _ids(attention_mask, "attention_mask")
        types = _ids(token_type_ids, "token_type_ids")
        for name, a in (("attention_mask", mask), ("token_type_ids", types)):
            if a is not None and a.shape != ids.shape:
                raise ValueError(f"{name} has shape {a.shape}, input_ids {ids.shape}")
        return ids, mask, types

    def hidden_states(self, input_ids, attention_mask=None, token_type_ids=None, *,
                      return_pooled=False):
        """The last hidden state [batch, seq_len, hidden] (and the pooler output [batch,
        hidden] with return_pooled)."""
        ids, mask, types = self._batch(input_ids, attention_mask, token_type_ids)
        B, T = ids.shape
        out = np.empty((B, T, self.hidden_size), dtype=np.float32)
        pooled = np.empty((B, self.hidden_size), dtype=np.float32) if return_pooled else None
        check(lib.lm_model_hidden_states(self.handle, _ptr(ids, c_int32), _ptr(types, c_int32),
                                         _ptr(mask, c_int32), B, T, _ptr(out, c_float),
                                         _ptr(pooled, c_float)))
        return (out, pooled) if return_pooled else out

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        """The head's output on token ids: sequence classification [batch, num_labels] logits;
        token classification [batch, seq_len, num_labels]; question answering a pair (start,
        end) of [batch, seq_len]; masked LM [batch, seq_len, vocab]; base: the hidden state."""
        ids, mask, types = self._batch(input_ids, attention_mask, token_type_ids)
        B, T = ids.shape
        h = self.handle
        head = lib.lm_model_head(h)
        args = (h, _ptr(ids, c_int32), _ptr(types, c_int32), _ptr(mask, c_int32), B, T)
        if head == HEADS["sequence-classification"]:
            out = np.empty((B, self.num_labels), dtype=np.float32)
            check(lib.lm_model_classify(*args, _ptr(out, c_float)))
        elif head == HEADS["token-classification"]:
            out = np.empty((B, T, self.num_labels), dtype=np.float32)
            check(lib.lm_model_token_logits(*args, _ptr(out, c_float)))
        elif head == HEADS["question-answering"]:
            start = np.empty((B, T), dtype=np.float32)
            end = np.empty((B, T), dtype=np.float32)
            check(lib.lm_model_qa_logits(*args, _ptr(start, c_float), _ptr(end, c_float)))
            return start, end
        elif head == HEADS["masked-lm"]:
            out = np.empty((B, T, self.vocab_size), dtype=np.float32)
            check(lib.lm_model_mlm_logits(*args, None, 0, _ptr(out, c_float)))
        else:
            return self.hidden_states(ids, mask, types)
        return out

    __call__ = forward

    # ---- text in, answers out ----

    @staticmethod
    def _text_options(max_length=None, batch_size=None, replace_invalid_utf8=False, **fields):
        o = _ffi.init_options(_ffi.TextOptions, lib.lm_text_options_init)
        o.max_length = int(max_length or 0)
        o.batch_size = int(batch_size or 0)
        o.replace_invalid_utf8 = int(bool(replace_invalid_utf8))
        for k, v in fields.items():
            setattr(o, k, int(v))
        return o

    def encode(self, sentences, batch_size=32, *, normalize_embeddings=None, pooling=None,
               max_length=None, replace_invalid_utf8=False, convert_to_numpy=True,
               show_progress_bar=None):
        """Sentence embeddings, as sentence-transformers' encode: a float32 array [n, hidden]
        (one string: [hidden]). normalize_embeddings None and pooling None follow the folder's
        sentence-transformers modules (else mean pooling, no normalisation)."""
        del show_progress_bar  # accepted for sentence-transformers compatibility
        single = isinstance(sentences, (str, bytes))
        a = _ffi.TextArray([sentences] if single else list(sentences))
        norm = -1 if normalize_embeddings is None else int(bool(normalize_embeddings))
        o = self._text_options(max_length, batch_size, replace_invalid_utf8,
                               pooling=_POOLING[pooling], normalize=norm)
        out = np.empty((a.n, self.hidden_size), dtype=np.float32)
        check(lib.lm_embed_texts(self.handle, a.n, a.ptrs, a.lens, byref(o), _ptr(out, c_float),
                                 out.size))
        if single:
            out = out[0]
        return out if convert_to_numpy else out.tolist()

    def classify(self, inputs, *, top_k=_UNSET, function_to_apply=None, max_length=None,
                 batch_size=None, replace_invalid_utf8=False):
        """Text classification, as transformers' pipeline("text-classification"): a text, a
        {"text", "text_pair"} dict or a (text, text_pair) tuple, or a list of them. Without
        top_k: one {"label", "score"} per input ([that dict] for a single input); with top_k
        (None: all labels): a list of the best k per input, best first."""
        single = isinstance(inputs, (str, bytes, dict, tuple))
        items = [inputs] if single else list(inputs)
        firsts, seconds, any_pair = [], [], False
        for x in items:
            if isinstance(x, dict):
                firsts.append(x["text"])
                seconds.append(x.get("text_pair") or "")
                any_pair = any_pair or "text_pair" in x
            elif isinstance(x, tuple):
                firsts.append(x[0])
                seconds.append(x[1])
                any_pair = True
            else:
                firsts.append(x)
                seconds.append("")
        a = _ffi.TextArray(firsts)
        b = _ffi.TextArray(seconds, "text pairs") if any_pair else None
        k = 1 if top_k is _UNSET else (-1 if top_k is None else int(top_k))
        o = self._text_options(max_length, batch_size, replace_invalid_utf8, top_k=k,
                               function_to_apply=_FUNCTIONS[function_to_apply])
        L = max(self.num_labels, 1)
        res = (_ffi.LabelScore * max(a.n * L, 1))()
        kout = c_size_t()
        check(lib.lm_classify_texts(self.handle, a.n, a.ptrs, a.lens, b.ptrs if b else None,
                                    b.lens if b else None, byref(o), res, a.n * L, byref(kout)))
        names, k = self.labels, kout.value
        out = [[{"label": names[r.label], "score": float(r.score)}
                for r in res[i * k:(i + 1) * k]] for i in range(a.n)]
        if top_k is _UNSET:  # the pipeline's legacy answer: the best label alone
            return [r[0] for r in out]
        return out[0] if single else out

    def fill_mask(self, inputs, *, top_k=5, max_length=None, batch_size=None,
                  replace_invalid_utf8=False):
        """Fills the [MASK] tokens, as transformers' pipeline("fill-mask"): per text, for one
        mask a list of top_k {"score", "token", "token_str", "sequence"}, for several masks a
        list of such lists; a list of texts gives a list of those."""
        single = isinstance(inputs, (str, bytes))
        texts = [inputs] if single else list(inputs)
        a = _ffi.TextArray(texts)
        o = self._text_options(max_length, batch_size, replace_invalid_utf8, top_k=top_k)
        need = c_size_t()
        masks = (c_int32 * max(a.n, 1))()
        # capacity 0 first: liblm counts the masks before running the model
        s = lib.lm_fill_mask(self.handle, a.n, a.ptrs, a.lens, byref(o), None, 0, byref(need),
                             masks)
        if s not in (_ffi.OK, _ffi.ERR_BUFFER_TOO_SMALL):
            check(s)
        res = (_ffi.TokenScore * max(need.value, 1))()
        check(lib.lm_fill_mask(self.handle, a.n, a.ptrs, a.lens, byref(o), res, need.value,
                               byref(need), masks))
        tok = self.tokenizer
        mask_id = tok.mask_token_id
        pad_id = tok.pad_token_id
        total = sum(masks[i] for i in range(a.n))
        k = need.value // total if total else 0
        limit = self.max_length if not max_length else int(max_length)
        results, at = [], 0
        for i in range(a.n):
            try:  # the tokens of the text, as the pipeline builds "sequence" from them
                ids = tok.encode(a.keep[i], max_length=limit).ids
            except LmError:  # invalid UTF-8 the model replaced
                ids = None
            positions = [j for j, t in enumerate(ids or []) if t == mask_id]
            per_text = []
            for m in range(masks[i]):
                row = []
                for r in res[at:at + k]:
                    entry = {"score": float(r.score), "token": r.token_id,
                             "token_str": tok.decode([r.token_id])}
                    if ids is not None and m < len(positions):
                        filled = list(ids)
                        filled[positions[m]] = r.token_id
                        filled = [t for t in filled if t != pad_id]
                        entry["sequence"] = tok.decode(filled,
                                                       skip_special_tokens=masks[i] == 1)
                    row.append(entry)
                at += k
                per_text.append(row)
            results.append(per_text[0] if masks[i] == 1 else per_text)
        return results[0] if single else results

    def answer(self, question, context, *, top_k=1, doc_stride=None, max_answer_len=None,
               max_seq_len=None, max_question_len=None, handle_impossible_answer=False,
               batch_size=None, replace_invalid_utf8=False):
        """Extractive question answering, as transformers' question-answering pipeline: one
        {"score", "start", "end", "answer"} (top_k 1), or a list of top_k; lists of questions
        and contexts (or one context for all) give a list of those."""
        single = isinstance(question, (str, bytes))
        questions = [question] if single else list(question)
        if isinstance(context, (str, bytes)):
            contexts = [context] * len(questions)
        else:
            contexts = list(context)
        if len(contexts) != len(questions):
            raise InvalidArgumentError(f"{len(questions)} questions but {len(contexts)} "
                                       "contexts")
        q = _ffi.TextArray(questions, "questions")
        c = _ffi.TextArray(contexts, "contexts")
        k = int(top_k)
        o = self._text_options(max_seq_len, batch_size, replace_invalid_utf8, top_k=k,
                               doc_stride=doc_stride or 0, max_answer_length=max_answer_len or 0,
                               max_question_length=max_question_len or 0,
                               handle_impossible_answer=bool(handle_impossible_answer))
        res = (_ffi.Answer * max(q.n * k, 1))()
        check(lib.lm_answer_questions(self.handle, q.n, q.ptrs, q.lens, c.ptrs, c.lens, byref(o),
                                      res, q.n * k))
        out = []
        for i in range(q.n):
            ctx = c.keep[i]
            row = []
            for r in res[i * k:(i + 1) * k]:
                if r.start < 0:
                    continue  # fewer candidate spans than top_k
                text = ctx[r.byte_start:r.byte_end].decode("utf-8", "replace")
                row.append({"score": float(r.score), "start": r.start, "end": r.end,
                            "answer": text})
            out.append(row[0] if k == 1 and row else row)
        return out[0] if single else out

    def tag(self, inputs, *, aggregation_strategy="none", max_length=None, batch_size=None,
            replace_invalid_utf8=False):
        """Token classification, as transformers' pipeline("token-classification"): per text a
        list of entities. Without aggregation {"entity", "score", "index", "word", "start",
        "end"} ("word" the token); with "simple", "first", "average" or "max" {"entity_group",
        "score", "word", "start", "end"} ("word" the group's tokens joined, as the pipeline;
        the text itself is text[start:end])."""
        single = isinstance(inputs, (str, bytes))
        texts = [inputs] if single else list(inputs)
        a = _ffi.TextArray(texts)
        agg = _AGGREGATIONS[aggregation_strategy]
        o = self._text_options(max_length, batch_size, replace_invalid_utf8, aggregation=agg)
        per_text = int(max_length) if max_length else self.max_length
        cap = max(a.n * per_text, 1)  # at most one entity per token of the truncated text
        res = (_ffi.Entity * cap)()
        n = c_size_t()
        check(lib.lm_tag_texts(self.handle, a.n, a.ptrs, a.lens, byref(o), res, cap, byref(n)))
        names = self.labels
        tok = self.tokenizer
        out = [[] for _ in range(a.n)]
        encs = {}
        for r in res[:n.value]:
            if r.text not in encs:  # the text's tokens, for "word" as the pipeline writes it
                try:
                    encs[r.text] = tok.encode(a.keep[r.text], max_length=per_text)
                except LmError:  # invalid UTF-8 the model replaced
                    encs[r.text] = None
            enc = encs[r.text]
            name = names[r.label]
            if agg == 0:
                ent = {"entity": name, "score": float(r.score), "index": r.token,
                       "word": _token_word(enc, r.token, a.keep[r.text])}
            else:
                if enc:  # the tokenizer's decoder over the group's tokens, as the pipeline
                    pieces = [_token_word(enc, j, a.keep[r.text])
                              for j, ((b0, b1), sq) in enumerate(zip(enc.byte_offsets,
                                                                     enc.sequence_ids))
                              if sq is not None and b0 >= r.byte_start and b1 <= r.byte_end]
                    word = _wordpiece_decode(pieces)
                else:
                    word = a.keep[r.text][r.byte_start:r.byte_end].decode("utf-8", "replace")
                ent = {"entity_group": name.split("-", 1)[-1], "score": float(r.score),
                       "word": word}
            ent["start"] = r.start
            ent["end"] = r.end
            out[r.text].append(ent)
        return out[0] if single else out
