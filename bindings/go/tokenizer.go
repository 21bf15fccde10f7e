package lm

/*
#include <stdlib.h>
#include <lm.h>
*/
import "C"

import (
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// SpecialToken names a special token of a BERT tokenizer (lm_special_token).
type SpecialToken int

const (
	TokenCLS  SpecialToken = C.LM_SPECIAL_CLS
	TokenSEP  SpecialToken = C.LM_SPECIAL_SEP
	TokenPAD  SpecialToken = C.LM_SPECIAL_PAD
	TokenUNK  SpecialToken = C.LM_SPECIAL_UNK
	TokenMASK SpecialToken = C.LM_SPECIAL_MASK
)

// Tokenizer is a WordPiece tokenizer: loaded by this package (freed by Close) or borrowed from
// a Model (Model.Tokenizer; valid while the model is open, and Close does nothing). It may encode
// from many goroutines at once.
type Tokenizer struct {
	mu    sync.RWMutex // read: a call runs; write: Close
	p     *C.lm_tokenizer_t
	model *Model // the owner of a borrowed tokenizer
}

type tokLoader func(*C.char, *C.lm_tokenizer_options, **C.lm_tokenizer_t) C.lm_status

func loadTokenizer(f tokLoader, path string, opts *TokenizerOptions) (*Tokenizer, error) {
	if strings.IndexByte(path, 0) >= 0 {
		return nil, invalid("the path " + path + " holds a NUL byte")
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p *C.lm_tokenizer_t
	if err := call(func() C.lm_status { return f(cpath, opts.c(), &p) }); err != nil {
		return nil, err
	}
	t := &Tokenizer{p: p}
	openHandles.Add(1)
	runtime.SetFinalizer(t, (*Tokenizer).Close)
	return t, nil
}

// LoadTokenizer loads the tokenizer of a model folder: tokenizer.json, else vocab.txt (with
// tokenizer_config.json). opts may be nil.
func LoadTokenizer(dir string, opts *TokenizerOptions) (*Tokenizer, error) {
	return loadTokenizer(func(a *C.char, o *C.lm_tokenizer_options, out **C.lm_tokenizer_t) C.lm_status {
		return C.lm_tokenizer_load_dir(a, o, out)
	}, dir, opts)
}

// LoadVocab loads a WordPiece vocab.txt.
func LoadVocab(path string, opts *TokenizerOptions) (*Tokenizer, error) {
	return loadTokenizer(func(a *C.char, o *C.lm_tokenizer_options, out **C.lm_tokenizer_t) C.lm_status {
		return C.lm_tokenizer_load_vocab(a, o, out)
	}, path, opts)
}

// LoadTokenizerJSON loads a Hugging Face tokenizer.json of the BERT kind.
func LoadTokenizerJSON(path string, opts *TokenizerOptions) (*Tokenizer, error) {
	return loadTokenizer(func(a *C.char, o *C.lm_tokenizer_options, out **C.lm_tokenizer_t) C.lm_status {
		return C.lm_tokenizer_load_json(a, o, out)
	}, path, opts)
}

// Close frees a tokenizer this package loaded (a borrowed one is the model's). Closing twice is
// fine.
func (t *Tokenizer) Close() error {
	if t.model != nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.p != nil {
		C.lm_tokenizer_free(t.p)
		t.p = nil
		openHandles.Add(-1)
	}
	return nil
}

// use runs f with the handle while it cannot be freed.
func (t *Tokenizer) use(f func(p *C.lm_tokenizer_t) error) error {
	if t.model != nil {
		return t.model.read(func(*C.lm_model_t) error { return f(t.p) })
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.p == nil {
		return closed("tokenizer")
	}
	return f(t.p)
}

// VocabSize is the number of token ids (0 once closed).
func (t *Tokenizer) VocabSize() int {
	n := 0
	_ = t.use(func(p *C.lm_tokenizer_t) error { n = int(C.lm_tokenizer_vocab_size(p)); return nil })
	return n
}

// TokenToID is the id of a token's exact text, e.g. "##ing".
func (t *Tokenizer) TokenToID(token string) (int32, bool) {
	if strings.IndexByte(token, 0) >= 0 {
		return -1, false
	}
	id := C.int32_t(-1)
	_ = t.use(func(p *C.lm_tokenizer_t) error {
		c := C.CString(token)
		defer C.free(unsafe.Pointer(c))
		id = C.lm_tokenizer_token_to_id(p, c)
		return nil
	})
	return int32(id), id >= 0
}

// IDToToken is the text of a token id.
func (t *Tokenizer) IDToToken(id int32) (string, bool) {
	s, ok := "", false
	_ = t.use(func(p *C.lm_tokenizer_t) error {
		if c := C.lm_tokenizer_id_to_token(p, C.int32_t(id)); c != nil {
			s, ok = C.GoString(c), true
		}
		return nil
	})
	return s, ok
}

// SpecialID is the id of a special token, false when the vocabulary lacks it.
func (t *Tokenizer) SpecialID(which SpecialToken) (int32, bool) {
	id := C.int32_t(-1)
	_ = t.use(func(p *C.lm_tokenizer_t) error {
		id = C.lm_tokenizer_special_id(p, C.lm_special_token(which))
		return nil
	})
	return int32(id), id >= 0
}

// Encoding is one encoded text or pair, copied out of the library (nothing to free).
type Encoding struct {
	IDs               []int32
	TypeIDs           []int32
	AttentionMask     []int32
	SpecialTokensMask []int32
	WordIDs           []int32  // -1 for special tokens and padding
	SequenceIDs       []int32  // 0 or 1; -1 for special tokens and padding
	Offsets           [][2]int // [start, end) in characters (code points) of the token's text
	ByteOffsets       [][2]int // the same in bytes
	Overflowing       []*Encoding
}

// Len is the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }

func copyEncoding(enc *C.lm_encoding_t) *Encoding {
	n := int(C.lm_encoding_length(enc))
	ints := func(p *C.int32_t) []int32 {
		out := make([]int32, n)
		if n > 0 && p != nil {
			copy(out, unsafe.Slice((*int32)(unsafe.Pointer(p)), n))
		}
		return out
	}
	spans := func(p *C.size_t) [][2]int {
		out := make([][2]int, n)
		if n > 0 && p != nil {
			raw := unsafe.Slice(p, 2*n)
			for i := range out {
				out[i] = [2]int{int(raw[2*i]), int(raw[2*i+1])}
			}
		}
		return out
	}
	e := &Encoding{
		IDs:               ints(C.lm_encoding_ids(enc)),
		TypeIDs:           ints(C.lm_encoding_type_ids(enc)),
		AttentionMask:     ints(C.lm_encoding_attention_mask(enc)),
		SpecialTokensMask: ints(C.lm_encoding_special_tokens_mask(enc)),
		WordIDs:           ints(C.lm_encoding_word_ids(enc)),
		SequenceIDs:       ints(C.lm_encoding_sequence_ids(enc)),
		Offsets:           spans(C.lm_encoding_offsets(enc)),
		ByteOffsets:       spans(C.lm_encoding_byte_offsets(enc)),
	}
	for i := 0; i < int(C.lm_encoding_overflow_count(enc)); i++ {
		if w := C.lm_encoding_overflow(enc, C.size_t(i)); w != nil {
			e.Overflowing = append(e.Overflowing, copyEncoding(w))
		}
	}
	return e
}

// Encode encodes one text: [CLS] text [SEP] with the default options. opts may be nil.
func (t *Tokenizer) Encode(text string, opts *EncodeOptions) (*Encoding, error) {
	return t.encode([]string{text}, nil, opts)
}

// EncodePair encodes a pair: [CLS] a [SEP] b [SEP], type ids 0 then 1.
func (t *Tokenizer) EncodePair(a, b string, opts *EncodeOptions) (*Encoding, error) {
	return t.encode([]string{a}, []string{b}, opts)
}

func (t *Tokenizer) encode(a, b []string, opts *EncodeOptions) (*Encoding, error) {
	ca := newTexts(a)
	defer ca.free()
	cb := newTexts(b)
	defer cb.free()
	var out *Encoding
	err := t.use(func(p *C.lm_tokenizer_t) error {
		var enc *C.lm_encoding_t
		err := call(func() C.lm_status {
			if b == nil {
				return C.lm_tokenizer_encode(p, ca.ptrs[0], ca.lens[0], opts.c(), &enc)
			}
			return C.lm_tokenizer_encode_pair(p, ca.ptrs[0], ca.lens[0], cb.ptrs[0], cb.lens[0], opts.c(), &enc)
		})
		if err == nil {
			out = copyEncoding(enc)
			C.lm_encoding_free(enc)
		}
		return err
	})
	return out, err
}

// EncodeBatch encodes many texts on `threads` threads (0: OpenMP's default); PadLongest pads to
// the longest of the batch. The first failing input fails the call.
func (t *Tokenizer) EncodeBatch(texts []string, opts *EncodeOptions, threads int) ([]*Encoding, error) {
	return t.batch(texts, nil, opts, threads)
}

// EncodePairBatch encodes the pairs (a[i], b[i]).
func (t *Tokenizer) EncodePairBatch(a, b []string, opts *EncodeOptions, threads int) ([]*Encoding, error) {
	if len(a) != len(b) {
		return nil, invalid("the first and second texts differ in number")
	}
	if b == nil {
		b = []string{}
	}
	return t.batch(a, b, opts, threads)
}

func (t *Tokenizer) batch(a, b []string, opts *EncodeOptions, threads int) ([]*Encoding, error) {
	n := len(a)
	if n == 0 {
		return []*Encoding{}, nil
	}
	ca := newTexts(a)
	defer ca.free()
	var pairs **C.char
	var pairLens *C.size_t
	if b != nil {
		cb := newTexts(b)
		defer cb.free()
		pairs, pairLens = cb.texts(), cb.sizes()
	}
	encs := make([]*C.lm_encoding_t, n)
	out := make([]*Encoding, n)
	err := t.use(func(p *C.lm_tokenizer_t) error {
		err := call(func() C.lm_status {
			return C.lm_tokenizer_encode_batch(p, C.size_t(n), ca.texts(), ca.sizes(), pairs, pairLens, opts.c(), C.int(threads), &encs[0], nil)
		})
		for i, e := range encs {
			if e != nil {
				out[i] = copyEncoding(e)
				C.lm_encoding_free(e)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Decode turns ids back into text, as Hugging Face decode().
func (t *Tokenizer) Decode(ids []int32, skipSpecialTokens bool) (string, error) {
	skip := C.int(0)
	if skipSpecialTokens {
		skip = 1
	}
	var s string
	err := t.use(func(p *C.lm_tokenizer_t) error {
		var out *C.char
		err := call(func() C.lm_status { return C.lm_tokenizer_decode(p, int32Ptr(ids), C.size_t(len(ids)), skip, &out) })
		s = takeString(out)
		return err
	})
	return s, err
}

// SaveDir writes vocab.txt and tokenizer_config.json into an existing folder.
func (t *Tokenizer) SaveDir(dir string) error {
	if strings.IndexByte(dir, 0) >= 0 {
		return invalid("the path " + dir + " holds a NUL byte")
	}
	c := C.CString(dir)
	defer C.free(unsafe.Pointer(c))
	return t.use(func(p *C.lm_tokenizer_t) error {
		return call(func() C.lm_status { return C.lm_tokenizer_save_dir(p, c) })
	})
}

// Handle is the C handle (lm_tokenizer_t *) for calls this package does not wrap; it stays owned
// by the tokenizer (or its model) and is valid until Close.
func (t *Tokenizer) Handle() unsafe.Pointer { return unsafe.Pointer(t.p) }
