package lm

/*
#include <stdlib.h>
#include <lm.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Model is a BERT-family model: configuration, weights, head and (when its folder has one) its
// tokenizer. Inference may run from many goroutines at once. Close frees it (a finalizer does
// too, as a safety net).
type Model struct {
	mu sync.RWMutex // read: an inference call runs; write: Close, NewTrainer, a trainer's step
	p  *C.lm_model_t
	// a trainer is open on the model (a flag, not a pointer: an unclosed trainer must stay
	// collectable, so that its finalizer releases the model)
	training bool
}

func newModel(p *C.lm_model_t) *Model {
	m := &Model{p: p}
	openHandles.Add(1)
	runtime.SetFinalizer(m, (*Model).Close)
	return m
}

// Load loads a Hugging Face BERT model folder (config.json, model.safetensors, tokenizer files).
// opts may be nil.
func Load(dir string, opts *ModelOptions) (*Model, error) {
	if strings.IndexByte(dir, 0) >= 0 {
		return nil, invalid("the path " + dir + " holds a NUL byte")
	}
	c := C.CString(dir)
	defer C.free(unsafe.Pointer(c))
	var p *C.lm_model_t
	err := opts.withC(func(o *C.lm_model_options) error {
		return call(func() C.lm_status { return C.lm_model_load(c, o, &p) })
	})
	if err != nil {
		return nil, err
	}
	return newModel(p), nil
}

// Create makes a model with fresh weights from a config.json text (it has no tokenizer).
func Create(configJSON string, seed uint64, opts *ModelOptions) (*Model, error) {
	ct := newTexts([]string{configJSON})
	defer ct.free()
	var p *C.lm_model_t
	err := opts.withC(func(o *C.lm_model_options) error {
		return call(func() C.lm_status { return C.lm_model_create(ct.ptrs[0], ct.lens[0], C.uint64_t(seed), o, &p) })
	})
	if err != nil {
		return nil, err
	}
	return newModel(p), nil
}

// Close frees the model. It fails while a trainer is open on it; closing twice is fine.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.training {
		return &Error{Status: ErrState, Message: "a trainer is open on the model: close it first"}
	}
	if m.p != nil {
		C.lm_model_free(m.p)
		m.p = nil
		openHandles.Add(-1)
	}
	return nil
}

// read runs f with the handle while it cannot be freed nor trained (many may run at once).
func (m *Model) read(f func(p *C.lm_model_t) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.p == nil {
		return closed("model")
	}
	return f(m.p)
}

func (m *Model) info(f func(p *C.lm_model_t)) {
	_ = m.read(func(p *C.lm_model_t) error { f(p); return nil })
}

// Save writes the model as a Hugging Face folder (created when missing; its parent must exist).
func (m *Model) Save(dir string) error {
	if strings.IndexByte(dir, 0) >= 0 {
		return invalid("the path " + dir + " holds a NUL byte")
	}
	c := C.CString(dir)
	defer C.free(unsafe.Pointer(c))
	return m.read(func(p *C.lm_model_t) error {
		return call(func() C.lm_status { return C.lm_model_save(p, c) })
	})
}

// Tokenizer is the tokenizer loaded with the model, or nil. It is the model's: valid while the
// model is open.
func (m *Model) Tokenizer() *Tokenizer {
	var t *Tokenizer
	m.info(func(p *C.lm_model_t) {
		if tp := C.lm_model_tokenizer(p); tp != nil {
			t = &Tokenizer{p: (*C.lm_tokenizer_t)(unsafe.Pointer(tp)), model: m}
		}
	})
	return t
}

// Head is the head the model runs.
func (m *Model) Head() Head {
	var h Head
	m.info(func(p *C.lm_model_t) { h = Head(C.lm_model_head(p)) })
	return h
}

func (m *Model) size(f func(*C.lm_model_t) C.size_t) int {
	n := 0
	m.info(func(p *C.lm_model_t) { n = int(f(p)) })
	return n
}

// HiddenSize is the length of an embedding.
func (m *Model) HiddenSize() int {
	return m.size(func(p *C.lm_model_t) C.size_t { return C.lm_model_hidden_size(p) })
}

// NumLayers is the number of encoder layers.
func (m *Model) NumLayers() int {
	return m.size(func(p *C.lm_model_t) C.size_t { return C.lm_model_num_layers(p) })
}

// NumHeads is the number of attention heads.
func (m *Model) NumHeads() int {
	return m.size(func(p *C.lm_model_t) C.size_t { return C.lm_model_num_heads(p) })
}

// VocabSize is the number of token ids the model takes.
func (m *Model) VocabSize() int {
	return m.size(func(p *C.lm_model_t) C.size_t { return C.lm_model_vocab_size(p) })
}

// TypeVocabSize is the number of token types.
func (m *Model) TypeVocabSize() int {
	return m.size(func(p *C.lm_model_t) C.size_t { return C.lm_model_type_vocab_size(p) })
}

// MaxLength is the longest sequence the model accepts (max_position_embeddings).
func (m *Model) MaxLength() int {
	return m.size(func(p *C.lm_model_t) C.size_t { return C.lm_model_max_length(p) })
}

// TextMaxLength is the tokens per input the text-level calls use by default
// (sentence-transformers' max_seq_length, else the tokenizer's model_max_length, else MaxLength).
func (m *Model) TextMaxLength() int {
	return m.size(func(p *C.lm_model_t) C.size_t { return C.lm_model_text_max_length(p) })
}

// NumLabels is the label count of the classification heads.
func (m *Model) NumLabels() int {
	return m.size(func(p *C.lm_model_t) C.size_t { return C.lm_model_num_labels(p) })
}

// LabelName is a label's name (config.json id2label), "" when out of range.
func (m *Model) LabelName(id int) string {
	s := ""
	m.info(func(p *C.lm_model_t) {
		if c := C.lm_model_label_name(p, C.size_t(id)); c != nil {
			s = C.GoString(c)
		}
	})
	return s
}

// Labels are every label's name, by id.
func (m *Model) Labels() []string {
	out := make([]string, m.NumLabels())
	for i := range out {
		out[i] = m.LabelName(i)
	}
	return out
}

// ParameterCount is the number of parameters (tied weights counted once).
func (m *Model) ParameterCount() uint64 {
	var n uint64
	m.info(func(p *C.lm_model_t) { n = uint64(C.lm_model_parameter_count(p)) })
	return n
}

// HasPooler says whether the model has a pooler.
func (m *Model) HasPooler() bool {
	b := false
	m.info(func(p *C.lm_model_t) { b = C.lm_model_has_pooler(p) != 0 })
	return b
}

// HasFreshHead says whether the head was initialised at load (the checkpoint lacked it).
func (m *Model) HasFreshHead() bool {
	b := false
	m.info(func(p *C.lm_model_t) { b = C.lm_model_has_fresh_head(p) != 0 })
	return b
}

// ProblemType is what a sequence-classification model predicts.
func (m *Model) ProblemType() ProblemType {
	var t ProblemType
	m.info(func(p *C.lm_model_t) { t = ProblemType(C.lm_model_problem_type(p)) })
	return t
}

// ConfigJSON is the model's configuration as config.json text.
func (m *Model) ConfigJSON() (string, error) {
	var s string
	err := m.read(func(p *C.lm_model_t) error {
		var out *C.char
		err := call(func() C.lm_status { return C.lm_model_config_json(p, &out) })
		s = takeString(out)
		return err
	})
	return s, err
}

// Inputs are the token ids of a batch for the forward passes: rows of SeqLen tokens, row-major,
// with optional type ids and attention mask of the same length as IDs.
type Inputs struct {
	IDs           []int32
	TypeIDs       []int32 // nil: all 0
	AttentionMask []int32 // nil: all 1
	SeqLen        int
}

// Batch is the number of rows.
func (in *Inputs) Batch() int {
	if in.SeqLen <= 0 {
		return 0
	}
	return len(in.IDs) / in.SeqLen
}

// check verifies that every array is as long as the C side reads (batch * seq_len).
func (in *Inputs) check() error {
	if in.SeqLen <= 0 || len(in.IDs) == 0 || len(in.IDs)%in.SeqLen != 0 {
		return invalid(fmt.Sprintf("%d ids do not make rows of %d tokens", len(in.IDs), in.SeqLen))
	}
	if in.TypeIDs != nil && len(in.TypeIDs) != len(in.IDs) {
		return invalid(fmt.Sprintf("%d type ids for %d ids", len(in.TypeIDs), len(in.IDs)))
	}
	if in.AttentionMask != nil && len(in.AttentionMask) != len(in.IDs) {
		return invalid(fmt.Sprintf("%d mask values for %d ids", len(in.AttentionMask), len(in.IDs)))
	}
	return nil
}

type forward func(p *C.lm_model_t, ids, types, mask *C.int32_t, b, t C.size_t) C.lm_status

func (m *Model) forward(in *Inputs, f forward) error {
	if err := in.check(); err != nil {
		return err
	}
	return m.read(func(p *C.lm_model_t) error {
		return call(func() C.lm_status {
			return f(p, int32Ptr(in.IDs), int32Ptr(in.TypeIDs), int32Ptr(in.AttentionMask), C.size_t(in.Batch()), C.size_t(in.SeqLen))
		})
	})
}

// HiddenStates runs the encoder: the last hidden state [batch * seq_len * hidden] and, when
// pooled is set, the pooled output [batch * hidden].
func (m *Model) HiddenStates(in *Inputs, pooled bool) ([]float32, []float32, error) {
	if err := in.check(); err != nil {
		return nil, nil, err
	}
	c := m.HiddenSize()
	hidden := make([]float32, in.Batch()*in.SeqLen*c)
	var pool []float32
	if pooled {
		pool = make([]float32, in.Batch()*c)
	}
	err := m.forward(in, func(p *C.lm_model_t, ids, types, mask *C.int32_t, b, t C.size_t) C.lm_status {
		return C.lm_model_hidden_states(p, ids, types, mask, b, t, floatPtr(hidden), floatPtr(pool))
	})
	return hidden, pool, err
}

// EmbedIDs gives sentence embeddings of token ids [batch * hidden].
func (m *Model) EmbedIDs(in *Inputs, pooling Pooling, normalize Switch) ([]float32, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	out := make([]float32, in.Batch()*m.HiddenSize())
	err := m.forward(in, func(p *C.lm_model_t, ids, types, mask *C.int32_t, b, t C.size_t) C.lm_status {
		return C.lm_model_embed(p, ids, types, mask, b, t, C.int(pooling), normalize.c(-1), floatPtr(out))
	})
	return out, err
}

// ClassifyIDs gives sequence-classification logits [batch * num_labels].
func (m *Model) ClassifyIDs(in *Inputs) ([]float32, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	out := make([]float32, in.Batch()*m.NumLabels())
	err := m.forward(in, func(p *C.lm_model_t, ids, types, mask *C.int32_t, b, t C.size_t) C.lm_status {
		return C.lm_model_classify(p, ids, types, mask, b, t, floatPtr(out))
	})
	return out, err
}

// TokenLogits gives token-classification logits [batch * seq_len * num_labels].
func (m *Model) TokenLogits(in *Inputs) ([]float32, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	out := make([]float32, in.Batch()*in.SeqLen*m.NumLabels())
	err := m.forward(in, func(p *C.lm_model_t, ids, types, mask *C.int32_t, b, t C.size_t) C.lm_status {
		return C.lm_model_token_logits(p, ids, types, mask, b, t, floatPtr(out))
	})
	return out, err
}

// QALogits gives question-answering start and end logits, [batch * seq_len] each.
func (m *Model) QALogits(in *Inputs) ([]float32, []float32, error) {
	if err := in.check(); err != nil {
		return nil, nil, err
	}
	start := make([]float32, in.Batch()*in.SeqLen)
	end := make([]float32, len(start))
	err := m.forward(in, func(p *C.lm_model_t, ids, types, mask *C.int32_t, b, t C.size_t) C.lm_status {
		return C.lm_model_qa_logits(p, ids, types, mask, b, t, floatPtr(start), floatPtr(end))
	})
	return start, end, err
}

// MLMLogits gives masked-LM logits over the vocabulary [n * vocab] at the flat positions
// (row*seq_len + position), or at every token when positions is nil.
func (m *Model) MLMLogits(in *Inputs, positions []int) ([]float32, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	n := in.Batch() * in.SeqLen
	var pos []C.size_t
	if positions != nil {
		n = len(positions)
		pos = make([]C.size_t, n)
		for i, p := range positions {
			if p < 0 {
				return nil, invalid(fmt.Sprintf("position %d is negative", p))
			}
			pos[i] = C.size_t(p)
		}
	}
	if n == 0 {
		return []float32{}, nil
	}
	out := make([]float32, n*m.VocabSize())
	err := m.forward(in, func(p *C.lm_model_t, ids, types, mask *C.int32_t, b, t C.size_t) C.lm_status {
		var pp *C.size_t
		if pos != nil {
			pp = &pos[0]
		}
		return C.lm_model_mlm_logits(p, ids, types, mask, b, t, pp, C.size_t(n), floatPtr(out))
	})
	return out, err
}

// Span is the best answer span of one sequence's question-answering logits (End inclusive).
type Span struct {
	Start, End int
	Score      float32
}

// QABestSpan is the span start <= end < start + maxAnswerLen (0: no limit) over the allowed
// tokens (nil: all) that maximises startLogits[start] + endLogits[end].
func QABestSpan(startLogits, endLogits []float32, allowed []int32, maxAnswerLen int) (Span, error) {
	n := len(startLogits)
	if len(endLogits) != n || (allowed != nil && len(allowed) != n) {
		return Span{}, invalid("the logits and the allowed tokens differ in length")
	}
	var s, e C.size_t
	var score C.float
	err := call(func() C.lm_status {
		return C.lm_qa_best_span(floatPtr(startLogits), floatPtr(endLogits), int32Ptr(allowed), C.size_t(n), C.size_t(maxAnswerLen), &s, &e, &score)
	})
	return Span{Start: int(s), End: int(e), Score: float32(score)}, err
}

// Handle is the C handle (lm_model_t *) for calls this package does not wrap; it stays owned by
// the model and is valid until Close.
func (m *Model) Handle() unsafe.Pointer { return unsafe.Pointer(m.p) }
