//! Training (lm/trainer.h): a trainer borrows its model mutably for its whole life, so no
//! inference nor a second trainer can use the model meanwhile, and the model outlives it.
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use lm_sys as sys;

use crate::error::{check, invalid, Result};
use crate::model::{Inputs, Model};
use crate::options::{Head, TrainerOptions};

/// The labels of a training batch, of the kind the model's head needs.
#[derive(Clone, Copy, Debug)]
pub enum Labels<'a> {
    /// No labels (evaluation then reports loss 0).
    None,
    /// Integer labels, -100 ignored: a class per row (sequence classification, single-label) or
    /// a class per token, [batch * seq_len] (token classification, masked LM).
    Classes(&'a [i32]),
    /// Float targets [batch * num_labels]: regression, multi-label.
    Floats(&'a [f32]),
    /// Question answering: first and last answer token of each row.
    Spans { start: &'a [i32], end: &'a [i32] },
}

/// A training batch: token ids and labels.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    pub inputs: Inputs<'a>,
    pub labels: Labels<'a>,
}

impl<'a> Batch<'a> {
    pub fn new(inputs: Inputs<'a>, labels: Labels<'a>) -> Batch<'a> {
        Batch { inputs, labels }
    }
}

/// Loss and logits of an evaluation step.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f32,
    /// Sequence classification [batch * num_labels]; token classification
    /// [batch * seq_len * num_labels]; question answering [batch * seq_len * 2] (start, end);
    /// masked LM [batch * seq_len * vocab].
    pub logits: Vec<f32>,
}

/// A training session that updates its model's weights in place.
///
/// Send, not Sync: a trainer belongs to one thread at a time (lm.h), and every call that
/// changes it takes `&mut self`.
///
/// While a trainer exists its model must not be used elsewhere (lm/trainer.h): the trainer
/// borrows it mutably, so this does not compile:
///
/// ```compile_fail
/// let mut model = lm::Model::load("folder")?;
/// let trainer = lm::Trainer::new(&mut model, &lm::TrainerOptions::default())?;
/// model.embed(&["the model is borrowed by the trainer"])?;
/// drop(trainer);
/// # Ok::<(), lm::LmError>(())
/// ```
///
/// and once the trainer is dropped the model is free again, with the trained weights:
///
/// ```no_run
/// let mut model = lm::Model::load("folder")?;
/// let trainer = lm::Trainer::new(&mut model, &lm::TrainerOptions::default())?;
/// drop(trainer);
/// model.embed(&["the borrow has ended"])?;
/// # Ok::<(), lm::LmError>(())
/// ```
///
/// A trainer is not Sync (two threads cannot share one):
///
/// ```compile_fail
/// fn shared<T: Sync>(_: &T) {}
/// let mut model = lm::Model::load("folder")?;
/// let trainer = lm::Trainer::new(&mut model, &lm::TrainerOptions::default())?;
/// shared(&trainer);
/// # Ok::<(), lm::LmError>(())
/// ```
pub struct Trainer<'m> {
    ptr: NonNull<sys::lm_trainer_t>,
    head: Head,
    num_labels: usize,
    vocab: usize,
    _model: PhantomData<&'m mut Model>,
}

// SAFETY: a trainer may move to another thread (it keeps no thread-local state); it is !Sync
// because the NonNull field makes it so.
unsafe impl Send for Trainer<'_> {}

impl Drop for Trainer<'_> {
    fn drop(&mut self) {
        // SAFETY: owned, freed once, before the model's borrow ends.
        unsafe { sys::lm_trainer_free(self.ptr.as_ptr()) }
    }
}

impl<'m> Trainer<'m> {
    /// A trainer on `model` (which keeps the trained weights when the trainer is dropped).
    pub fn new(model: &'m mut Model, opts: &TrainerOptions) -> Result<Trainer<'m>> {
        let (head, num_labels, vocab) = (model.head(), model.num_labels(), model.vocab_size());
        let mut out = ptr::null_mut();
        // SAFETY: the model is borrowed mutably for 'm, which the trainer cannot outlive.
        check(unsafe { sys::lm_trainer_create(model.as_mut_ptr(), opts.raw(), &mut out) })?;
        let ptr = NonNull::new(out).ok_or_else(|| invalid("lm_trainer_create returned NULL"))?;
        Ok(Trainer { ptr, head, num_labels, vocab, _model: PhantomData })
    }

    /// The C batch for `b`, after checking that every array is as long as the C side reads.
    fn raw_batch(&self, b: &Batch<'_>) -> Result<sys::lm_batch> {
        let (batch, seq_len) = b.inputs.check()?;
        let mut raw = sys::lm_batch {
            struct_size: 0,
            batch: 0,
            seq_len: 0,
            ids: ptr::null(),
            type_ids: ptr::null(),
            attention_mask: ptr::null(),
            labels: ptr::null(),
            float_labels: ptr::null(),
            start_positions: ptr::null(),
            end_positions: ptr::null(),
        };
        check(unsafe { sys::lm_batch_init(&mut raw, std::mem::size_of::<sys::lm_batch>()) })?;
        raw.batch = batch;
        raw.seq_len = seq_len;
        raw.ids = b.inputs.ids_ptr();
        raw.type_ids = b.inputs.type_ids_ptr();
        raw.attention_mask = b.inputs.mask_ptr();
        let want = |what: &str, got: usize, need: usize| {
            if got == need {
                Ok(())
            } else {
                Err(invalid(format!("{} {} for a batch that needs {}", got, what, need)))
            }
        };
        match b.labels {
            Labels::None => {}
            Labels::Classes(l) => {
                let need = if self.head == Head::SequenceClassification { batch } else { batch * seq_len };
                want("labels", l.len(), need)?;
                raw.labels = l.as_ptr();
            }
            Labels::Floats(l) => {
                want("float labels", l.len(), batch * self.num_labels)?;
                raw.float_labels = l.as_ptr();
            }
            Labels::Spans { start, end } => {
                want("start positions", start.len(), batch)?;
                want("end positions", end.len(), batch)?;
                raw.start_positions = start.as_ptr();
                raw.end_positions = end.as_ptr();
            }
        }
        Ok(raw)
    }

    /// One training step (forward, loss, backward; the optimizer every accumulation_steps).
    /// Returns the batch's loss.
    pub fn step(&mut self, batch: &Batch<'_>) -> Result<f32> {
        let raw = self.raw_batch(batch)?;
        let mut loss = 0f32;
        check(unsafe { sys::lm_trainer_step(self.ptr.as_ptr(), &raw, &mut loss) })?;
        Ok(loss)
    }

    /// Loss and logits of a batch without dropout, touching nothing.
    pub fn evaluate(&mut self, batch: &Batch<'_>) -> Result<Evaluation> {
        let raw = self.raw_batch(batch)?;
        let (b, t) = (raw.batch, raw.seq_len);
        let n = match self.head {
            Head::SequenceClassification => b * self.num_labels,
            Head::TokenClassification => b * t * self.num_labels,
            Head::QuestionAnswering => b * t * 2,
            Head::MaskedLm => b * t * self.vocab,
            _ => 0,
        };
        let mut logits = vec![0f32; n];
        let mut loss = 0f32;
        let out = if n == 0 { ptr::null_mut() } else { logits.as_mut_ptr() };
        check(unsafe { sys::lm_trainer_evaluate(self.ptr.as_ptr(), &raw, &mut loss, out, n) })?;
        Ok(Evaluation { loss, logits })
    }

    /// Optimizer updates done so far.
    pub fn steps(&self) -> i64 {
        unsafe { sys::lm_trainer_steps(self.ptr.as_ptr()) }
    }

    /// The learning rate of the next update.
    pub fn learning_rate(&self) -> f64 {
        unsafe { sys::lm_trainer_learning_rate(self.ptr.as_ptr()) }
    }

    /// The global gradient norm of the last update, before clipping.
    pub fn grad_norm(&self) -> f64 {
        unsafe { sys::lm_trainer_grad_norm(self.ptr.as_ptr()) }
    }
}

impl Model {
    /// A trainer on this model: see [`Trainer::new`].
    pub fn trainer(&mut self, opts: &TrainerOptions) -> Result<Trainer<'_>> {
        Trainer::new(self, opts)
    }
}
