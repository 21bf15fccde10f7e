package lm

/*
#include <stdlib.h>
#include <lm.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Batch is a training batch: token ids and the labels of the model's head (set the ones it
// needs, leave the others nil).
type Batch struct {
	Inputs
	Labels         []int32   // a class per row (sequence classification) or per token (token classification, masked LM); -100 ignored
	FloatLabels    []float32 // [batch * num_labels]: regression, multi-label
	StartPositions []int32   // question answering: first answer token of each row
	EndPositions   []int32   // question answering: last answer token of each row
}

// Trainer is a training session that updates its model's weights in place. Use it from one
// goroutine at a time. While it is open its model's other calls wait for its steps (they never
// run at the same time), and the model cannot be closed. Close frees it; the model keeps the
// trained weights.
type Trainer struct {
	p      *C.lm_trainer_t
	model  *Model
	head   Head
	labels int
	vocab  int
}

// NewTrainer creates a trainer on m. opts nil: the library's defaults (whose linear schedule
// needs TotalSteps, so nil is refused: start from DefaultTrainerOptions()).
func NewTrainer(m *Model, opts *TrainerOptions) (*Trainer, error) {
	t := &Trainer{model: m, head: m.Head(), labels: m.NumLabels(), vocab: m.VocabSize()}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p == nil {
		return nil, closed("model")
	}
	if m.training {
		return nil, &Error{Status: ErrState, Message: "another trainer is open on the model"}
	}
	if err := call(func() C.lm_status { return C.lm_trainer_create(m.p, opts.c(), &t.p) }); err != nil {
		return nil, err
	}
	m.training = true
	openHandles.Add(1)
	runtime.SetFinalizer(t, (*Trainer).Close)
	return t, nil
}

// Close frees the trainer and releases its model. Closing twice is fine.
func (t *Trainer) Close() error {
	m := t.model
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.p != nil {
		C.lm_trainer_free(t.p)
		t.p = nil
		openHandles.Add(-1)
		m.training = false
	}
	return nil
}

// exclusive runs f with the trainer while no other call uses its model.
func (t *Trainer) exclusive(f func() error) error {
	t.model.mu.Lock()
	defer t.model.mu.Unlock()
	if t.p == nil {
		return closed("trainer")
	}
	return f()
}

// batch fills raw with C copies of b's arrays (the struct is passed to C, so it may not hold Go
// pointers); free releases them.
func (t *Trainer) batch(b *Batch, raw *C.lm_batch) (free func(), err error) {
	var blocks []unsafe.Pointer
	free = func() {
		for _, p := range blocks {
			C.free(p)
		}
	}
	ints := func(s []int32) *C.int32_t {
		if len(s) == 0 {
			return nil
		}
		p := C.malloc(C.size_t(len(s)) * 4)
		copy(unsafe.Slice((*int32)(p), len(s)), s)
		blocks = append(blocks, p)
		return (*C.int32_t)(p)
	}
	floats := func(s []float32) *C.float {
		if len(s) == 0 {
			return nil
		}
		p := C.malloc(C.size_t(len(s)) * 4)
		copy(unsafe.Slice((*float32)(p), len(s)), s)
		blocks = append(blocks, p)
		return (*C.float)(p)
	}
	if err := b.Inputs.check(); err != nil {
		return free, err
	}
	C.lm_batch_init(raw, C.size_t(unsafe.Sizeof(*raw)))
	n, seq := b.Batch(), b.SeqLen
	raw.batch = C.size_t(n)
	raw.seq_len = C.size_t(seq)
	raw.ids = ints(b.IDs)
	raw.type_ids = ints(b.TypeIDs)
	raw.attention_mask = ints(b.AttentionMask)
	want := func(what string, got, need int) error {
		if got != need {
			return invalid(fmt.Sprintf("%d %s for a batch that needs %d", got, what, need))
		}
		return nil
	}
	if b.Labels != nil {
		need := n * seq
		if t.head == HeadSequenceClassification {
			need = n
		}
		if err := want("labels", len(b.Labels), need); err != nil {
			return free, err
		}
		raw.labels = ints(b.Labels)
	}
	if b.FloatLabels != nil {
		if err := want("float labels", len(b.FloatLabels), n*t.labels); err != nil {
			return free, err
		}
		raw.float_labels = floats(b.FloatLabels)
	}
	if b.StartPositions != nil || b.EndPositions != nil {
		if err := want("start positions", len(b.StartPositions), n); err != nil {
			return free, err
		}
		if err := want("end positions", len(b.EndPositions), n); err != nil {
			return free, err
		}
		raw.start_positions = ints(b.StartPositions)
		raw.end_positions = ints(b.EndPositions)
	}
	return free, nil
}

// Step runs one training step (forward, loss, backward; the optimizer every AccumulationSteps)
// and returns the batch's loss.
func (t *Trainer) Step(b *Batch) (float32, error) {
	var raw C.lm_batch
	free, err := t.batch(b, &raw)
	defer free()
	if err != nil {
		return 0, err
	}
	var loss C.float
	err = t.exclusive(func() error {
		return call(func() C.lm_status { return C.lm_trainer_step(t.p, &raw, &loss) })
	})
	return float32(loss), err
}

// Evaluate gives the loss and logits of a batch without dropout, touching nothing: sequence
// classification [batch * num_labels]; token classification [batch * seq_len * num_labels];
// question answering [batch * seq_len * 2] (start, end); masked LM [batch * seq_len * vocab].
func (t *Trainer) Evaluate(b *Batch) (float32, []float32, error) {
	var raw C.lm_batch
	free, err := t.batch(b, &raw)
	defer free()
	if err != nil {
		return 0, nil, err
	}
	n, seq := b.Batch(), b.SeqLen
	size := 0
	switch t.head {
	case HeadSequenceClassification:
		size = n * t.labels
	case HeadTokenClassification:
		size = n * seq * t.labels
	case HeadQuestionAnswering:
		size = n * seq * 2
	case HeadMaskedLM:
		size = n * seq * t.vocab
	}
	logits := make([]float32, size)
	var loss C.float
	err = t.exclusive(func() error {
		return call(func() C.lm_status {
			return C.lm_trainer_evaluate(t.p, &raw, &loss, floatPtr(logits), C.size_t(size))
		})
	})
	return float32(loss), logits, err
}

// Steps is the number of optimizer updates done.
func (t *Trainer) Steps() int64 {
	var n int64
	_ = t.exclusive(func() error { n = int64(C.lm_trainer_steps(t.p)); return nil })
	return n
}

// LearningRate is the learning rate of the next update.
func (t *Trainer) LearningRate() float64 {
	var r float64
	_ = t.exclusive(func() error { r = float64(C.lm_trainer_learning_rate(t.p)); return nil })
	return r
}

// GradNorm is the global gradient norm of the last update, before clipping.
func (t *Trainer) GradNorm() float64 {
	var r float64
	_ = t.exclusive(func() error { r = float64(C.lm_trainer_grad_norm(t.p)); return nil })
	return r
}
