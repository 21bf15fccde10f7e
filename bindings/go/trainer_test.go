package lm

import (
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"example.invalid/liblm/go/lm/internal/craw"
)

var trainTexts = []string{"a good film", "a bad one , really", "it was fine", "the worst movie"}

func load(t *testing.T, name string) *Model {
	m, err := Load(modelDir(name), &ModelOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func encodeInputs(t *testing.T, m *Model) Inputs {
	encs, err := m.Tokenizer().EncodeBatch(trainTexts, &EncodeOptions{Padding: PadLongest}, 1)
	if err != nil {
		t.Fatal(err)
	}
	in := Inputs{SeqLen: encs[0].Len()}
	for _, e := range encs {
		in.IDs = append(in.IDs, e.IDs...)
		in.AttentionMask = append(in.AttentionMask, e.AttentionMask...)
	}
	return in
}

func trainOpts() *TrainerOptions {
	o := DefaultTrainerOptions()
	o.LearningRate = 1e-2
	o.Schedule = ScheduleConstant
	o.Threads = 1
	o.Seed = 7
	return &o
}

func TestSequenceClassificationLearnsAndEqualsC(t *testing.T) {
	m := load(t, "seqcls")
	in := encodeInputs(t, m)
	labels := []int32{2, 0, 1, 0}
	before, _ := m.ClassifyIDs(&in)
	tr, err := NewTrainer(m, trainOpts())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); !isStatus(err, ErrState) {
		t.Fatal("closed a model under training:", err)
	}
	if _, err := NewTrainer(m, trainOpts()); !isStatus(err, ErrState) {
		t.Fatal(err)
	}
	b := &Batch{Inputs: in, Labels: labels}
	losses := make([]float32, 8)
	for i := range losses {
		if losses[i], err = tr.Step(b); err != nil {
			t.Fatal(err)
		}
	}
	if tr.Steps() != 8 || tr.GradNorm() <= 0 || tr.LearningRate() != 1e-2 {
		t.Fatal(tr.Steps(), tr.GradNorm(), tr.LearningRate())
	}
	loss, logits, err := tr.Evaluate(b)
	if err != nil || len(logits) != 12 || loss >= losses[0] {
		t.Fatal(err, len(logits), loss)
	}
	// inference waits for the steps but works while the trainer is open
	if _, err := m.Classify([]string{"a"}, nil); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	tr.Close()
	if losses[7] >= losses[0] {
		t.Fatal(losses)
	}
	after, _ := m.ClassifyIDs(&in)
	if reflect.DeepEqual(before, after) {
		t.Fatal("training changed nothing")
	}
	// the same run through the C API directly: the same losses, bit for bit
	other := load(t, "seqcls")
	want := craw.Train(other.Handle(), in.IDs, in.AttentionMask, labels, in.SeqLen, 1e-2, 7, 1, 8)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(losses[i]) {
			t.Fatal(i, losses[i], want[i])
		}
	}
}

func TestEveryHeadTrains(t *testing.T) {
	tagger := load(t, "tagger")
	in := encodeInputs(t, tagger)
	tags := make([]int32, len(in.IDs))
	for i, m := range in.AttentionMask {
		tags[i] = -100
		if m == 1 {
			tags[i] = int32(i % 5)
		}
	}
	tr, err := NewTrainer(tagger, trainOpts())
	if err != nil {
		t.Fatal(err)
	}
	first, _ := tr.Step(&Batch{Inputs: in, Labels: tags})
	var later float32
	for i := 0; i < 5; i++ {
		later, _ = tr.Step(&Batch{Inputs: in, Labels: tags})
	}
	if later >= first {
		t.Fatal(first, later)
	}
	if _, l, err := tr.Evaluate(&Batch{Inputs: in}); err != nil || len(l) != 4*in.SeqLen*5 {
		t.Fatal(err)
	}
	tr.Close()

	qa := load(t, "qa")
	in = encodeInputs(t, qa)
	tr, err = NewTrainer(qa, trainOpts())
	if err != nil {
		t.Fatal(err)
	}
	spans := &Batch{Inputs: in, StartPositions: []int32{1, 2, 1, 3}, EndPositions: []int32{2, 3, 1, 4}}
	if loss, err := tr.Step(spans); err != nil || loss <= 0 {
		t.Fatal(err)
	}
	if _, l, err := tr.Evaluate(spans); err != nil || len(l) != 4*in.SeqLen*2 {
		t.Fatal(err)
	}
	tr.Close()

	mlm := load(t, "mlm")
	in = encodeInputs(t, mlm)
	lab := make([]int32, len(in.IDs))
	for i, id := range in.IDs {
		lab[i] = -100
		if i%3 == 1 {
			lab[i] = id
		}
	}
	tr, err = NewTrainer(mlm, trainOpts())
	if err != nil {
		t.Fatal(err)
	}
	if loss, err := tr.Step(&Batch{Inputs: in, Labels: lab}); err != nil || loss <= 0 {
		t.Fatal(err)
	}
	if _, l, err := tr.Evaluate(&Batch{Inputs: in, Labels: lab}); err != nil || len(l) != 4*in.SeqLen*mlm.VocabSize() {
		t.Fatal(err)
	}
	tr.Close()

	reg := load(t, "regression")
	in = encodeInputs(t, reg)
	tr, err = NewTrainer(reg, trainOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	targets := &Batch{Inputs: in, FloatLabels: []float32{0.5, -1, 2, 0}}
	first, _ = tr.Step(targets)
	for i := 0; i < 5; i++ {
		later, _ = tr.Step(targets)
	}
	if later >= first {
		t.Fatal(first, later)
	}
}

func TestTrainerErrors(t *testing.T) {
	m := load(t, "seqcls")
	in := encodeInputs(t, m)
	// the defaults' linear schedule needs TotalSteps to train; evaluating works without
	defaults := DefaultTrainerOptions()
	for _, o := range []*TrainerOptions{nil, &defaults} {
		tr, err := NewTrainer(m, o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Step(&Batch{Inputs: in, Labels: []int32{0, 1, 2, 0}}); !isStatus(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "total_steps") {
			t.Fatal(err)
		}
		if _, l, err := tr.Evaluate(&Batch{Inputs: in}); err != nil || len(l) != 12 {
			t.Fatal(err)
		}
		tr.Close()
	}
	tr, err := NewTrainer(m, trainOpts())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(&Batch{Inputs: in, Labels: []int32{0, 1}}); !isStatus(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := tr.Step(&Batch{Inputs: in, Labels: []int32{0, 1, 7, 0}}); !isStatus(err, ErrRange) {
		t.Fatal(err)
	}
	tr.Close()
	if _, err := tr.Step(&Batch{Inputs: in, Labels: []int32{0, 1, 2, 0}}); !isStatus(err, ErrState) {
		t.Fatal(err)
	}
	config := `{"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
	            "intermediate_size": 8, "max_position_embeddings": 16}`
	base, err := Create(config, 1, &ModelOptions{Head: HeadBase})
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	if _, err := NewTrainer(base, trainOpts()); !isStatus(err, ErrState) {
		t.Fatal(err)
	}
}

// A trainer never closed is freed by its finalizer, which releases its model.
func TestAnUnclosedTrainerReleasesItsModel(t *testing.T) {
	m := load(t, "seqcls")
	func() {
		if _, err := NewTrainer(m, trainOpts()); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		if _, err := NewTrainer(m, trainOpts()); err == nil {
			break // the first one's finalizer ran
		} else if !isStatus(err, ErrState) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
