#!/usr/bin/env python3
"""Prints, for every Unicode scalar value, what Hugging Face tokenizers' BERT normalizer and
pre-tokenizer do with it alone: "cp class uncased lower strip cased" (hex code points joined by
',' or '-' for nothing; class 1 = letter, 2 = whitespace, 3 = punctuation). Input of
scripts/gen_unicode_overrides.c, which lists where utf8proc's Unicode data disagrees.
    PY=$(bash scripts/pyenv.sh tokenizers); $PY scripts/dump_hf_unicode.py > /tmp/hf_unicode.txt"""
import sys

from tokenizers import normalizers, pre_tokenizers


def bert(strip, lower):
    return normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False,
                                      strip_accents=strip, lowercase=lower)


modes = [bert(True, True), bert(False, True), bert(True, False), bert(False, False)]
pre = pre_tokenizers.BertPreTokenizer()
out = sys.stdout
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    c = chr(cp)
    k = len(pre.pre_tokenize_str("x" + c + "x"))
    fields = [",".join("%x" % ord(x) for x in m.normalize_str(c)) or "-" for m in modes]
    out.write("%x %d %s\n" % (cp, k, " ".join(fields)))
