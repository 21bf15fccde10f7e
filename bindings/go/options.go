package lm

/*
#include <stdlib.h>
#include <lm.h>
*/
import "C"

import (
	"unsafe"
)

// Head is the task head a model runs on top of its encoder (lm_head).
type Head int

const (
	HeadAuto                   Head = C.LM_HEAD_AUTO
	HeadBase                   Head = C.LM_HEAD_BASE
	HeadSequenceClassification Head = C.LM_HEAD_SEQUENCE_CLASSIFICATION
	HeadTokenClassification    Head = C.LM_HEAD_TOKEN_CLASSIFICATION
	HeadQuestionAnswering      Head = C.LM_HEAD_QUESTION_ANSWERING
	HeadMaskedLM               Head = C.LM_HEAD_MASKED_LM
)

// ProblemType is what a sequence-classification head predicts (lm_problem_type).
type ProblemType int

const (
	ProblemAuto        ProblemType = C.LM_PROBLEM_AUTO
	ProblemSingleLabel ProblemType = C.LM_PROBLEM_SINGLE_LABEL
	ProblemMultiLabel  ProblemType = C.LM_PROBLEM_MULTI_LABEL
	ProblemRegression  ProblemType = C.LM_PROBLEM_REGRESSION
)

// Pooling is sentence-embedding pooling (lm_pooling).
type Pooling int

const (
	PoolingDefault Pooling = C.LM_POOLING_DEFAULT
	PoolingMean    Pooling = C.LM_POOLING_MEAN
	PoolingCLS     Pooling = C.LM_POOLING_CLS
)

// ScoreFunction is the score function of classification (lm_score_function).
type ScoreFunction int

const (
	ScoreDefault ScoreFunction = C.LM_SCORE_DEFAULT
	ScoreNone    ScoreFunction = C.LM_SCORE_NONE
	ScoreSigmoid ScoreFunction = C.LM_SCORE_SIGMOID
	ScoreSoftmax ScoreFunction = C.LM_SCORE_SOFTMAX
)

// Aggregation groups token-classification results (lm_aggregation).
type Aggregation int

const (
	AggregateNone    Aggregation = C.LM_AGGREGATE_NONE
	AggregateSimple  Aggregation = C.LM_AGGREGATE_SIMPLE
	AggregateFirst   Aggregation = C.LM_AGGREGATE_FIRST
	AggregateAverage Aggregation = C.LM_AGGREGATE_AVERAGE
	AggregateMax     Aggregation = C.LM_AGGREGATE_MAX
)

// Truncation is how to shorten long inputs (lm_truncation).
type Truncation int

const (
	TruncateLongestFirst Truncation = C.LM_TRUNCATE_LONGEST_FIRST
	TruncateOnlyFirst    Truncation = C.LM_TRUNCATE_ONLY_FIRST
	TruncateOnlySecond   Truncation = C.LM_TRUNCATE_ONLY_SECOND
)

// Padding is how to pad encodings (lm_padding).
type Padding int

const (
	PadNone      Padding = C.LM_PAD_NONE
	PadLongest   Padding = C.LM_PAD_LONGEST
	PadMaxLength Padding = C.LM_PAD_MAX_LENGTH
)

// Optimizer is an optimizer (lm_optimizer).
type Optimizer int

const (
	OptimizerAdamW Optimizer = C.LM_OPTIMIZER_ADAMW
	OptimizerAdam  Optimizer = C.LM_OPTIMIZER_ADAM
	OptimizerSGD   Optimizer = C.LM_OPTIMIZER_SGD
)

// Schedule is a learning-rate schedule (lm_schedule).
type Schedule int

const (
	ScheduleLinear   Schedule = C.LM_SCHEDULE_LINEAR
	ScheduleCosine   Schedule = C.LM_SCHEDULE_COSINE
	ScheduleConstant Schedule = C.LM_SCHEDULE_CONSTANT
)

// Switch is a setting that is on, off, or left to the files / the model (the zero value).
type Switch int

const (
	Default Switch = 0
	On      Switch = 1
	Off     Switch = 2
)

func (s Switch) c(def C.int) C.int {
	switch s {
	case On:
		return 1
	case Off:
		return 0
	}
	return def
}

// TokenizerOptions are the options of tokenizer loading; the zero value follows the files.
type TokenizerOptions struct {
	LowerCase            Switch
	StripAccents         Switch
	TokenizeChineseChars Switch
	CleanText            Switch
	ReplaceInvalidUTF8   bool
}

func (o *TokenizerOptions) c() *C.lm_tokenizer_options {
	if o == nil {
		return nil
	}
	var r C.lm_tokenizer_options
	C.lm_tokenizer_options_init(&r, C.size_t(unsafe.Sizeof(r)))
	r.lower_case = o.LowerCase.c(r.lower_case)
	r.strip_accents = o.StripAccents.c(r.strip_accents)
	r.tokenize_chinese_chars = o.TokenizeChineseChars.c(r.tokenize_chinese_chars)
	r.clean_text = o.CleanText.c(r.clean_text)
	if o.ReplaceInvalidUTF8 {
		r.replace_invalid_utf8 = 1
	}
	return &r
}

// EncodeOptions are the options of encoding; the zero value is the library's default
// ([CLS] ... [SEP], no truncation, no padding).
type EncodeOptions struct {
	NoSpecialTokens   bool
	MaxLength         int // tokens, special tokens included; 0: no limit
	Truncation        Truncation
	Padding           Padding
	Stride            int
	ReturnOverflowing bool
}

func (o *EncodeOptions) c() *C.lm_encode_options {
	if o == nil {
		return nil
	}
	var r C.lm_encode_options
	C.lm_encode_options_init(&r, C.size_t(unsafe.Sizeof(r)))
	if o.NoSpecialTokens {
		r.add_special_tokens = 0
	}
	r.max_length = C.size_t(o.MaxLength)
	r.truncation = C.int32_t(o.Truncation)
	r.padding = C.int32_t(o.Padding)
	r.stride = C.size_t(o.Stride)
	if o.ReturnOverflowing {
		r.return_overflowing = 1
	}
	return &r
}

// ModelOptions are the options of model loading and creation; the zero value is the default.
type ModelOptions struct {
	Threads     int         // compute threads; 0: OpenMP's default
	Head        Head        // HeadAuto: from config.json; another head is made fresh when missing
	NumLabels   int         // a fresh classification head's label count (0: len(LabelNames))
	ProblemType ProblemType // stored in the config of a fresh head
	LabelNames  []string    // label names of a fresh head
	Seed        uint64      // seed of a fresh head's weights
	NoTokenizer bool        // do not load the folder's tokenizer
	Int8        bool        // int8 inference (weights per output channel, activations per row)
}

// withC calls f with the C options (label names in C memory during the call).
func (o *ModelOptions) withC(f func(*C.lm_model_options) error) error {
	if o == nil {
		return f(nil)
	}
	var r C.lm_model_options
	C.lm_model_options_init(&r, C.size_t(unsafe.Sizeof(r)))
	r.threads = C.int32_t(o.Threads)
	r.head = C.int32_t(o.Head)
	r.num_labels = C.int32_t(o.NumLabels)
	r.problem_type = C.int32_t(o.ProblemType)
	r.seed = C.uint64_t(o.Seed)
	if o.NoTokenizer {
		r.no_tokenizer = 1
	}
	if o.Int8 {
		r.int8 = 1
	}
	if len(o.LabelNames) > 0 {
		for _, n := range o.LabelNames {
			for i := 0; i < len(n); i++ {
				if n[i] == 0 {
					return invalid("the label name " + n + " holds a NUL byte")
				}
			}
		}
		// the array of pointers itself is C memory: the struct holding it is passed to C
		names := unsafe.Slice((**C.char)(C.malloc(C.size_t(len(o.LabelNames))*C.size_t(unsafe.Sizeof((*C.char)(nil))))), len(o.LabelNames))
		for i, n := range o.LabelNames {
			names[i] = C.CString(n)
		}
		defer func() {
			for _, p := range names {
				C.free(unsafe.Pointer(p))
			}
			C.free(unsafe.Pointer(&names[0]))
		}()
		r.label_names = &names[0]
		if o.NumLabels == 0 {
			r.num_labels = C.int32_t(len(o.LabelNames))
		}
	}
	return f(&r)
}

// TextOptions are the options of the text-level calls; the zero value is the default of each
// call (the transformers pipelines' and sentence-transformers').
type TextOptions struct {
	MaxLength              int // tokens per model input; 0: the model's own limit
	BatchSize              int // inputs per forward pass; 0: 32
	ReplaceInvalidUTF8     bool
	Pooling                Pooling // embeddings
	Normalize              Switch  // embeddings: L2-normalise (Default: the model's)
	FunctionToApply        ScoreFunction
	TopK                   int // classification labels (-1 all; default 1), fill-mask candidates (5), answers (1)
	Aggregation            Aggregation
	DocStride              int
	MaxAnswerLength        int
	MaxQuestionLength      int
	HandleImpossibleAnswer bool
}

func (o *TextOptions) c() *C.lm_text_options {
	if o == nil {
		return nil
	}
	var r C.lm_text_options
	C.lm_text_options_init(&r, C.size_t(unsafe.Sizeof(r)))
	r.max_length = C.int32_t(o.MaxLength)
	r.batch_size = C.int32_t(o.BatchSize)
	if o.ReplaceInvalidUTF8 {
		r.replace_invalid_utf8 = 1
	}
	r.pooling = C.int32_t(o.Pooling)
	r.normalize = C.int32_t(o.Normalize.c(C.int(r.normalize)))
	r.function_to_apply = C.int32_t(o.FunctionToApply)
	r.top_k = C.int32_t(o.TopK)
	r.aggregation = C.int32_t(o.Aggregation)
	r.doc_stride = C.int32_t(o.DocStride)
	r.max_answer_length = C.int32_t(o.MaxAnswerLength)
	r.max_question_length = C.int32_t(o.MaxQuestionLength)
	if o.HandleImpossibleAnswer {
		r.handle_impossible_answer = 1
	}
	return &r
}

// TrainerOptions are the options of a trainer. Start from DefaultTrainerOptions() (the
// library's defaults, those of transformers' TrainingArguments); the linear and cosine schedules
// need TotalSteps.
type TrainerOptions struct {
	Optimizer         Optimizer
	Schedule          Schedule
	LearningRate      float64
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	Momentum          float64
	Nesterov          bool
	AccumulationSteps int
	MaxGradNorm       float64 // 0: no clipping
	WarmupSteps       int64
	TotalSteps        int64
	NoDropout         bool
	Threads           int // 0: the model's
	Seed              uint64
}

// DefaultTrainerOptions are the library's defaults (lm_trainer_options_init).
func DefaultTrainerOptions() TrainerOptions {
	var r C.lm_trainer_options
	C.lm_trainer_options_init(&r, C.size_t(unsafe.Sizeof(r)))
	return TrainerOptions{
		Optimizer:         Optimizer(r.optimizer),
		Schedule:          Schedule(r.schedule),
		LearningRate:      float64(r.learning_rate),
		Beta1:             float64(r.beta1),
		Beta2:             float64(r.beta2),
		Eps:               float64(r.eps),
		WeightDecay:       float64(r.weight_decay),
		Momentum:          float64(r.momentum),
		Nesterov:          r.nesterov != 0,
		AccumulationSteps: int(r.accumulation_steps),
		MaxGradNorm:       float64(r.max_grad_norm),
		WarmupSteps:       int64(r.warmup_steps),
		TotalSteps:        int64(r.total_steps),
		NoDropout:         r.dropout == 0,
		Threads:           int(r.threads),
		Seed:              uint64(r.seed),
	}
}

func (o *TrainerOptions) c() *C.lm_trainer_options {
	if o == nil {
		return nil
	}
	var r C.lm_trainer_options
	C.lm_trainer_options_init(&r, C.size_t(unsafe.Sizeof(r)))
	r.optimizer = C.int32_t(o.Optimizer)
	r.schedule = C.int32_t(o.Schedule)
	r.learning_rate = C.double(o.LearningRate)
	r.beta1 = C.double(o.Beta1)
	r.beta2 = C.double(o.Beta2)
	r.eps = C.double(o.Eps)
	r.weight_decay = C.double(o.WeightDecay)
	r.momentum = C.double(o.Momentum)
	if o.Nesterov {
		r.nesterov = 1
	} else {
		r.nesterov = 0
	}
	r.accumulation_steps = C.int32_t(o.AccumulationSteps)
	r.max_grad_norm = C.double(o.MaxGradNorm)
	r.warmup_steps = C.int64_t(o.WarmupSteps)
	r.total_steps = C.int64_t(o.TotalSteps)
	if o.NoDropout {
		r.dropout = 0
	} else {
		r.dropout = 1
	}
	r.threads = C.int32_t(o.Threads)
	r.seed = C.uint64_t(o.Seed)
	return &r
}
