//! liblm from Rust: tokenize, run and fine-tune BERT-family models on the CPU.
//!
//! Safe owning types over the C API of `lm-sys` (include/lm.h): [`Tokenizer`], [`Model`],
//! [`Trainer`], each freed on drop, and [`fit`] / [`fit_with_progress`] (lm_fit); every fallible call returns `Result<_, LmError>` with the C
//! status and the library's sentence. Threads follow lm.h: a model and a tokenizer are
//! `Send + Sync` (inference and encoding from many threads at once); a trainer is `Send` only and
//! borrows its model mutably for its whole life.
//!
//! ```no_run
//! let model = lm::Model::load("tests/data/pipeline/models/seqcls")?;
//! let best = model.classify(&["a good film"])?;
//! println!("{} {:.3}", model.label_name(best[0][0].label).unwrap(), best[0][0].score);
//! # Ok::<(), lm::LmError>(())
//! ```
mod error;
mod fit;
mod model;
mod options;
mod tokenizer;
mod trainer;
mod util;

pub use error::{LmError, Result, Status};
pub use fit::{fit, fit_with_progress, FitEvent, FitOptions, Metrics, Progress, Task};
pub use lm_sys as sys;
pub use model::{qa_best_span, Answer, Entity, Inputs, LabelScore, Model, Span, TokenScore};
pub use options::{
    Aggregation, EncodeOptions, Head, ModelOptions, Optimizer, Padding, Pooling, ProblemType, Schedule, ScoreFunction,
    TextOptions, TokenizerOptions, TrainerOptions, Truncation,
};
pub use tokenizer::{Encoding, EncodingRef, SpecialToken, Tokenizer, TokenizerRef};
pub use trainer::{Batch, Evaluation, Labels, Trainer};

/// The linked library's version, MAJOR*10000 + MINOR*100 + PATCH.
pub fn version() -> u32 {
    unsafe { sys::lm_version() }
}

/// The linked library's version as "MAJOR.MINOR.PATCH".
pub fn version_string() -> &'static str {
    // SAFETY: a static string.
    unsafe { error::static_str(sys::lm_version_string()) }
}

/// One line describing the BLAS in use (library, kernel).
pub fn blas_info() -> String {
    // SAFETY: a thread-local string, copied at once.
    unsafe { std::ffi::CStr::from_ptr(sys::lm_blas_info()) }.to_string_lossy().into_owned()
}
