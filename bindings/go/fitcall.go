package lm

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <lm.h>

extern int goFitProgress(lm_fit_progress *p, uintptr_t handle);

static int lmgo_fit_progress(const lm_fit_progress *p, void *user) {
    return goFitProgress((lm_fit_progress *)p, (uintptr_t)user);
}

// lm_fit with the Go callback behind `handle` (0: none): the callback and its user data are set
// here, in C, so that Go memory never holds them.
static lm_status lmgo_fit(const char *dir, lm_fit_options *o, const lm_trainer_options *t,
                          lm_metrics *m, uintptr_t handle) {
    if (handle != 0) {
        o->callback = lmgo_fit_progress;
        o->user_data = (void *)handle;
    }
    return lm_fit(dir, o, t, m);
}
*/
import "C"

import (
	"runtime/cgo"
	"strings"
	"unsafe"
)

// FitOptions are the options of Fit and Evaluate (lm_fit_options). Start from
// DefaultFitOptions() (the library's, docs/finetune.md's recipe). Fit needs TrainPath and OutDir;
// Evaluate needs DevPath.
type FitOptions struct {
	Task                       Task
	Epochs                     int
	MaxSteps                   int64 // > 0: this many optimizer updates, whatever Epochs says
	TrainPath, DevPath, OutDir string
	ResumeDir                  string // a checkpoint folder, or an output folder, to continue from
	BatchSize, EvalBatchSize   int
	MaxLength, DocStride       int
	WarmupRatio                float64
	Shuffle                    bool
	GroupByLength              int
	EvalEvery, LogEvery        int64
	SaveEvery                  int64
	KeepCheckpoints, Patience  int
	LoadBest, Overwrite        bool
	MLMProbability             float64
	MLMPack                    bool
	MaxTrainExamples           int64
	MaxEvalExamples            int64
	// Progress, when set, is called at each event on the goroutine that called Fit; returning
	// false stops the run cleanly (a checkpoint and the model so far are saved; Fit returns no
	// error). A panic in it stops the run and comes back once lm_fit has returned.
	Progress func(p *FitProgress) (keepGoing bool)
}

// DefaultFitOptions are the library's defaults (lm_fit_options_init).
func DefaultFitOptions() FitOptions {
	var r C.lm_fit_options
	C.lm_fit_options_init(&r, C.size_t(unsafe.Sizeof(r)))
	return FitOptions{
		Task: Task(r.task), Epochs: int(r.epochs), MaxSteps: int64(r.max_steps),
		BatchSize: int(r.batch_size), EvalBatchSize: int(r.eval_batch_size),
		MaxLength: int(r.max_length), DocStride: int(r.doc_stride), WarmupRatio: float64(r.warmup_ratio),
		Shuffle: r.shuffle != 0, GroupByLength: int(r.group_by_length),
		EvalEvery: int64(r.eval_every), LogEvery: int64(r.log_every), SaveEvery: int64(r.save_every),
		KeepCheckpoints: int(r.keep_checkpoints), Patience: int(r.patience),
		LoadBest: r.load_best != 0, Overwrite: r.overwrite != 0,
		MLMProbability: float64(r.mlm_probability), MLMPack: r.mlm_pack != 0,
		MaxTrainExamples: int64(r.max_train_examples), MaxEvalExamples: int64(r.max_eval_examples),
	}
}

func b32(b bool) C.int32_t {
	if b {
		return 1
	}
	return 0
}

// withC calls f with the C options, their paths in C memory during the call.
func (o *FitOptions) withC(f func(r *C.lm_fit_options) error) error {
	var r C.lm_fit_options
	C.lm_fit_options_init(&r, C.size_t(unsafe.Sizeof(r)))
	var frees []unsafe.Pointer
	defer func() {
		for _, p := range frees {
			C.free(p)
		}
	}()
	path := func(p string) (*C.char, error) {
		if p == "" {
			return nil, nil
		}
		if strings.IndexByte(p, 0) >= 0 {
			return nil, invalid("the path " + p + " holds a NUL byte")
		}
		c := C.CString(p)
		frees = append(frees, unsafe.Pointer(c))
		return c, nil
	}
	var err error
	for _, x := range []struct {
		dst **C.char
		src string
	}{{&r.train_path, o.TrainPath}, {&r.dev_path, o.DevPath}, {&r.out_dir, o.OutDir}, {&r.resume_dir, o.ResumeDir}} {
		if *x.dst, err = path(x.src); err != nil {
			return err
		}
	}
	r.task = C.int32_t(o.Task)
	r.epochs = C.int32_t(o.Epochs)
	r.max_steps = C.int64_t(o.MaxSteps)
	r.batch_size = C.int32_t(o.BatchSize)
	r.eval_batch_size = C.int32_t(o.EvalBatchSize)
	r.max_length = C.int32_t(o.MaxLength)
	r.doc_stride = C.int32_t(o.DocStride)
	r.warmup_ratio = C.double(o.WarmupRatio)
	r.shuffle = b32(o.Shuffle)
	r.group_by_length = C.int32_t(o.GroupByLength)
	r.eval_every = C.int64_t(o.EvalEvery)
	r.log_every = C.int64_t(o.LogEvery)
	r.save_every = C.int64_t(o.SaveEvery)
	r.keep_checkpoints = C.int32_t(o.KeepCheckpoints)
	r.patience = C.int32_t(o.Patience)
	r.load_best = b32(o.LoadBest)
	r.overwrite = b32(o.Overwrite)
	r.mlm_probability = C.double(o.MLMProbability)
	r.mlm_pack = b32(o.MLMPack)
	r.max_train_examples = C.int64_t(o.MaxTrainExamples)
	r.max_eval_examples = C.int64_t(o.MaxEvalExamples)
	return f(&r)
}

func emptyMetrics() C.lm_metrics {
	var m C.lm_metrics
	C.lm_metrics_init(&m, C.size_t(unsafe.Sizeof(m)))
	return m
}

// Fit fine-tunes the model of modelDir on opts.TrainPath and writes the trained model,
// checkpoints and metrics.csv into opts.OutDir; it returns the final dev metrics (NaN without a
// dev file). train nil: the library's defaults.
func Fit(modelDir string, opts *FitOptions, train *TrainerOptions) (*Metrics, error) {
	if opts == nil {
		return nil, invalid("Fit needs options (TrainPath, OutDir)")
	}
	if strings.IndexByte(modelDir, 0) >= 0 {
		return nil, invalid("the path " + modelDir + " holds a NUL byte")
	}
	dir := C.CString(modelDir)
	defer C.free(unsafe.Pointer(dir))
	var st *fitState
	var h cgo.Handle
	if opts.Progress != nil {
		st = &fitState{progress: opts.Progress}
		h = cgo.NewHandle(st)
		defer h.Delete()
	}
	m := emptyMetrics()
	err := opts.withC(func(r *C.lm_fit_options) error {
		return call(func() C.lm_status { return C.lmgo_fit(dir, r, train.c(), &m, C.uintptr_t(h)) })
	})
	if st != nil && st.panicked != nil {
		panic(st.panicked)
	}
	if err != nil {
		return nil, err
	}
	return metricsFrom(&m), nil
}

// Evaluate scores the model on opts.DevPath with its task's metrics (the evaluation Fit runs):
// the metrics and the same as JSON (classification: with "labels" and "confusion").
func (m *Model) Evaluate(opts *FitOptions) (*Metrics, string, error) {
	if opts == nil {
		return nil, "", invalid("Evaluate needs options (DevPath)")
	}
	met := emptyMetrics()
	var js string
	err := m.read(func(p *C.lm_model_t) error {
		return opts.withC(func(r *C.lm_fit_options) error {
			var out *C.char
			err := call(func() C.lm_status { return C.lm_evaluate(p, r, &met, &out) })
			js = takeString(out)
			return err
		})
	})
	if err != nil {
		return nil, "", err
	}
	return metricsFrom(&met), js, nil
}

// copySized copies a struct liblm wrote with its own struct_size (its first field) into dst,
// a zeroed struct of ours: fields beyond what the library knows stay 0.
func copySized[T any](dst []byte, src *T) {
	n := int(*(*C.size_t)(unsafe.Pointer(src)))
	if n > len(dst) {
		n = len(dst)
	}
	copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(src)), n))
}

func unsafeBytes[T any](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}
