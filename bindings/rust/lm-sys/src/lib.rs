//! Raw declarations of liblm's C API (`include/lm.h` and `include/lm/*.h`, version 0.2), linked
//! through pkg-config by build.rs. Everything here is `unsafe` and mirrors the C header one for
//! one; the `lm` crate wraps it in safe, owning types. The header is the manual: each function's
//! contract (ownership, errors, threads) is documented there.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

/// `lm_status`: 0 is success; the `LM_*` constants below.
pub type lm_status = c_int;
pub const LM_OK: lm_status = 0;
pub const LM_ERR_INVALID_ARGUMENT: lm_status = 1;
pub const LM_ERR_NOMEM: lm_status = 2;
pub const LM_ERR_IO: lm_status = 3;
pub const LM_ERR_NOT_FOUND: lm_status = 4;
pub const LM_ERR_PERMISSION: lm_status = 5;
pub const LM_ERR_FORMAT: lm_status = 6;
pub const LM_ERR_UNSUPPORTED: lm_status = 7;
pub const LM_ERR_UTF8: lm_status = 8;
pub const LM_ERR_RANGE: lm_status = 9;
pub const LM_ERR_SHAPE: lm_status = 10;
pub const LM_ERR_STATE: lm_status = 11;
pub const LM_ERR_INTERNAL: lm_status = 12;
pub const LM_ERR_BUFFER_TOO_SMALL: lm_status = 13;
pub const LM_ERR_NUMERIC: lm_status = 14;

/// The version of the header these declarations follow (lm/version.h).
pub const LM_VERSION_MAJOR: u32 = 0;
pub const LM_VERSION_MINOR: u32 = 2;
pub const LM_VERSION_PATCH: u32 = 0;
pub const LM_VERSION_NUMBER: u32 = LM_VERSION_MAJOR * 10000 + LM_VERSION_MINOR * 100 + LM_VERSION_PATCH;

/// Opaque handles.
#[repr(C)]
pub struct lm_tokenizer_t {
    _private: [u8; 0],
}
#[repr(C)]
pub struct lm_model_t {
    _private: [u8; 0],
}
#[repr(C)]
pub struct lm_trainer_t {
    _private: [u8; 0],
}
#[repr(C)]
pub struct lm_encoding_t {
    _private: [u8; 0],
}

// lm_log_level
pub const LM_LOG_ERROR: c_int = 0;
pub const LM_LOG_WARN: c_int = 1;
pub const LM_LOG_INFO: c_int = 2;
pub const LM_LOG_DEBUG: c_int = 3;
pub type lm_log_fn = Option<unsafe extern "C" fn(level: c_int, message: *const c_char, user_data: *mut c_void)>;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct lm_allocator {
    pub struct_size: usize,
    pub malloc_fn: Option<unsafe extern "C" fn(size: usize, user_data: *mut c_void) -> *mut c_void>,
    pub realloc_fn: Option<unsafe extern "C" fn(ptr: *mut c_void, size: usize, user_data: *mut c_void) -> *mut c_void>,
    pub free_fn: Option<unsafe extern "C" fn(ptr: *mut c_void, user_data: *mut c_void)>,
    pub user_data: *mut c_void,
}

// ---- tokenizer (lm/tokenizer.h)

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lm_tokenizer_options {
    pub struct_size: usize,
    pub lower_case: i32,
    pub strip_accents: i32,
    pub tokenize_chinese_chars: i32,
    pub replace_invalid_utf8: i32,
    pub clean_text: i32,
}

// lm_special_token
pub const LM_SPECIAL_CLS: c_int = 0;
pub const LM_SPECIAL_SEP: c_int = 1;
pub const LM_SPECIAL_PAD: c_int = 2;
pub const LM_SPECIAL_UNK: c_int = 3;
pub const LM_SPECIAL_MASK: c_int = 4;

// lm_truncation
pub const LM_TRUNCATE_LONGEST_FIRST: i32 = 0;
pub const LM_TRUNCATE_ONLY_FIRST: i32 = 1;
pub const LM_TRUNCATE_ONLY_SECOND: i32 = 2;

// lm_padding
pub const LM_PAD_NONE: i32 = 0;
pub const LM_PAD_LONGEST: i32 = 1;
pub const LM_PAD_MAX_LENGTH: i32 = 2;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lm_encode_options {
    pub struct_size: usize,
    pub add_special_tokens: i32,
    pub max_length: usize,
    pub truncation: i32,
    pub padding: i32,
    pub stride: usize,
    pub return_overflowing: i32,
}

// ---- model (lm/model.h)

// lm_head
pub const LM_HEAD_AUTO: c_int = 0;
pub const LM_HEAD_BASE: c_int = 1;
pub const LM_HEAD_SEQUENCE_CLASSIFICATION: c_int = 2;
pub const LM_HEAD_TOKEN_CLASSIFICATION: c_int = 3;
pub const LM_HEAD_QUESTION_ANSWERING: c_int = 4;
pub const LM_HEAD_MASKED_LM: c_int = 5;

// lm_pooling
pub const LM_POOLING_DEFAULT: c_int = 0;
pub const LM_POOLING_MEAN: c_int = 1;
pub const LM_POOLING_CLS: c_int = 2;

// lm_problem_type
pub const LM_PROBLEM_AUTO: i32 = 0;
pub const LM_PROBLEM_SINGLE_LABEL: i32 = 1;
pub const LM_PROBLEM_MULTI_LABEL: i32 = 2;
pub const LM_PROBLEM_REGRESSION: i32 = 3;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lm_model_options {
    pub struct_size: usize,
    pub threads: i32,
    pub head: i32,
    pub num_labels: i32,
    pub problem_type: i32,
    pub label_names: *const *const c_char,
    pub seed: u64,
    pub no_tokenizer: i32,
    pub reserved0: i32,
    pub int8: i32,
    pub reserved1: i32,
}

// ---- text (lm/text.h)

// lm_score_function
pub const LM_SCORE_DEFAULT: i32 = 0;
pub const LM_SCORE_NONE: i32 = 1;
pub const LM_SCORE_SIGMOID: i32 = 2;
pub const LM_SCORE_SOFTMAX: i32 = 3;

// lm_aggregation
pub const LM_AGGREGATE_NONE: i32 = 0;
pub const LM_AGGREGATE_SIMPLE: i32 = 1;
pub const LM_AGGREGATE_FIRST: i32 = 2;
pub const LM_AGGREGATE_AVERAGE: i32 = 3;
pub const LM_AGGREGATE_MAX: i32 = 4;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lm_text_options {
    pub struct_size: usize,
    pub max_length: i32,
    pub batch_size: i32,
    pub replace_invalid_utf8: i32,
    pub pooling: i32,
    pub normalize: i32,
    pub function_to_apply: i32,
    pub top_k: i32,
    pub aggregation: i32,
    pub doc_stride: i32,
    pub max_answer_length: i32,
    pub max_question_length: i32,
    pub handle_impossible_answer: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct lm_label_score {
    pub label: i32,
    pub score: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct lm_token_score {
    pub token_id: i32,
    pub score: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct lm_answer {
    pub score: f32,
    pub reserved: i32,
    pub start: i64,
    pub end: i64,
    pub byte_start: i64,
    pub byte_end: i64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct lm_entity {
    pub text: i32,
    pub label: i32,
    pub score: f32,
    pub token: i32,
    pub start: i64,
    pub end: i64,
    pub byte_start: i64,
    pub byte_end: i64,
}

// ---- trainer (lm/trainer.h)

// lm_optimizer
pub const LM_OPTIMIZER_ADAMW: i32 = 0;
pub const LM_OPTIMIZER_ADAM: i32 = 1;
pub const LM_OPTIMIZER_SGD: i32 = 2;

// lm_schedule
pub const LM_SCHEDULE_LINEAR: i32 = 0;
pub const LM_SCHEDULE_COSINE: i32 = 1;
pub const LM_SCHEDULE_CONSTANT: i32 = 2;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lm_trainer_options {
    pub struct_size: usize,
    pub optimizer: i32,
    pub schedule: i32,
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum: f64,
    pub nesterov: i32,
    pub accumulation_steps: i32,
    pub max_grad_norm: f64,
    pub warmup_steps: i64,
    pub total_steps: i64,
    pub dropout: i32,
    pub threads: i32,
    pub seed: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lm_batch {
    pub struct_size: usize,
    pub batch: usize,
    pub seq_len: usize,
    pub ids: *const i32,
    pub type_ids: *const i32,
    pub attention_mask: *const i32,
    pub labels: *const i32,
    pub float_labels: *const f32,
    pub start_positions: *const i32,
    pub end_positions: *const i32,
}

// ---- fit (lm/fit.h)

// lm_task
pub const LM_TASK_AUTO: i32 = 0;
pub const LM_TASK_CLASSIFICATION: i32 = 1;
pub const LM_TASK_REGRESSION: i32 = 2;
pub const LM_TASK_TOKEN_CLASSIFICATION: i32 = 3;
pub const LM_TASK_QUESTION_ANSWERING: i32 = 4;
pub const LM_TASK_MASKED_LM: i32 = 5;

// lm_fit_event
pub const LM_FIT_START: i32 = 0;
pub const LM_FIT_STEP: i32 = 1;
pub const LM_FIT_LOG: i32 = 2;
pub const LM_FIT_EVAL: i32 = 3;
pub const LM_FIT_CHECKPOINT: i32 = 4;
pub const LM_FIT_END: i32 = 5;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lm_metrics {
    pub struct_size: usize,
    pub task: i32,
    pub num_labels: i32,
    pub examples: i64,
    pub loss: f64,
    pub accuracy: f64,
    pub f1: f64,
    pub f1_binary: f64,
    pub precision: f64,
    pub recall: f64,
    pub exact_match: f64,
    pub pearson: f64,
    pub spearman: f64,
    pub mse: f64,
    pub perplexity: f64,
    pub main: f64,
    pub eval_s: f64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lm_fit_progress {
    pub struct_size: usize,
    pub event: i32,
    pub epoch: i32,
    pub step: i64,
    pub total_steps: i64,
    pub steps_per_epoch: i64,
    pub train_rows: i64,
    pub dev_rows: i64,
    pub first_step: i64,
    pub epoch_float: f64,
    pub loss: f64,
    pub learning_rate: f64,
    pub grad_norm: f64,
    pub examples_per_s: f64,
    pub tokens_per_s: f64,
    pub elapsed_s: f64,
    pub eta_s: f64,
    pub examples: i64,
    pub tokens: i64,
    pub metrics: *const lm_metrics,
    pub path: *const c_char,
    pub is_best: i32,
    pub stopped: i32,
    pub task: i32,
    pub num_labels: i32,
    pub max_length: i32,
    pub reserved0: i32,
}

pub type lm_fit_callback =
    Option<unsafe extern "C" fn(progress: *const lm_fit_progress, user_data: *mut c_void) -> c_int>;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct lm_fit_options {
    pub struct_size: usize,
    pub task: i32,
    pub epochs: i32,
    pub max_steps: i64,
    pub train_path: *const c_char,
    pub dev_path: *const c_char,
    pub out_dir: *const c_char,
    pub resume_dir: *const c_char,
    pub batch_size: i32,
    pub eval_batch_size: i32,
    pub max_length: i32,
    pub doc_stride: i32,
    pub warmup_ratio: f64,
    pub shuffle: i32,
    pub group_by_length: i32,
    pub eval_every: i64,
    pub log_every: i64,
    pub save_every: i64,
    pub keep_checkpoints: i32,
    pub patience: i32,
    pub load_best: i32,
    pub overwrite: i32,
    pub mlm_probability: f64,
    pub mlm_pack: i32,
    pub reserved0: i32,
    pub max_train_examples: i64,
    pub max_eval_examples: i64,
    pub callback: lm_fit_callback,
    pub user_data: *mut c_void,
}

extern "C" {
    // lm.h: version, errors, logging, allocation
    pub fn lm_version() -> u32;
    pub fn lm_version_string() -> *const c_char;
    pub fn lm_status_string(status: lm_status) -> *const c_char;
    pub fn lm_status_description(status: lm_status) -> *const c_char;
    pub fn lm_last_error() -> *const c_char;
    pub fn lm_clear_error();
    pub fn lm_set_log_callback(f: lm_log_fn, max_level: c_int, user_data: *mut c_void);
    pub fn lm_set_allocator(allocator: *const lm_allocator) -> lm_status;
    pub fn lm_free(ptr: *mut c_void);

    // lm/tokenizer.h
    pub fn lm_tokenizer_options_init(opts: *mut lm_tokenizer_options, struct_size: usize) -> lm_status;
    pub fn lm_tokenizer_load_vocab(
        vocab_txt: *const c_char,
        opts: *const lm_tokenizer_options,
        out: *mut *mut lm_tokenizer_t,
    ) -> lm_status;
    pub fn lm_tokenizer_load_json(
        tokenizer_json: *const c_char,
        opts: *const lm_tokenizer_options,
        out: *mut *mut lm_tokenizer_t,
    ) -> lm_status;
    pub fn lm_tokenizer_load_dir(
        dir: *const c_char,
        opts: *const lm_tokenizer_options,
        out: *mut *mut lm_tokenizer_t,
    ) -> lm_status;
    pub fn lm_tokenizer_save_dir(tok: *const lm_tokenizer_t, dir: *const c_char) -> lm_status;
    pub fn lm_tokenizer_free(tok: *mut lm_tokenizer_t);
    pub fn lm_tokenizer_vocab_size(tok: *const lm_tokenizer_t) -> usize;
    pub fn lm_tokenizer_token_to_id(tok: *const lm_tokenizer_t, token: *const c_char) -> i32;
    pub fn lm_tokenizer_id_to_token(tok: *const lm_tokenizer_t, id: i32) -> *const c_char;
    pub fn lm_tokenizer_special_id(tok: *const lm_tokenizer_t, which: c_int) -> i32;
    pub fn lm_encode_options_init(opts: *mut lm_encode_options, struct_size: usize) -> lm_status;
    pub fn lm_tokenizer_encode(
        tok: *const lm_tokenizer_t,
        text: *const c_char,
        text_len: usize,
        opts: *const lm_encode_options,
        out: *mut *mut lm_encoding_t,
    ) -> lm_status;
    pub fn lm_tokenizer_encode_pair(
        tok: *const lm_tokenizer_t,
        a: *const c_char,
        a_len: usize,
        b: *const c_char,
        b_len: usize,
        opts: *const lm_encode_options,
        out: *mut *mut lm_encoding_t,
    ) -> lm_status;
    pub fn lm_tokenizer_encode_batch(
        tok: *const lm_tokenizer_t,
        n: usize,
        texts: *const *const c_char,
        lens: *const usize,
        pairs: *const *const c_char,
        pair_lens: *const usize,
        opts: *const lm_encode_options,
        threads: c_int,
        encs_out: *mut *mut lm_encoding_t,
        statuses: *mut i32,
    ) -> lm_status;
    pub fn lm_tokenizer_decode(
        tok: *const lm_tokenizer_t,
        ids: *const i32,
        n: usize,
        skip_special_tokens: c_int,
        text_out: *mut *mut c_char,
    ) -> lm_status;
    pub fn lm_encoding_free(enc: *mut lm_encoding_t);
    pub fn lm_encoding_length(enc: *const lm_encoding_t) -> usize;
    pub fn lm_encoding_ids(enc: *const lm_encoding_t) -> *const i32;
    pub fn lm_encoding_type_ids(enc: *const lm_encoding_t) -> *const i32;
    pub fn lm_encoding_attention_mask(enc: *const lm_encoding_t) -> *const i32;
    pub fn lm_encoding_special_tokens_mask(enc: *const lm_encoding_t) -> *const i32;
    pub fn lm_encoding_word_ids(enc: *const lm_encoding_t) -> *const i32;
    pub fn lm_encoding_sequence_ids(enc: *const lm_encoding_t) -> *const i32;
    pub fn lm_encoding_offsets(enc: *const lm_encoding_t) -> *const usize;
    pub fn lm_encoding_byte_offsets(enc: *const lm_encoding_t) -> *const usize;
    pub fn lm_encoding_overflow_count(enc: *const lm_encoding_t) -> usize;
    pub fn lm_encoding_overflow(enc: *const lm_encoding_t, i: usize) -> *const lm_encoding_t;

    // lm/model.h
    pub fn lm_blas_kernel() -> *const c_char;
    pub fn lm_blas_threads() -> c_int;
    pub fn lm_blas_suggested_coretype() -> *const c_char;
    pub fn lm_blas_info() -> *const c_char;
    pub fn lm_model_options_init(opts: *mut lm_model_options, struct_size: usize) -> lm_status;
    pub fn lm_model_load(dir: *const c_char, opts: *const lm_model_options, out: *mut *mut lm_model_t) -> lm_status;
    pub fn lm_model_create(
        config_json: *const c_char,
        len: usize,
        seed: u64,
        opts: *const lm_model_options,
        out: *mut *mut lm_model_t,
    ) -> lm_status;
    pub fn lm_model_save(model: *const lm_model_t, dir: *const c_char) -> lm_status;
    pub fn lm_model_tokenizer(model: *const lm_model_t) -> *const lm_tokenizer_t;
    pub fn lm_model_free(model: *mut lm_model_t);
    pub fn lm_model_head(model: *const lm_model_t) -> c_int;
    pub fn lm_model_hidden_size(model: *const lm_model_t) -> usize;
    pub fn lm_model_num_layers(model: *const lm_model_t) -> usize;
    pub fn lm_model_num_heads(model: *const lm_model_t) -> usize;
    pub fn lm_model_vocab_size(model: *const lm_model_t) -> usize;
    pub fn lm_model_type_vocab_size(model: *const lm_model_t) -> usize;
    pub fn lm_model_max_length(model: *const lm_model_t) -> usize;
    pub fn lm_model_text_max_length(model: *const lm_model_t) -> usize;
    pub fn lm_model_num_labels(model: *const lm_model_t) -> usize;
    pub fn lm_model_label_name(model: *const lm_model_t, id: usize) -> *const c_char;
    pub fn lm_model_parameter_count(model: *const lm_model_t) -> u64;
    pub fn lm_model_nan_count(model: *const lm_model_t) -> u64;
    pub fn lm_model_has_pooler(model: *const lm_model_t) -> c_int;
    pub fn lm_model_has_fresh_head(model: *const lm_model_t) -> c_int;
    pub fn lm_model_problem_type(model: *const lm_model_t) -> i32;
    pub fn lm_model_unused_tensor_count(model: *const lm_model_t) -> usize;
    pub fn lm_model_unused_tensor_name(model: *const lm_model_t, i: usize) -> *const c_char;
    pub fn lm_model_embedding_defaults(model: *const lm_model_t, pooling: *mut c_int, normalize: *mut c_int);
    pub fn lm_model_config_json(model: *const lm_model_t, json_out: *mut *mut c_char) -> lm_status;
    pub fn lm_model_hidden_states(
        model: *const lm_model_t,
        ids: *const i32,
        type_ids: *const i32,
        mask: *const i32,
        batch: usize,
        seq_len: usize,
        hidden: *mut f32,
        pooled: *mut f32,
    ) -> lm_status;
    pub fn lm_model_embed(
        model: *const lm_model_t,
        ids: *const i32,
        type_ids: *const i32,
        mask: *const i32,
        batch: usize,
        seq_len: usize,
        pooling: c_int,
        normalize: c_int,
        embeddings: *mut f32,
    ) -> lm_status;
    pub fn lm_model_classify(
        model: *const lm_model_t,
        ids: *const i32,
        type_ids: *const i32,
        mask: *const i32,
        batch: usize,
        seq_len: usize,
        logits: *mut f32,
    ) -> lm_status;
    pub fn lm_model_token_logits(
        model: *const lm_model_t,
        ids: *const i32,
        type_ids: *const i32,
        mask: *const i32,
        batch: usize,
        seq_len: usize,
        logits: *mut f32,
    ) -> lm_status;
    pub fn lm_model_qa_logits(
        model: *const lm_model_t,
        ids: *const i32,
        type_ids: *const i32,
        mask: *const i32,
        batch: usize,
        seq_len: usize,
        start_logits: *mut f32,
        end_logits: *mut f32,
    ) -> lm_status;
    pub fn lm_qa_best_span(
        start_logits: *const f32,
        end_logits: *const f32,
        allowed: *const i32,
        seq_len: usize,
        max_answer_len: usize,
        start: *mut usize,
        end: *mut usize,
        score: *mut f32,
    ) -> lm_status;
    pub fn lm_model_mlm_logits(
        model: *const lm_model_t,
        ids: *const i32,
        type_ids: *const i32,
        mask: *const i32,
        batch: usize,
        seq_len: usize,
        positions: *const usize,
        n_positions: usize,
        logits: *mut f32,
    ) -> lm_status;

    // lm/text.h
    pub fn lm_text_options_init(opts: *mut lm_text_options, struct_size: usize) -> lm_status;
    pub fn lm_embed_texts(
        model: *const lm_model_t,
        n: usize,
        texts: *const *const c_char,
        lens: *const usize,
        opts: *const lm_text_options,
        embeddings: *mut f32,
        capacity: usize,
    ) -> lm_status;
    pub fn lm_classify_texts(
        model: *const lm_model_t,
        n: usize,
        texts: *const *const c_char,
        lens: *const usize,
        pairs: *const *const c_char,
        pair_lens: *const usize,
        opts: *const lm_text_options,
        results: *mut lm_label_score,
        capacity: usize,
        k_out: *mut usize,
    ) -> lm_status;
    pub fn lm_fill_mask(
        model: *const lm_model_t,
        n: usize,
        texts: *const *const c_char,
        lens: *const usize,
        opts: *const lm_text_options,
        results: *mut lm_token_score,
        capacity: usize,
        n_results: *mut usize,
        masks_per_text: *mut i32,
    ) -> lm_status;
    pub fn lm_answer_questions(
        model: *const lm_model_t,
        n: usize,
        questions: *const *const c_char,
        question_lens: *const usize,
        contexts: *const *const c_char,
        context_lens: *const usize,
        opts: *const lm_text_options,
        answers: *mut lm_answer,
        capacity: usize,
    ) -> lm_status;
    pub fn lm_tag_texts(
        model: *const lm_model_t,
        n: usize,
        texts: *const *const c_char,
        lens: *const usize,
        opts: *const lm_text_options,
        entities: *mut lm_entity,
        capacity: usize,
        n_entities: *mut usize,
    ) -> lm_status;

    // lm/trainer.h
    pub fn lm_trainer_options_init(opts: *mut lm_trainer_options, struct_size: usize) -> lm_status;
    pub fn lm_batch_init(b: *mut lm_batch, struct_size: usize) -> lm_status;
    pub fn lm_trainer_create(
        model: *mut lm_model_t,
        opts: *const lm_trainer_options,
        out: *mut *mut lm_trainer_t,
    ) -> lm_status;
    pub fn lm_trainer_free(trainer: *mut lm_trainer_t);
    pub fn lm_trainer_step(trainer: *mut lm_trainer_t, batch: *const lm_batch, loss: *mut f32) -> lm_status;
    pub fn lm_trainer_evaluate(
        trainer: *mut lm_trainer_t,
        batch: *const lm_batch,
        loss: *mut f32,
        logits: *mut f32,
        capacity: usize,
    ) -> lm_status;
    pub fn lm_trainer_steps(trainer: *const lm_trainer_t) -> i64;
    pub fn lm_trainer_learning_rate(trainer: *const lm_trainer_t) -> f64;
    pub fn lm_trainer_grad_norm(trainer: *const lm_trainer_t) -> f64;

    // lm/fit.h
    pub fn lm_metrics_init(m: *mut lm_metrics, struct_size: usize) -> lm_status;
    pub fn lm_fit_options_init(opts: *mut lm_fit_options, struct_size: usize) -> lm_status;
    pub fn lm_fit(
        model_dir: *const c_char,
        fit: *const lm_fit_options,
        train: *const lm_trainer_options,
        metrics: *mut lm_metrics,
    ) -> lm_status;
    pub fn lm_evaluate(
        model: *const lm_model_t,
        opts: *const lm_fit_options,
        metrics: *mut lm_metrics,
        json_out: *mut *mut c_char,
    ) -> lm_status;
}
