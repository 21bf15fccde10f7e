//! The options structs of the C API as builders. Each starts from the library's own defaults
//! (the `lm_*_options_init` functions) and sets only what the caller changes.
use std::ffi::CString;
use std::mem::{size_of, MaybeUninit};

use lm_sys as sys;

use crate::error::Result;
use crate::util::cstring;

/// Fills a C options struct with its init function (which cannot fail with the right size).
fn init<T>(f: unsafe extern "C" fn(*mut T, usize) -> sys::lm_status) -> T {
    let mut o = MaybeUninit::<T>::zeroed();
    // SAFETY: the struct is as large as the size passed; init writes all of it.
    let s = unsafe { f(o.as_mut_ptr(), size_of::<T>()) };
    assert_eq!(s, sys::LM_OK, "lm_*_options_init refused sizeof (lm-sys does not match the library)");
    // SAFETY: written by init above (and zeroed before).
    unsafe { o.assume_init() }
}

/// The task head a model runs on top of its encoder (`lm_head`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Head {
    /// From config.json "architectures" (load and create only).
    Auto,
    Base,
    SequenceClassification,
    TokenClassification,
    QuestionAnswering,
    MaskedLm,
    /// A head this binding does not know (a newer library).
    Unknown(i32),
}

impl Head {
    pub fn code(self) -> i32 {
        match self {
            Head::Auto => sys::LM_HEAD_AUTO,
            Head::Base => sys::LM_HEAD_BASE,
            Head::SequenceClassification => sys::LM_HEAD_SEQUENCE_CLASSIFICATION,
            Head::TokenClassification => sys::LM_HEAD_TOKEN_CLASSIFICATION,
            Head::QuestionAnswering => sys::LM_HEAD_QUESTION_ANSWERING,
            Head::MaskedLm => sys::LM_HEAD_MASKED_LM,
            Head::Unknown(c) => c,
        }
    }

    pub fn from_code(code: i32) -> Head {
        match code {
            sys::LM_HEAD_AUTO => Head::Auto,
            sys::LM_HEAD_BASE => Head::Base,
            sys::LM_HEAD_SEQUENCE_CLASSIFICATION => Head::SequenceClassification,
            sys::LM_HEAD_TOKEN_CLASSIFICATION => Head::TokenClassification,
            sys::LM_HEAD_QUESTION_ANSWERING => Head::QuestionAnswering,
            sys::LM_HEAD_MASKED_LM => Head::MaskedLm,
            c => Head::Unknown(c),
        }
    }
}

/// What a sequence-classification head predicts (`lm_problem_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProblemType {
    Auto,
    SingleLabel,
    MultiLabel,
    Regression,
    Unknown(i32),
}

impl ProblemType {
    pub fn code(self) -> i32 {
        match self {
            ProblemType::Auto => sys::LM_PROBLEM_AUTO,
            ProblemType::SingleLabel => sys::LM_PROBLEM_SINGLE_LABEL,
            ProblemType::MultiLabel => sys::LM_PROBLEM_MULTI_LABEL,
            ProblemType::Regression => sys::LM_PROBLEM_REGRESSION,
            ProblemType::Unknown(c) => c,
        }
    }

    pub fn from_code(code: i32) -> ProblemType {
        match code {
            sys::LM_PROBLEM_AUTO => ProblemType::Auto,
            sys::LM_PROBLEM_SINGLE_LABEL => ProblemType::SingleLabel,
            sys::LM_PROBLEM_MULTI_LABEL => ProblemType::MultiLabel,
            sys::LM_PROBLEM_REGRESSION => ProblemType::Regression,
            c => ProblemType::Unknown(c),
        }
    }
}

/// Sentence-embedding pooling (`lm_pooling`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pooling {
    /// The model's (sentence-transformers' modules.json; else mean).
    Default,
    Mean,
    Cls,
}

impl Pooling {
    pub fn code(self) -> i32 {
        match self {
            Pooling::Default => sys::LM_POOLING_DEFAULT,
            Pooling::Mean => sys::LM_POOLING_MEAN,
            Pooling::Cls => sys::LM_POOLING_CLS,
        }
    }
}

/// Score function of classification (`lm_score_function`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScoreFunction {
    Default,
    None,
    Sigmoid,
    Softmax,
}

/// Grouping of token-classification results (`lm_aggregation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Aggregation {
    None,
    Simple,
    First,
    Average,
    Max,
}

/// How to shorten long inputs (`lm_truncation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Truncation {
    LongestFirst,
    OnlyFirst,
    OnlySecond,
}

/// How to pad encodings (`lm_padding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    None,
    Longest,
    MaxLength,
}

/// Optimizers (`lm_optimizer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Optimizer {
    AdamW,
    Adam,
    Sgd,
}

/// Learning-rate schedules (`lm_schedule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Schedule {
    Linear,
    Cosine,
    Constant,
}

/// Options of tokenizer loading (`lm_tokenizer_options`); unset fields follow the files.
#[derive(Clone, Copy, Debug)]
pub struct TokenizerOptions {
    raw: sys::lm_tokenizer_options,
}

impl Default for TokenizerOptions {
    fn default() -> Self {
        TokenizerOptions { raw: init(sys::lm_tokenizer_options_init) }
    }
}

impl TokenizerOptions {
    pub fn lower_case(mut self, on: bool) -> Self {
        self.raw.lower_case = on as i32;
        self
    }
    pub fn strip_accents(mut self, on: bool) -> Self {
        self.raw.strip_accents = on as i32;
        self
    }
    pub fn tokenize_chinese_chars(mut self, on: bool) -> Self {
        self.raw.tokenize_chinese_chars = on as i32;
        self
    }
    pub fn replace_invalid_utf8(mut self, on: bool) -> Self {
        self.raw.replace_invalid_utf8 = on as i32;
        self
    }
    pub fn clean_text(mut self, on: bool) -> Self {
        self.raw.clean_text = on as i32;
        self
    }
    /// The C struct (plain values: any content is safe to pass).
    pub fn raw(&self) -> &sys::lm_tokenizer_options {
        &self.raw
    }
    pub fn raw_mut(&mut self) -> &mut sys::lm_tokenizer_options {
        &mut self.raw
    }
}

/// Options of encoding (`lm_encode_options`).
#[derive(Clone, Copy, Debug)]
pub struct EncodeOptions {
    raw: sys::lm_encode_options,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions { raw: init(sys::lm_encode_options_init) }
    }
}

impl EncodeOptions {
    pub fn add_special_tokens(mut self, on: bool) -> Self {
        self.raw.add_special_tokens = on as i32;
        self
    }
    /// Truncate to this many tokens, special tokens included (0: no limit).
    pub fn max_length(mut self, n: usize) -> Self {
        self.raw.max_length = n;
        self
    }
    pub fn truncation(mut self, t: Truncation) -> Self {
        self.raw.truncation = match t {
            Truncation::LongestFirst => sys::LM_TRUNCATE_LONGEST_FIRST,
            Truncation::OnlyFirst => sys::LM_TRUNCATE_ONLY_FIRST,
            Truncation::OnlySecond => sys::LM_TRUNCATE_ONLY_SECOND,
        };
        self
    }
    pub fn padding(mut self, p: Padding) -> Self {
        self.raw.padding = match p {
            Padding::None => sys::LM_PAD_NONE,
            Padding::Longest => sys::LM_PAD_LONGEST,
            Padding::MaxLength => sys::LM_PAD_MAX_LENGTH,
        };
        self
    }
    pub fn stride(mut self, n: usize) -> Self {
        self.raw.stride = n;
        self
    }
    pub fn return_overflowing(mut self, on: bool) -> Self {
        self.raw.return_overflowing = on as i32;
        self
    }
    pub fn raw(&self) -> &sys::lm_encode_options {
        &self.raw
    }
    pub fn raw_mut(&mut self) -> &mut sys::lm_encode_options {
        &mut self.raw
    }
}

/// Options of model loading and creation (`lm_model_options`).
#[derive(Clone, Debug)]
pub struct ModelOptions {
    raw: sys::lm_model_options,
    label_names: Vec<CString>,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions { raw: init(sys::lm_model_options_init), label_names: Vec::new() }
    }
}

impl ModelOptions {
    /// Compute threads (0: OpenMP's default).
    pub fn threads(mut self, n: i32) -> Self {
        self.raw.threads = n;
        self
    }
    /// The head to load; a checkpoint without its tensors gets a fresh one.
    pub fn head(mut self, head: Head) -> Self {
        self.raw.head = head.code();
        self
    }
    pub fn num_labels(mut self, n: i32) -> Self {
        self.raw.num_labels = n;
        self
    }
    pub fn problem_type(mut self, p: ProblemType) -> Self {
        self.raw.problem_type = p.code();
        self
    }
    /// Label names of a fresh head (sets num_labels too); a name with a NUL byte is an error.
    pub fn label_names<S: AsRef<str>>(mut self, names: &[S]) -> Result<Self> {
        self.label_names = names.iter().map(|n| cstring("label name", n.as_ref())).collect::<Result<Vec<_>>>()?;
        self.raw.num_labels = names.len() as i32;
        Ok(self)
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.raw.seed = seed;
        self
    }
    /// Do not load the folder's tokenizer.
    pub fn no_tokenizer(mut self, on: bool) -> Self {
        self.raw.no_tokenizer = on as i32;
        self
    }
    /// int8 inference: the encoder's Linear weights quantised per output channel, activations
    /// per row (about 2x faster; results close to, not equal to, float32).
    pub fn int8(mut self, on: bool) -> Self {
        self.raw.int8 = on as i32;
        self
    }
    /// Calls `f` with the C struct, its label_names pointing at this value's strings.
    pub(crate) fn with_raw<R>(&self, f: impl FnOnce(&sys::lm_model_options) -> R) -> R {
        let ptrs: Vec<*const std::os::raw::c_char> = self.label_names.iter().map(|s| s.as_ptr()).collect();
        let mut raw = self.raw;
        raw.label_names = if ptrs.is_empty() { std::ptr::null() } else { ptrs.as_ptr() };
        f(&raw)
    }
}

/// Options of the text-level calls (`lm_text_options`). Fields a call does not use are ignored.
#[derive(Clone, Copy, Debug)]
pub struct TextOptions {
    raw: sys::lm_text_options,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions { raw: init(sys::lm_text_options_init) }
    }
}

impl TextOptions {
    /// Tokens per model input (0: the model's own limit).
    pub fn max_length(mut self, n: i32) -> Self {
        self.raw.max_length = n;
        self
    }
    pub fn batch_size(mut self, n: i32) -> Self {
        self.raw.batch_size = n;
        self
    }
    pub fn replace_invalid_utf8(mut self, on: bool) -> Self {
        self.raw.replace_invalid_utf8 = on as i32;
        self
    }
    pub fn pooling(mut self, p: Pooling) -> Self {
        self.raw.pooling = p.code();
        self
    }
    /// L2-normalise embeddings (None: the model's default).
    pub fn normalize(mut self, on: Option<bool>) -> Self {
        self.raw.normalize = match on {
            None => -1,
            Some(b) => b as i32,
        };
        self
    }
    pub fn function_to_apply(mut self, f: ScoreFunction) -> Self {
        self.raw.function_to_apply = match f {
            ScoreFunction::Default => sys::LM_SCORE_DEFAULT,
            ScoreFunction::None => sys::LM_SCORE_NONE,
            ScoreFunction::Sigmoid => sys::LM_SCORE_SIGMOID,
            ScoreFunction::Softmax => sys::LM_SCORE_SOFTMAX,
        };
        self
    }
    /// Results per input (classification labels, -1 all; fill-mask candidates; answers).
    pub fn top_k(mut self, k: i32) -> Self {
        self.raw.top_k = k;
        self
    }
    pub fn aggregation(mut self, a: Aggregation) -> Self {
        self.raw.aggregation = match a {
            Aggregation::None => sys::LM_AGGREGATE_NONE,
            Aggregation::Simple => sys::LM_AGGREGATE_SIMPLE,
            Aggregation::First => sys::LM_AGGREGATE_FIRST,
            Aggregation::Average => sys::LM_AGGREGATE_AVERAGE,
            Aggregation::Max => sys::LM_AGGREGATE_MAX,
        };
        self
    }
    pub fn doc_stride(mut self, n: i32) -> Self {
        self.raw.doc_stride = n;
        self
    }
    pub fn max_answer_length(mut self, n: i32) -> Self {
        self.raw.max_answer_length = n;
        self
    }
    pub fn max_question_length(mut self, n: i32) -> Self {
        self.raw.max_question_length = n;
        self
    }
    pub fn handle_impossible_answer(mut self, on: bool) -> Self {
        self.raw.handle_impossible_answer = on as i32;
        self
    }
    pub fn raw(&self) -> &sys::lm_text_options {
        &self.raw
    }
    pub fn raw_mut(&mut self) -> &mut sys::lm_text_options {
        &mut self.raw
    }
}

/// Options of a trainer (`lm_trainer_options`): transformers' TrainingArguments defaults. The
/// linear and cosine schedules need `total_steps`.
#[derive(Clone, Copy, Debug)]
pub struct TrainerOptions {
    raw: sys::lm_trainer_options,
}

impl Default for TrainerOptions {
    fn default() -> Self {
        TrainerOptions { raw: init(sys::lm_trainer_options_init) }
    }
}

impl TrainerOptions {
    pub fn optimizer(mut self, o: Optimizer) -> Self {
        self.raw.optimizer = match o {
            Optimizer::AdamW => sys::LM_OPTIMIZER_ADAMW,
            Optimizer::Adam => sys::LM_OPTIMIZER_ADAM,
            Optimizer::Sgd => sys::LM_OPTIMIZER_SGD,
        };
        self
    }
    pub fn schedule(mut self, s: Schedule) -> Self {
        self.raw.schedule = match s {
            Schedule::Linear => sys::LM_SCHEDULE_LINEAR,
            Schedule::Cosine => sys::LM_SCHEDULE_COSINE,
            Schedule::Constant => sys::LM_SCHEDULE_CONSTANT,
        };
        self
    }
    pub fn learning_rate(mut self, lr: f64) -> Self {
        self.raw.learning_rate = lr;
        self
    }
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.raw.beta1 = beta1;
        self.raw.beta2 = beta2;
        self
    }
    pub fn eps(mut self, eps: f64) -> Self {
        self.raw.eps = eps;
        self
    }
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.raw.weight_decay = wd;
        self
    }
    pub fn momentum(mut self, m: f64, nesterov: bool) -> Self {
        self.raw.momentum = m;
        self.raw.nesterov = nesterov as i32;
        self
    }
    pub fn accumulation_steps(mut self, n: i32) -> Self {
        self.raw.accumulation_steps = n;
        self
    }
    /// Global gradient-norm clipping (0: none).
    pub fn max_grad_norm(mut self, norm: f64) -> Self {
        self.raw.max_grad_norm = norm;
        self
    }
    pub fn warmup_steps(mut self, n: i64) -> Self {
        self.raw.warmup_steps = n;
        self
    }
    pub fn total_steps(mut self, n: i64) -> Self {
        self.raw.total_steps = n;
        self
    }
    pub fn dropout(mut self, on: bool) -> Self {
        self.raw.dropout = on as i32;
        self
    }
    pub fn threads(mut self, n: i32) -> Self {
        self.raw.threads = n;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.raw.seed = seed;
        self
    }
    pub fn raw(&self) -> &sys::lm_trainer_options {
        &self.raw
    }
    pub fn raw_mut(&mut self) -> &mut sys::lm_trainer_options {
        &mut self.raw
    }
}
