package lm

/*
#include <stdint.h>
#include <lm.h>
*/
import "C"

import (
	"runtime/cgo"
)

// Task is what Fit trains and Evaluate scores (lm_task).
type Task int

const (
	TaskAuto                Task = C.LM_TASK_AUTO
	TaskClassification      Task = C.LM_TASK_CLASSIFICATION
	TaskRegression          Task = C.LM_TASK_REGRESSION
	TaskTokenClassification Task = C.LM_TASK_TOKEN_CLASSIFICATION
	TaskQuestionAnswering   Task = C.LM_TASK_QUESTION_ANSWERING
	TaskMaskedLM            Task = C.LM_TASK_MASKED_LM
)

// FitEvent is the event of a progress report (lm_fit_event).
type FitEvent int

const (
	FitStart      FitEvent = C.LM_FIT_START      // data read, model loaded, nothing trained yet
	FitStep       FitEvent = C.LM_FIT_STEP       // after each optimizer update
	FitLog        FitEvent = C.LM_FIT_LOG        // every LogEvery updates: the mean loss since the last
	FitEval       FitEvent = C.LM_FIT_EVAL       // after an evaluation on the dev file
	FitCheckpoint FitEvent = C.LM_FIT_CHECKPOINT // a checkpoint was written
	FitEnd        FitEvent = C.LM_FIT_END        // the final model was written
)

// Metrics are the scores of a model on a data set (lm_metrics); a metric the task does not have
// is NaN.
type Metrics struct {
	Task                               Task
	NumLabels                          int
	Examples                           int64
	Loss, Accuracy, F1, F1Binary       float64
	Precision, Recall, ExactMatch      float64
	Pearson, Spearman, MSE, Perplexity float64
	Main                               float64 // the task's main metric
	EvalSeconds                        float64
}

func metricsFrom(m *C.lm_metrics) *Metrics {
	return &Metrics{
		Task: Task(m.task), NumLabels: int(m.num_labels), Examples: int64(m.examples),
		Loss: float64(m.loss), Accuracy: float64(m.accuracy), F1: float64(m.f1), F1Binary: float64(m.f1_binary),
		Precision: float64(m.precision), Recall: float64(m.recall), ExactMatch: float64(m.exact_match),
		Pearson: float64(m.pearson), Spearman: float64(m.spearman), MSE: float64(m.mse),
		Perplexity: float64(m.perplexity), Main: float64(m.main), EvalSeconds: float64(m.eval_s),
	}
}

// FitProgress is what the progress callback gets at each event (lm_fit_progress). Times count
// training only.
type FitProgress struct {
	Event                              FitEvent
	Epoch                              int
	Step, TotalSteps, StepsPerEpoch    int64
	TrainRows, DevRows, FirstStep      int64
	EpochFloat                         float64
	Loss                               float64 // FitStep: the update's; FitLog: the mean since the last; else NaN
	LearningRate, GradNorm             float64
	ExamplesPerSecond, TokensPerSecond float64
	ElapsedSeconds, ETASeconds         float64
	Examples, Tokens                   int64
	Metrics                            *Metrics // FitEval and FitEnd
	Path                               string   // FitCheckpoint: the folder written; FitEnd: the final folder
	IsBest, Stopped                    bool
	Task                               Task
	NumLabels, MaxLength               int
}

// fitState is what the C callback reaches through its cgo.Handle.
type fitState struct {
	progress func(*FitProgress) bool
	panicked interface{} // a panic of progress, which ends the calls
}

//export goFitProgress
func goFitProgress(p *C.lm_fit_progress, h C.uintptr_t) (stop C.int) {
	st := cgo.Handle(h).Value().(*fitState)
	if st.panicked != nil {
		return 1
	}
	defer func() { // a panic may not unwind through C: it stops the run and comes back after it
		if r := recover(); r != nil {
			st.panicked, stop = r, 1
		}
	}()
	var raw C.lm_fit_progress
	copySized(unsafeBytes(&raw), p)
	fp := &FitProgress{
		Event: FitEvent(raw.event), Epoch: int(raw.epoch), Step: int64(raw.step),
		TotalSteps: int64(raw.total_steps), StepsPerEpoch: int64(raw.steps_per_epoch),
		TrainRows: int64(raw.train_rows), DevRows: int64(raw.dev_rows), FirstStep: int64(raw.first_step),
		EpochFloat: float64(raw.epoch_float), Loss: float64(raw.loss),
		LearningRate: float64(raw.learning_rate), GradNorm: float64(raw.grad_norm),
		ExamplesPerSecond: float64(raw.examples_per_s), TokensPerSecond: float64(raw.tokens_per_s),
		ElapsedSeconds: float64(raw.elapsed_s), ETASeconds: float64(raw.eta_s),
		Examples: int64(raw.examples), Tokens: int64(raw.tokens),
		IsBest: raw.is_best != 0, Stopped: raw.stopped != 0, Task: Task(raw.task),
		NumLabels: int(raw.num_labels), MaxLength: int(raw.max_length),
	}
	if raw.metrics != nil {
		var m C.lm_metrics
		copySized(unsafeBytes(&m), raw.metrics)
		fp.Metrics = metricsFrom(&m)
	}
	if raw.path != nil {
		fp.Path = C.GoString(raw.path)
	}
	if !st.progress(fp) {
		return 1
	}
	return 0
}
