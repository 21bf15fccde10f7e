//! Fine-tuning end to end (lm/fit.h): lm_fit() with a progress callback (a Rust closure), and
//! lm_evaluate() on a model.
use std::any::Any;
use std::ffi::CStr;
use std::mem::{size_of, MaybeUninit};
use std::ops::ControlFlow;
use std::os::raw::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::ptr;

use lm_sys as sys;

use crate::error::{check, Result};
use crate::model::Model;
use crate::options::TrainerOptions;
use crate::util::{path_cstring, take_string};

/// What lm_fit() trains and lm_evaluate() scores (`lm_task`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    /// From the model's head, else from the training file.
    Auto,
    Classification,
    Regression,
    TokenClassification,
    QuestionAnswering,
    MaskedLm,
    Unknown(i32),
}

impl Task {
    pub fn code(self) -> i32 {
        match self {
            Task::Auto => sys::LM_TASK_AUTO,
            Task::Classification => sys::LM_TASK_CLASSIFICATION,
            Task::Regression => sys::LM_TASK_REGRESSION,
            Task::TokenClassification => sys::LM_TASK_TOKEN_CLASSIFICATION,
            Task::QuestionAnswering => sys::LM_TASK_QUESTION_ANSWERING,
            Task::MaskedLm => sys::LM_TASK_MASKED_LM,
            Task::Unknown(c) => c,
        }
    }

    pub fn from_code(code: i32) -> Task {
        match code {
            sys::LM_TASK_AUTO => Task::Auto,
            sys::LM_TASK_CLASSIFICATION => Task::Classification,
            sys::LM_TASK_REGRESSION => Task::Regression,
            sys::LM_TASK_TOKEN_CLASSIFICATION => Task::TokenClassification,
            sys::LM_TASK_QUESTION_ANSWERING => Task::QuestionAnswering,
            sys::LM_TASK_MASKED_LM => Task::MaskedLm,
            c => Task::Unknown(c),
        }
    }
}

/// The events of the progress callback (`lm_fit_event`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FitEvent {
    /// Data read and model loaded: totals known, nothing trained yet.
    Start,
    /// After each optimizer update.
    Step,
    /// Every log_every updates and after the last: the mean loss since the previous one.
    Log,
    /// After an evaluation on the dev file.
    Eval,
    /// A checkpoint was written.
    Checkpoint,
    /// The final model was written.
    End,
    Unknown(i32),
}

impl FitEvent {
    fn from_code(code: i32) -> FitEvent {
        match code {
            sys::LM_FIT_START => FitEvent::Start,
            sys::LM_FIT_STEP => FitEvent::Step,
            sys::LM_FIT_LOG => FitEvent::Log,
            sys::LM_FIT_EVAL => FitEvent::Eval,
            sys::LM_FIT_CHECKPOINT => FitEvent::Checkpoint,
            sys::LM_FIT_END => FitEvent::End,
            c => FitEvent::Unknown(c),
        }
    }
}

/// Scores of a model on a data set (`lm_metrics`); a metric the task does not have is NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    pub task: Task,
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
    /// The task's main metric (accuracy, pearson, entity f1, SQuAD f1, or perplexity).
    pub main: f64,
    pub eval_s: f64,
}

/// A struct liblm wrote with its own `struct_size` (first field), copied into a zeroed one of
/// ours: fields beyond what the library knows stay 0.
///
/// # Safety
/// `p` points to a struct whose first field is its size in bytes, readable for that size.
unsafe fn copy_sized<T>(p: *const T) -> T {
    let mut out = MaybeUninit::<T>::zeroed();
    let n = (*(p as *const usize)).min(size_of::<T>());
    ptr::copy_nonoverlapping(p as *const u8, out.as_mut_ptr() as *mut u8, n);
    out.assume_init()
}

impl Metrics {
    fn from_raw(m: &sys::lm_metrics) -> Metrics {
        Metrics {
            task: Task::from_code(m.task),
            num_labels: m.num_labels,
            examples: m.examples,
            loss: m.loss,
            accuracy: m.accuracy,
            f1: m.f1,
            f1_binary: m.f1_binary,
            precision: m.precision,
            recall: m.recall,
            exact_match: m.exact_match,
            pearson: m.pearson,
            spearman: m.spearman,
            mse: m.mse,
            perplexity: m.perplexity,
            main: m.main,
            eval_s: m.eval_s,
        }
    }

    fn empty() -> sys::lm_metrics {
        let mut m = MaybeUninit::<sys::lm_metrics>::zeroed();
        // SAFETY: the size is the struct's; init writes all of it.
        unsafe {
            sys::lm_metrics_init(m.as_mut_ptr(), size_of::<sys::lm_metrics>());
            m.assume_init()
        }
    }
}

/// What the progress callback gets at each event (`lm_fit_progress`). Times count training only.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress<'a> {
    pub event: FitEvent,
    pub epoch: i32,
    pub step: i64,
    pub total_steps: i64,
    pub steps_per_epoch: i64,
    pub train_rows: i64,
    pub dev_rows: i64,
    pub first_step: i64,
    pub epoch_float: f64,
    /// Step: the update's loss; Log: the mean since the previous log; else NaN.
    pub loss: f64,
    pub learning_rate: f64,
    pub grad_norm: f64,
    pub examples_per_s: f64,
    pub tokens_per_s: f64,
    pub elapsed_s: f64,
    pub eta_s: f64,
    pub examples: i64,
    pub tokens: i64,
    /// Eval and End: the dev metrics.
    pub metrics: Option<Metrics>,
    /// Checkpoint: the folder written; End: the final folder.
    pub path: Option<&'a Path>,
    pub is_best: bool,
    pub stopped: bool,
    pub task: Task,
    pub num_labels: i32,
    pub max_length: i32,
}

/// Options of [`fit`] and [`Model::evaluate`] (`lm_fit_options`), from the library's defaults
/// (docs/finetune.md's recipe). fit needs train_path and out_dir; evaluate needs dev_path.
#[derive(Clone, Debug)]
pub struct FitOptions {
    raw: sys::lm_fit_options,
    train_path: Option<PathBuf>,
    dev_path: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    resume_dir: Option<PathBuf>,
}

impl Default for FitOptions {
    fn default() -> Self {
        let mut o = MaybeUninit::<sys::lm_fit_options>::zeroed();
        // SAFETY: the size is the struct's; init writes all of it.
        let raw = unsafe {
            sys::lm_fit_options_init(o.as_mut_ptr(), size_of::<sys::lm_fit_options>());
            o.assume_init()
        };
        FitOptions { raw, train_path: None, dev_path: None, out_dir: None, resume_dir: None }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $t:ty => $conv:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, v: $t) -> Self {
                #[allow(clippy::redundant_closure_call)]
                {
                    self.raw.$name = ($conv)(v);
                }
                self
            }
        )*
    };
}

impl FitOptions {
    /// The training file (.tsv, .csv, .jsonl, .conll, SQuAD .json, .txt).
    pub fn train_path<P: AsRef<Path>>(mut self, p: P) -> Self {
        self.train_path = Some(p.as_ref().to_path_buf());
        self
    }
    /// The dev file: evaluations during fit; the file lm_evaluate() scores.
    pub fn dev_path<P: AsRef<Path>>(mut self, p: P) -> Self {
        self.dev_path = Some(p.as_ref().to_path_buf());
        self
    }
    /// The output folder (created when missing).
    pub fn out_dir<P: AsRef<Path>>(mut self, p: P) -> Self {
        self.out_dir = Some(p.as_ref().to_path_buf());
        self
    }
    /// A checkpoint folder, or an output folder (its newest checkpoint), to continue from.
    pub fn resume_dir<P: AsRef<Path>>(mut self, p: P) -> Self {
        self.resume_dir = Some(p.as_ref().to_path_buf());
        self
    }
    /// The task (default: from the head or the data).
    pub fn task(mut self, t: Task) -> Self {
        self.raw.task = t.code();
        self
    }
    setters! {
        epochs: i32 => |v| v;
        /// > 0: train this many optimizer updates, whatever epochs says.
        max_steps: i64 => |v| v;
        batch_size: i32 => |v| v;
        eval_batch_size: i32 => |v| v;
        max_length: i32 => |v| v;
        doc_stride: i32 => |v| v;
        warmup_ratio: f64 => |v| v;
        shuffle: bool => |v: bool| v as i32;
        group_by_length: i32 => |v| v;
        eval_every: i64 => |v| v;
        log_every: i64 => |v| v;
        save_every: i64 => |v| v;
        keep_checkpoints: i32 => |v| v;
        patience: i32 => |v| v;
        load_best: bool => |v: bool| v as i32;
        overwrite: bool => |v: bool| v as i32;
        mlm_probability: f64 => |v| v;
        mlm_pack: bool => |v: bool| v as i32;
        max_train_examples: i64 => |v| v;
        max_eval_examples: i64 => |v| v;
    }

    /// Calls `f` with the C struct, its paths pointing at C strings that live during the call.
    fn with_raw<R>(&self, f: impl FnOnce(sys::lm_fit_options) -> Result<R>) -> Result<R> {
        let c = |p: &Option<PathBuf>| p.as_deref().map(path_cstring).transpose();
        let (train, dev, out, resume) =
            (c(&self.train_path)?, c(&self.dev_path)?, c(&self.out_dir)?, c(&self.resume_dir)?);
        let ptr = |s: &Option<std::ffi::CString>| s.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        let mut raw = self.raw;
        raw.train_path = ptr(&train);
        raw.dev_path = ptr(&dev);
        raw.out_dir = ptr(&out);
        raw.resume_dir = ptr(&resume);
        f(raw)
    }
}

type Callback<'f> = dyn FnMut(&Progress<'_>) -> ControlFlow<()> + 'f;

struct CallbackState<'f> {
    f: &'f mut Callback<'f>,
    panic: Option<Box<dyn Any + Send + 'static>>,
}

unsafe extern "C" fn trampoline(p: *const sys::lm_fit_progress, user: *mut c_void) -> c_int {
    // SAFETY: `user` is the CallbackState of fit_with_progress, alive during lm_fit; the progress
    // (and what it points to) is valid during this call.
    let state = &mut *(user as *mut CallbackState<'_>);
    if state.panic.is_some() || p.is_null() {
        return 1;
    }
    let raw: sys::lm_fit_progress = copy_sized(p);
    let metrics = if raw.metrics.is_null() { None } else { Some(Metrics::from_raw(&copy_sized(raw.metrics))) };
    let path = if raw.path.is_null() {
        None
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            Some(Path::new(std::ffi::OsStr::from_bytes(CStr::from_ptr(raw.path).to_bytes())))
        }
        #[cfg(not(unix))]
        {
            CStr::from_ptr(raw.path).to_str().ok().map(Path::new)
        }
    };
    let progress = Progress {
        event: FitEvent::from_code(raw.event),
        epoch: raw.epoch,
        step: raw.step,
        total_steps: raw.total_steps,
        steps_per_epoch: raw.steps_per_epoch,
        train_rows: raw.train_rows,
        dev_rows: raw.dev_rows,
        first_step: raw.first_step,
        epoch_float: raw.epoch_float,
        loss: raw.loss,
        learning_rate: raw.learning_rate,
        grad_norm: raw.grad_norm,
        examples_per_s: raw.examples_per_s,
        tokens_per_s: raw.tokens_per_s,
        elapsed_s: raw.elapsed_s,
        eta_s: raw.eta_s,
        examples: raw.examples,
        tokens: raw.tokens,
        metrics,
        path,
        is_best: raw.is_best != 0,
        stopped: raw.stopped != 0,
        task: Task::from_code(raw.task),
        num_labels: raw.num_labels,
        max_length: raw.max_length,
    };
    // a panic may not unwind through C: it stops the run and resumes after lm_fit returns
    match panic::catch_unwind(AssertUnwindSafe(|| (state.f)(&progress))) {
        Ok(ControlFlow::Continue(())) => 0,
        Ok(ControlFlow::Break(())) => 1,
        Err(e) => {
            state.panic = Some(e);
            1
        }
    }
}

/// Fine-tunes the model of `model_dir` on `opts`' training file and writes the trained model,
/// checkpoints and metrics.csv into its output folder. Returns the final dev metrics (NaN
/// without a dev file).
pub fn fit<P: AsRef<Path>>(model_dir: P, opts: &FitOptions, train: &TrainerOptions) -> Result<Metrics> {
    run_fit(model_dir.as_ref(), opts, train, None)
}

/// As [`fit`], calling `progress` at each event on this thread; `ControlFlow::Break(())` stops
/// the run cleanly (a checkpoint and the model so far are saved, and the call returns Ok). A
/// panic in `progress` stops the run, then resumes once lm_fit has returned.
pub fn fit_with_progress<P, F>(
    model_dir: P,
    opts: &FitOptions,
    train: &TrainerOptions,
    mut progress: F,
) -> Result<Metrics>
where
    P: AsRef<Path>,
    F: FnMut(&Progress<'_>) -> ControlFlow<()>,
{
    run_fit(model_dir.as_ref(), opts, train, Some(&mut progress))
}

fn run_fit(dir: &Path, opts: &FitOptions, train: &TrainerOptions, f: Option<&mut Callback<'_>>) -> Result<Metrics> {
    let dir = path_cstring(dir)?;
    let mut metrics = Metrics::empty();
    let mut state = f.map(|f| CallbackState { f, panic: None });
    let result = opts.with_raw(|mut raw| {
        if let Some(st) = state.as_mut() {
            raw.callback = Some(trampoline);
            raw.user_data = st as *mut CallbackState<'_> as *mut c_void;
        }
        // SAFETY: every pointer lives during the call; the callback state too.
        check(unsafe { sys::lm_fit(dir.as_ptr(), &raw, train.raw(), &mut metrics) })
    });
    if let Some(p) = state.and_then(|s| s.panic) {
        panic::resume_unwind(p);
    }
    result.map(|()| Metrics::from_raw(&metrics))
}

impl Model {
    /// Scores the model on `opts`' dev file with its task's metrics (the evaluation lm_fit runs):
    /// the metrics and the same as JSON (classification: with "labels" and "confusion").
    pub fn evaluate(&self, opts: &FitOptions) -> Result<(Metrics, String)> {
        let mut metrics = Metrics::empty();
        let mut json = ptr::null_mut();
        opts.with_raw(|raw| check(unsafe { sys::lm_evaluate(self.as_ptr(), &raw, &mut metrics, &mut json) }))?;
        // SAFETY: a string to free with lm_free, ours.
        Ok((Metrics::from_raw(&metrics), unsafe { take_string(json) }))
    }
}
