#!/usr/bin/env python3
"""Writes the tokenizer reference fixtures under tests/data/tokenizer/ with Hugging Face
transformers (BertTokenizer, the `tokenizers`-backed fast tokenizer) from the reference venv:
    PY=$(bash scripts/pyenv.sh tokenizers transformers); $PY scripts/gen_tokenizer_fixtures.py
Each fixture is gzip'd JSON lines; `make check` compares liblm against them without Python.
Fields: ids, type (type ids), off (flat char offsets s0,e0,s1,e1,...), words (-1 = None),
special (special tokens mask), attn, seq (sequence ids, -1 = None), over (overflow encodings)."""
import gzip
import json
import lzma
import os
import shutil
import sys
import tempfile

from transformers import BertTokenizer
from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "data")
OUT = os.path.join(REPO, "tests", "data", "tokenizer")


def model_dir(vocab, lower):
    d = tempfile.mkdtemp(prefix="lm-tokref-")
    shutil.copy(vocab, os.path.join(d, "vocab.txt"))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": lower, "tokenizer_class": "BertTokenizer"}, f)
    return d


def load(vocab, lower):
    d = model_dir(vocab, lower)
    fast = BertTokenizer.from_pretrained(d, do_lower_case=lower)
    slow = BertTokenizerLegacy.from_pretrained(d, do_lower_case=lower)
    return fast, slow, d


def rec(enc, full=True):
    r = {"ids": enc.ids, "off": [x for p in enc.offsets for x in p]}
    if full:
        r["type"] = enc.type_ids
        r["words"] = [-1 if w is None else w for w in enc.word_ids]
        r["special"] = enc.special_tokens_mask
        r["attn"] = enc.attention_mask
        r["seq"] = [-1 if s is None else s for s in enc.sequence_ids]
        if enc.overflowing:
            r["over"] = [rec(o) for o in enc.overflowing]
    return r


def write(name, records):
    path = os.path.join(OUT, name)
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as f:
        for r in records:
            f.write((json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
    print(f"{name}: {len(records)} records, {os.path.getsize(path)} bytes")


def lines_of(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8") for p in parts]


def sst2_sentences():
    out = []
    for split in ("train", "dev"):
        for i, l in enumerate(lines_of(os.path.join(SHARED, "sst2", split + ".tsv"))):
            if i == 0:
                continue
            out.append(l.split("\t")[0])
    return out


def slow_diff(name, fast, slow, texts, notes):
    n = 0
    for i, t in enumerate(texts):
        a = fast.backend_tokenizer.encode(t, add_special_tokens=False).tokens
        b = slow.tokenize(t)
        if a != b:
            n += 1
            k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), min(len(a), len(b)))
            notes.append(f"{name} line {i + 1}: from token {k}: fast={json.dumps(a[k:k + 4], ensure_ascii=False)} "
                         f"slow={json.dumps(b[k:k + 4], ensure_ascii=False)}")
    notes.append(f"{name}: {n} of {len(texts)} lines differ between fast and slow")


def main():
    os.makedirs(OUT, exist_ok=True)
    unc_vocab = os.path.join(SHARED, "vocab", "bert-base-uncased.txt")
    zh_vocab = os.path.join(SHARED, "vocab", "bert-base-chinese.txt")
    unc, unc_slow, unc_dir = load(unc_vocab, True)
    cas, cas_slow, _ = load(unc_vocab, False)
    zh, zh_slow, _ = load(zh_vocab, True)
    notes = []

    # (a) SST-2 train + dev, uncased, without special tokens, in a compact text form (one line a
    # sentence): "id id id|o o o" where each o is the token's length in characters preceded by
    # its gap from the previous token's end when that gap is not 1 ("g:len").
    sst = sst2_sentences()
    encs = unc.backend_tokenizer.encode_batch(sst, add_special_tokens=False)
    path = os.path.join(OUT, "sst2_uncased.txt.xz")
    with lzma.open(path, "wb", preset=9 | lzma.PRESET_EXTREME) as f:
        for e in encs:
            prev, offs = 0, []
            for s, t in e.offsets:
                offs.append(str(t - s) if s - prev == 1 else f"{s - prev}:{t - s}")
                prev = t
            f.write((" ".join(map(str, e.ids)) + "|" + " ".join(offs) + "\n").encode())
    print(f"sst2_uncased.txt.xz: {len(encs)} lines, {os.path.getsize(path)} bytes")
    slow_diff("sst2", unc, unc_slow, sst, notes)

    # (b) Unicode stress corpus, (e) cased mode, (c) Chinese vocabulary.
    stress = lines_of(os.path.join(REPO, "tests", "data", "unicode_stress.txt"))
    for name, tok, slow in (("stress_uncased", unc, unc_slow), ("stress_cased", cas, cas_slow),
                            ("stress_chinese", zh, zh_slow)):
        write(name + ".jsonl.gz", [rec(tok.backend_tokenizer.encode(t)) for t in stress])
        slow_diff(name, tok, slow, stress, notes)
    chinese = lines_of(os.path.join(REPO, "tests", "data", "tokenizer", "chinese.txt"))
    write("chinese.jsonl.gz", [rec(zh.backend_tokenizer.encode(t)) for t in chinese])
    slow_diff("chinese", zh, zh_slow, chinese, notes)

    # Code points: every one where utf8proc's data needed an override (src/text/unicode_overrides.h)
    # and every 61st scalar value, inside words and alone, 16 a line; uncased, cased and
    # strip-accents-without-lowercase.
    import re
    with open(os.path.join(REPO, "src", "text", "unicode_overrides.h")) as f:
        cps = sorted({int(x, 16) for x in re.findall(r"\{0x([0-9a-f]+),", f.read())})
    cps = sorted(set(cps) | {c for c in range(0x80, 0x110000, 61) if not 0xD800 <= c <= 0xDFFF})
    cp_lines = []
    for i in range(0, len(cps), 16):
        cp_lines.append(" ".join("x" + chr(c) + "y " + chr(c) for c in cps[i:i + 16] if chr(c) != "\n"))
    with gzip.GzipFile(os.path.join(OUT, "codepoints.txt.gz"), "wb", compresslevel=9, mtime=0) as f:
        f.write(("\n".join(cp_lines) + "\n").encode("utf-8", "surrogatepass"))
    strip_dir = model_dir(unc_vocab, False)
    with open(os.path.join(strip_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": False, "strip_accents": True}, f)
    strip_only = BertTokenizer.from_pretrained(strip_dir, do_lower_case=False, strip_accents=True)
    assert strip_only.backend_tokenizer.normalizer.__getstate__ is not None
    for name, tok in (("codepoints_uncased", unc), ("codepoints_cased", cas), ("codepoints_strip", strip_only)):
        write(name + ".jsonl.gz", [rec(tok.backend_tokenizer.encode(t)) for t in cp_lines])

    # (d) pairs, truncation, padding, overflow windows (run through the Rust tokenizer with the
    # settings transformers passes it).
    dev = sst[-6734:]
    cases = []
    back = unc.backend_tokenizer
    configs = []
    for ml in (5, 8, 12, 16, 24, 64):
        for strat in ("longest_first", "only_first", "only_second"):
            configs.append((ml, strat, 0, None))
    configs += [(16, "only_second", 4, None), (12, "longest_first", 0, "max_length"),
                (32, "only_second", 8, "max_length"), (24, "longest_first", 3, None),
                (24, "only_first", 5, None)]
    for ci, (ml, strat, stride, pad) in enumerate(configs):
        for j in range(40):
            k = (ci * 97 + j * 13) % (len(dev) - 1)
            a, b = dev[k], dev[k + 1]
            if j % 5 == 4:
                b = a  # equal lengths
            back.no_padding()
            back.enable_truncation(ml, stride=stride, strategy=strat)
            if pad:
                back.enable_padding(pad_id=0, pad_token="[PAD]", length=ml)
            try:
                e = back.encode(a, b)
                r = rec(e)
            except BaseException as ex:  # too short to truncate with only_first/only_second
                r = {"error": str(ex).splitlines()[0]}
            r.update({"a": a, "b": b, "max_length": ml, "strategy": strat, "stride": stride,
                      "padding": pad or "none"})
            cases.append(r)
    # singles with truncation + overflow windows
    for ml, stride in ((8, 0), (8, 2), (10, 4), (16, 7), (32, 0)):
        for j in range(30):
            a = dev[(ml * 31 + j * 7) % len(dev)]
            back.no_padding()
            back.enable_truncation(ml, stride=stride)
            r = rec(back.encode(a))
            r.update({"a": a, "max_length": ml, "strategy": "longest_first", "stride": stride,
                      "padding": "none"})
            cases.append(r)
    back.no_truncation()
    back.no_padding()
    write("pairs.jsonl.gz", cases)

    # invalid UTF-8 decoded with errors="replace"
    bad = [b"abc\xffdef", b"\xe2\x82 x", b"\xf0\x9f\x98 ok \xff\xfe", b"caf\xc3", b"\xed\xa0\x80x",
           b"\xc0\xafslash", b"ok\x80\x80\x80ok", b"\xf4\x90\x80\x80 big", b"\xe0\x80\x80y",
           b"a\xf0\x90\x80b c\xe1\xbfd", b"\xfe\xff\xc2", b"mixed \xe4\xb8\xad\xff\xe6\x96\x87 [MASK]"]
    write("invalid_utf8.jsonl.gz", [dict(rec(back.encode(b.decode("utf-8", errors="replace"))),
                                         hex=b.hex()) for b in bad])

    # decode
    dec = []
    for t in stress[:400] + sst[:200] + ["hello , world ! it 's i do not know . isn ' t", "##ing start"]:
        ids = back.encode(t).ids
        for skip in (0, 1):
            dec.append({"ids": ids, "skip": skip, "text": unc.decode(ids, skip_special_tokens=bool(skip))})
    write("decode.jsonl.gz", dec)

    # tokenizer.json of the uncased tokenizer, for the tokenizer.json loader.
    with gzip.GzipFile(os.path.join(OUT, "uncased_tokenizer.json.gz"), "wb", mtime=0) as f:
        f.write(back.to_str().encode("utf-8"))

    with open(os.path.join(OUT, "slow_vs_fast.txt"), "w") as f:
        f.write("# Lines where transformers' slow Python BertTokenizer (BertTokenizerLegacy) and the\n"
                "# fast one (tokenizers) give different tokens. liblm follows the fast one.\n")
        f.write("\n".join(notes) + "\n")
    print("\n".join(n for n in notes if "differ" in n))


main()
