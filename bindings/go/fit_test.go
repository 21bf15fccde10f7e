package lm

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.invalid/liblm/go/lm/internal/craw"
)

func fitBase() string            { return filepath.Join(repo(), "tests/data/fit/base") }
func dataset(name string) string { return filepath.Join(repo(), "tests/data/datasets", name) }

func fitOpts(out string) *FitOptions {
	o := DefaultFitOptions()
	o.TrainPath, o.DevPath, o.OutDir = dataset("sst2.tsv"), dataset("sst2.csv"), out
	o.MaxSteps, o.BatchSize, o.EvalBatchSize, o.LogEvery = 4, 8, 16, 1
	return &o
}

func fitTrain() *TrainerOptions {
	t := DefaultTrainerOptions()
	t.LearningRate, t.Threads = 1e-3, 1
	return &t
}

func TestFitReportsEveryEventAndEqualsC(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	o := fitOpts(out)
	events := map[FitEvent]int{}
	var first, last FitEvent = -1, -1
	losses := []float64{}
	endPath := ""
	o.Progress = func(p *FitProgress) bool {
		if first < 0 {
			first = p.Event
		}
		last = p.Event
		events[p.Event]++
		switch p.Event {
		case FitStep:
			if math.IsNaN(p.Loss) || p.TotalSteps != 4 {
				t.Error("step", p.Loss, p.TotalSteps)
			}
			losses = append(losses, p.Loss)
		case FitEval:
			if p.Metrics == nil {
				t.Error("no metrics")
			}
		case FitEnd:
			endPath = p.Path
			if p.Stopped || p.Task != TaskClassification {
				t.Error("end", p.Stopped, p.Task)
			}
		}
		return true
	}
	m, err := Fit(fitBase(), o, fitTrain())
	if err != nil {
		t.Fatal(err)
	}
	if first != FitStart || last != FitEnd || events[FitStep] != 4 || events[FitLog] == 0 || events[FitEval] == 0 || events[FitCheckpoint] == 0 {
		t.Fatal(first, last, events)
	}
	if m.Task != TaskClassification || m.Accuracy < 0 || m.Accuracy > 1 || !math.IsNaN(m.Pearson) {
		t.Fatal(m)
	}
	if _, err := os.Stat(filepath.Join(endPath, "config.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "metrics.csv")); err != nil {
		t.Fatal(err)
	}
	// the saved model scores on the dev file what Fit reported
	saved, err := Load(endPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer saved.Close()
	eo := DefaultFitOptions()
	eo.DevPath, eo.EvalBatchSize = dataset("sst2.csv"), 16
	again, js, err := saved.Evaluate(&eo)
	if err != nil || again.Accuracy != m.Accuracy || !strings.Contains(js, `"confusion"`) {
		t.Fatal(err, again, js)
	}
	// lm_fit called directly with a C callback: the same losses, bit for bit
	want := craw.Fit(fitBase(), dataset("sst2.tsv"), dataset("sst2.csv"), filepath.Join(t.TempDir(), "c"), 4, 8, 16, 1e-3, 1)
	if len(want) != len(losses) {
		t.Fatal(want, losses)
	}
	for i := range want {
		if math.Float64bits(want[i]) != math.Float64bits(losses[i]) {
			t.Fatal(i, losses[i], want[i])
		}
	}
}

func TestTheProgressCallbackStopsTheRun(t *testing.T) {
	o := fitOpts(filepath.Join(t.TempDir(), "run"))
	o.MaxSteps, o.Epochs = 0, 3
	steps, stopped := 0, false
	o.Progress = func(p *FitProgress) bool {
		if p.Event == FitStep {
			steps++
			return p.Step < 2
		}
		if p.Event == FitEnd {
			stopped = p.Stopped
		}
		return true
	}
	if _, err := Fit(fitBase(), o, fitTrain()); err != nil {
		t.Fatal(err)
	}
	if steps != 2 || !stopped {
		t.Fatal(steps, stopped)
	}
}

func TestAPanicInTheCallbackComesBackAfterTheRun(t *testing.T) {
	o := fitOpts(filepath.Join(t.TempDir(), "run"))
	o.Progress = func(p *FitProgress) bool {
		if p.Event == FitStep {
			panic("stop here")
		}
		return true
	}
	defer func() {
		if r := recover(); r != "stop here" {
			t.Fatal(r)
		}
	}()
	Fit(fitBase(), o, fitTrain())
	t.Fatal("no panic")
}

func TestFitErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	o := fitOpts(out)
	o.TrainPath = dataset("no-such.tsv")
	if _, err := Fit(fitBase(), o, fitTrain()); !isStatus(err, ErrNotFound) || !strings.Contains(err.Error(), "no-such.tsv") {
		t.Fatal(err)
	}
	o = fitOpts(out)
	o.BatchSize = 0
	if _, err := Fit(fitBase(), o, fitTrain()); !isStatus(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "batch_size") {
		t.Fatal(err)
	}
	o = fitOpts(out)
	o.TrainPath = ""
	if _, err := Fit(fitBase(), o, fitTrain()); !strings.Contains(err.Error(), "train_path") {
		t.Fatal(err)
	}
	// an output folder holding another run is refused unless Overwrite
	o = fitOpts(out)
	o.MaxSteps = 1
	if _, err := Fit(fitBase(), o, fitTrain()); err != nil {
		t.Fatal(err)
	}
	o.TrainPath = dataset("sst2.csv")
	if _, err := Fit(fitBase(), o, fitTrain()); !isStatus(err, ErrState) {
		t.Fatal(err)
	}
	o.Overwrite = true
	if _, err := Fit(fitBase(), o, fitTrain()); err != nil {
		t.Fatal(err)
	}
}
