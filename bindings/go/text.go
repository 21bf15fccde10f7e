package lm

/*
#include <lm.h>
*/
import "C"

import (
	"fmt"
)

// LabelScore is a label and its score (classification).
type LabelScore struct {
	Label int
	Score float32
}

// TokenScore is a candidate token for a masked position and its probability.
type TokenScore struct {
	TokenID int32
	Score   float32
}

// Answer is an extractive answer: a span of the context in characters (code points) and bytes.
// An empty span is the "no answer" of HandleImpossibleAnswer.
type Answer struct {
	Score              float32
	Start, End         int
	ByteStart, ByteEnd int
}

// Text is the answer's text in its context.
func (a Answer) Text(context string) string { return context[a.ByteStart:a.ByteEnd] }

// Entity is an entity (or, without aggregation, a token) found by token classification.
type Entity struct {
	Label              int
	Score              float32
	Token              int // without aggregation: the token's index in the encoding; else -1
	Start, End         int
	ByteStart, ByteEnd int
}

// Embed gives the sentence embedding of each text (one row of HiddenSize floats), as
// sentence-transformers' encode. opts may be nil.
func (m *Model) Embed(texts []string, opts *TextOptions) ([][]float32, error) {
	c := m.HiddenSize()
	flat := make([]float32, len(texts)*c)
	ct := newTexts(texts)
	defer ct.free()
	err := m.read(func(p *C.lm_model_t) error {
		return call(func() C.lm_status {
			return C.lm_embed_texts(p, C.size_t(len(texts)), ct.texts(), ct.sizes(), opts.c(), floatPtr(flat), C.size_t(len(flat)))
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = flat[i*c : (i+1)*c : (i+1)*c]
	}
	return out, nil
}

// Classify gives the best labels of each text, best first (the text-classification pipeline:
// TopK 0 gives the best one, -1 all).
func (m *Model) Classify(texts []string, opts *TextOptions) ([][]LabelScore, error) {
	return m.classify(texts, nil, opts)
}

// ClassifyPairs classifies the pairs (texts[i], pairs[i]); an empty second text makes a single
// text.
func (m *Model) ClassifyPairs(texts, pairs []string, opts *TextOptions) ([][]LabelScore, error) {
	if len(texts) != len(pairs) {
		return nil, invalid(fmt.Sprintf("%d texts but %d second texts", len(texts), len(pairs)))
	}
	if pairs == nil {
		pairs = []string{}
	}
	return m.classify(texts, pairs, opts)
}

func (m *Model) classify(texts, pairs []string, opts *TextOptions) ([][]LabelScore, error) {
	n := len(texts)
	labels := m.NumLabels()
	if labels < 1 {
		labels = 1
	}
	res := make([]C.lm_label_score, n*labels) // k <= num_labels whatever TopK says
	ct := newTexts(texts)
	defer ct.free()
	var pt, pl = (**C.char)(nil), (*C.size_t)(nil)
	if pairs != nil {
		cp := newTexts(pairs)
		defer cp.free()
		pt, pl = cp.texts(), cp.sizes()
	}
	var k C.size_t
	err := m.read(func(p *C.lm_model_t) error {
		return call(func() C.lm_status {
			var r *C.lm_label_score
			if len(res) > 0 {
				r = &res[0]
			}
			return C.lm_classify_texts(p, C.size_t(n), ct.texts(), ct.sizes(), pt, pl, opts.c(), r, C.size_t(len(res)), &k)
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([][]LabelScore, n)
	for i := range out {
		out[i] = make([]LabelScore, int(k))
		for j := range out[i] {
			r := res[i*int(k)+j]
			out[i][j] = LabelScore{Label: int(r.label), Score: float32(r.score)}
		}
	}
	return out, nil
}

// FillMask fills the [MASK] tokens of each text (the fill-mask pipeline): for each text, for each
// of its masks in order, the TopK candidates (default 5), best first.
func (m *Model) FillMask(texts []string, opts *TextOptions) ([][][]TokenScore, error) {
	n := len(texts)
	vocab := m.VocabSize()
	k := 5
	if opts != nil && opts.TopK > 0 {
		k = opts.TopK
	} else if opts != nil && opts.TopK < 0 {
		k = vocab
	}
	if k > vocab {
		k = vocab
	}
	// one mask a text first; the library counts the masks before it runs the model and says how
	// many entries it needs, so a second call costs only the tokenization again
	res := make([]C.lm_token_score, n*k)
	masks := make([]C.int32_t, n)
	ct := newTexts(texts)
	defer ct.free()
	var need C.size_t
	run := func() error {
		return m.read(func(p *C.lm_model_t) error {
			return call(func() C.lm_status {
				var r *C.lm_token_score
				if len(res) > 0 {
					r = &res[0]
				}
				var mp *C.int32_t
				if n > 0 {
					mp = &masks[0]
				}
				return C.lm_fill_mask(p, C.size_t(n), ct.texts(), ct.sizes(), opts.c(), r, C.size_t(len(res)), &need, mp)
			})
		})
	}
	err := run()
	if e, ok := err.(*Error); ok && e.Status == ErrBufferTooSmall && int(need) > len(res) {
		res = make([]C.lm_token_score, int(need))
		err = run()
	}
	if err != nil {
		return nil, err
	}
	total := 0
	for _, c := range masks {
		total += int(c)
	}
	per := 0
	if total > 0 {
		per = int(need) / total
	}
	out := make([][][]TokenScore, n)
	at := 0
	for i := range out {
		out[i] = make([][]TokenScore, int(masks[i]))
		for j := range out[i] {
			cands := make([]TokenScore, per)
			for c := range cands {
				r := res[at]
				at++
				cands[c] = TokenScore{TokenID: int32(r.token_id), Score: float32(r.score)}
			}
			out[i][j] = cands
		}
	}
	return out, nil
}

// Answer answers each question about its own context (the question-answering pipeline): the
// TopK answers (default 1) of each, best first (fewer when the context has fewer candidate
// spans).
func (m *Model) Answer(questions, contexts []string, opts *TextOptions) ([][]Answer, error) {
	n := len(questions)
	if len(contexts) != n {
		return nil, invalid(fmt.Sprintf("%d questions but %d contexts", n, len(contexts)))
	}
	k := 1
	if opts != nil && opts.TopK > 0 {
		k = opts.TopK
	}
	res := make([]C.lm_answer, n*k)
	cq, cc := newTexts(questions), newTexts(contexts)
	defer cq.free()
	defer cc.free()
	err := m.read(func(p *C.lm_model_t) error {
		return call(func() C.lm_status {
			var r *C.lm_answer
			if len(res) > 0 {
				r = &res[0]
			}
			return C.lm_answer_questions(p, C.size_t(n), cq.texts(), cq.sizes(), cc.texts(), cc.sizes(), opts.c(), r, C.size_t(len(res)))
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([][]Answer, n)
	for i := range out {
		out[i] = []Answer{}
		for _, a := range res[i*k : (i+1)*k] {
			if a.start < 0 || a.end < 0 {
				continue // fewer candidate spans than TopK
			}
			out[i] = append(out[i], Answer{Score: float32(a.score), Start: int(a.start), End: int(a.end), ByteStart: int(a.byte_start), ByteEnd: int(a.byte_end)})
		}
	}
	return out, nil
}

// Tag runs token classification on each text (the token-classification pipeline, "O" left
// out): the entities of each text in position order.
func (m *Model) Tag(texts []string, opts *TextOptions) ([][]Entity, error) {
	n := len(texts)
	// at most one entity per token and max_length tokens an input: the library checks the buffer
	// after running the model, so it is sized never to be short
	per := m.TextMaxLength()
	if opts != nil && opts.MaxLength > 0 {
		per = opts.MaxLength
	}
	if per < 1 {
		per = 1
	}
	res := make([]C.lm_entity, n*per)
	ct := newTexts(texts)
	defer ct.free()
	var count C.size_t
	run := func() error {
		return m.read(func(p *C.lm_model_t) error {
			return call(func() C.lm_status {
				var r *C.lm_entity
				if len(res) > 0 {
					r = &res[0]
				}
				return C.lm_tag_texts(p, C.size_t(n), ct.texts(), ct.sizes(), opts.c(), r, C.size_t(len(res)), &count)
			})
		})
	}
	err := run()
	if e, ok := err.(*Error); ok && e.Status == ErrBufferTooSmall && int(count) > len(res) {
		res = make([]C.lm_entity, int(count))
		err = run()
	}
	if err != nil {
		return nil, err
	}
	out := make([][]Entity, n)
	for i := range out {
		out[i] = []Entity{}
	}
	for _, e := range res[:int(count)] {
		if int(e.text) < 0 || int(e.text) >= n {
			continue
		}
		out[e.text] = append(out[e.text], Entity{Label: int(e.label), Score: float32(e.score), Token: int(e.token),
			Start: int(e.start), End: int(e.end), ByteStart: int(e.byte_start), ByteEnd: int(e.byte_end)})
	}
	return out, nil
}
