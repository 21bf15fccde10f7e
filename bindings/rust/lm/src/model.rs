//! Models: loading, information, forward passes on token ids, and the text-level calls
//! (embeddings, classification, fill-mask, question answering, tagging).
use std::os::raw::c_int;
use std::path::Path;
use std::ptr::{self, NonNull};

use lm_sys as sys;

use crate::error::{check, invalid, LmError, Result, Status};
use crate::options::{Head, ModelOptions, Pooling, ProblemType, TextOptions};
use crate::tokenizer::TokenizerRef;
use crate::util::{borrowed_str, path_cstring, take_string, Texts};

/// A BERT-family model, owned; freed on drop.
///
/// Send + Sync: lm.h lets many threads run inference on one model at once, and every inference
/// call takes `&self`. Training takes `&mut Model` (see [`crate::Trainer`]), so no inference can
/// run while a trainer holds the model.
pub struct Model {
    ptr: NonNull<sys::lm_model_t>,
}

// SAFETY: see the type's comment (lm.h: "a model may run inference from many threads at once").
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: owned, freed once; borrows (tokenizer, trainer, running calls) have ended.
        unsafe { sys::lm_model_free(self.ptr.as_ptr()) }
    }
}

/// Token ids of a batch for the forward passes: `batch` rows of `seq_len` tokens, row-major,
/// with optional type ids and attention mask of the same shape.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    ids: &'a [i32],
    type_ids: Option<&'a [i32]>,
    attention_mask: Option<&'a [i32]>,
    seq_len: usize,
}

impl<'a> Inputs<'a> {
    /// `ids` holds whole rows of `seq_len` tokens.
    pub fn new(ids: &'a [i32], seq_len: usize) -> Inputs<'a> {
        Inputs { ids, type_ids: None, attention_mask: None, seq_len }
    }
    pub fn type_ids(mut self, t: &'a [i32]) -> Self {
        self.type_ids = Some(t);
        self
    }
    pub fn attention_mask(mut self, m: &'a [i32]) -> Self {
        self.attention_mask = Some(m);
        self
    }
    pub fn batch(&self) -> usize {
        self.ids.len().checked_div(self.seq_len).unwrap_or(0)
    }
    pub fn seq_len(&self) -> usize {
        self.seq_len
    }
    /// The shape is whole and every array as long as the ids (C reads batch * seq_len of each).
    pub(crate) fn check(&self) -> Result<(usize, usize)> {
        if self.seq_len == 0 || self.ids.is_empty() || self.ids.len() % self.seq_len != 0 {
            return Err(invalid(format!("{} ids do not make rows of {} tokens", self.ids.len(), self.seq_len)));
        }
        for (name, a) in [("type ids", self.type_ids), ("attention mask", self.attention_mask)] {
            if let Some(a) = a {
                if a.len() != self.ids.len() {
                    return Err(invalid(format!("{} {} for {} ids", a.len(), name, self.ids.len())));
                }
            }
        }
        Ok((self.batch(), self.seq_len))
    }
    pub(crate) fn ids_ptr(&self) -> *const i32 {
        self.ids.as_ptr()
    }
    pub(crate) fn type_ids_ptr(&self) -> *const i32 {
        self.type_ids.map_or(ptr::null(), |t| t.as_ptr())
    }
    pub(crate) fn mask_ptr(&self) -> *const i32 {
        self.attention_mask.map_or(ptr::null(), |t| t.as_ptr())
    }
}

/// A label and its score (classification).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelScore {
    pub label: usize,
    pub score: f32,
}

/// A candidate token for a masked position and its probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenScore {
    pub token_id: i32,
    pub score: f32,
}

/// An extractive answer: a span of the context, in characters and in bytes. An empty span is
/// the "no answer" of `handle_impossible_answer`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    pub score: f32,
    pub start: usize,
    pub end: usize,
    pub byte_start: usize,
    pub byte_end: usize,
}

impl Answer {
    /// The answer's text in its context.
    pub fn text<'c>(&self, context: &'c str) -> &'c str {
        context.get(self.byte_start..self.byte_end).unwrap_or("")
    }
}

/// An entity (or, without aggregation, a token) found by token classification.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entity {
    pub label: usize,
    pub score: f32,
    /// Without aggregation: the token's index in the encoding.
    pub token: Option<usize>,
    pub start: usize,
    pub end: usize,
    pub byte_start: usize,
    pub byte_end: usize,
}

/// The best answer span of one sequence's question-answering logits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub start: usize,
    /// Inclusive.
    pub end: usize,
    pub score: f32,
}

/// lm_qa_best_span(): the span start <= end < start + max_answer_len (0: no limit) over the
/// allowed tokens that maximises start_logits[start] + end_logits[end].
pub fn qa_best_span(
    start_logits: &[f32],
    end_logits: &[f32],
    allowed: Option<&[i32]>,
    max_answer_len: usize,
) -> Result<Span> {
    let n = start_logits.len();
    if end_logits.len() != n || allowed.map_or(false, |a| a.len() != n) {
        return Err(invalid("the logits and the allowed tokens differ in length"));
    }
    let mut span = Span { start: 0, end: 0, score: 0.0 };
    check(unsafe {
        sys::lm_qa_best_span(
            start_logits.as_ptr(),
            end_logits.as_ptr(),
            allowed.map_or(ptr::null(), |a| a.as_ptr()),
            n,
            max_answer_len,
            &mut span.start,
            &mut span.end,
            &mut span.score,
        )
    })?;
    Ok(span)
}

fn rows<T: Clone>(flat: Vec<T>, width: usize) -> Vec<Vec<T>> {
    if width == 0 {
        return Vec::new();
    }
    flat.chunks(width).map(|c| c.to_vec()).collect()
}

fn too_small(code: sys::lm_status) -> bool {
    code == sys::LM_ERR_BUFFER_TOO_SMALL
}

impl Model {
    /// Loads a Hugging Face BERT model folder (config.json, model.safetensors, tokenizer files).
    pub fn load<P: AsRef<Path>>(dir: P) -> Result<Model> {
        Model::load_with(dir, &ModelOptions::default())
    }

    pub fn load_with<P: AsRef<Path>>(dir: P, opts: &ModelOptions) -> Result<Model> {
        let c = path_cstring(dir.as_ref())?;
        let mut out = ptr::null_mut();
        opts.with_raw(|o| check(unsafe { sys::lm_model_load(c.as_ptr(), o, &mut out) }))?;
        Model::own(out)
    }

    /// A model with fresh weights from a config.json text (no tokenizer).
    pub fn create(config_json: &str, seed: u64, opts: &ModelOptions) -> Result<Model> {
        let mut out = ptr::null_mut();
        opts.with_raw(|o| {
            check(unsafe {
                sys::lm_model_create(config_json.as_ptr() as *const _, config_json.len(), seed, o, &mut out)
            })
        })?;
        Model::own(out)
    }

    fn own(p: *mut sys::lm_model_t) -> Result<Model> {
        NonNull::new(p).map(|ptr| Model { ptr }).ok_or_else(|| invalid("the loader returned NULL"))
    }

    /// The C handle, for calls this crate does not wrap; it stays owned by the model.
    pub fn as_ptr(&self) -> *const sys::lm_model_t {
        self.ptr.as_ptr()
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut sys::lm_model_t {
        self.ptr.as_ptr()
    }

    /// Writes the model as a Hugging Face folder (created when missing; its parent must exist).
    pub fn save<P: AsRef<Path>>(&self, dir: P) -> Result<()> {
        let c = path_cstring(dir.as_ref())?;
        check(unsafe { sys::lm_model_save(self.as_ptr(), c.as_ptr()) })
    }

    /// The tokenizer loaded with the model, if any. It is borrowed from the model and cannot
    /// outlive it:
    ///
    /// ```compile_fail
    /// let tok = {
    ///     let model = lm::Model::load("folder")?;
    ///     model.tokenizer().unwrap()
    /// };
    /// tok.encode("the model is gone")?;
    /// # Ok::<(), lm::LmError>(())
    /// ```
    pub fn tokenizer(&self) -> Option<&TokenizerRef> {
        let p = unsafe { sys::lm_model_tokenizer(self.as_ptr()) };
        // SAFETY: owned by the model, valid while &self is.
        (!p.is_null()).then(|| unsafe { TokenizerRef::from_ptr(p) })
    }

    pub fn head(&self) -> Head {
        Head::from_code(unsafe { sys::lm_model_head(self.as_ptr()) } as i32)
    }
    pub fn hidden_size(&self) -> usize {
        unsafe { sys::lm_model_hidden_size(self.as_ptr()) }
    }
    pub fn num_layers(&self) -> usize {
        unsafe { sys::lm_model_num_layers(self.as_ptr()) }
    }
    pub fn num_heads(&self) -> usize {
        unsafe { sys::lm_model_num_heads(self.as_ptr()) }
    }
    pub fn vocab_size(&self) -> usize {
        unsafe { sys::lm_model_vocab_size(self.as_ptr()) }
    }
    pub fn type_vocab_size(&self) -> usize {
        unsafe { sys::lm_model_type_vocab_size(self.as_ptr()) }
    }
    /// Longest sequence the model accepts (max_position_embeddings).
    pub fn max_length(&self) -> usize {
        unsafe { sys::lm_model_max_length(self.as_ptr()) }
    }
    /// The tokens per input the text-level calls use by default (sentence-transformers'
    /// max_seq_length, else the tokenizer's model_max_length, else [`Model::max_length`]).
    pub fn text_max_length(&self) -> usize {
        unsafe { sys::lm_model_text_max_length(self.as_ptr()) }
    }
    pub fn num_labels(&self) -> usize {
        unsafe { sys::lm_model_num_labels(self.as_ptr()) }
    }
    /// A label's name (config.json id2label).
    pub fn label_name(&self, id: usize) -> Option<&str> {
        // SAFETY: owned by the model.
        unsafe { borrowed_str(sys::lm_model_label_name(self.as_ptr(), id)) }
    }
    /// Every label's name, by id.
    pub fn labels(&self) -> Vec<&str> {
        (0..self.num_labels()).map(|i| self.label_name(i).unwrap_or("")).collect()
    }
    pub fn parameter_count(&self) -> u64 {
        unsafe { sys::lm_model_parameter_count(self.as_ptr()) }
    }
    pub fn nan_count(&self) -> u64 {
        unsafe { sys::lm_model_nan_count(self.as_ptr()) }
    }
    pub fn has_pooler(&self) -> bool {
        unsafe { sys::lm_model_has_pooler(self.as_ptr()) != 0 }
    }
    pub fn has_fresh_head(&self) -> bool {
        unsafe { sys::lm_model_has_fresh_head(self.as_ptr()) != 0 }
    }
    pub fn problem_type(&self) -> ProblemType {
        ProblemType::from_code(unsafe { sys::lm_model_problem_type(self.as_ptr()) })
    }
    /// Names of the tensors of the weights file the model does not use.
    pub fn unused_tensors(&self) -> Vec<&str> {
        let n = unsafe { sys::lm_model_unused_tensor_count(self.as_ptr()) };
        (0..n).filter_map(|i| unsafe { borrowed_str(sys::lm_model_unused_tensor_name(self.as_ptr(), i)) }).collect()
    }
    /// The sentence-embedding defaults of the folder: pooling and whether to normalise.
    pub fn embedding_defaults(&self) -> (Pooling, bool) {
        let (mut pooling, mut normalize): (c_int, c_int) = (0, 0);
        unsafe { sys::lm_model_embedding_defaults(self.as_ptr(), &mut pooling, &mut normalize) };
        (if pooling == sys::LM_POOLING_CLS { Pooling::Cls } else { Pooling::Mean }, normalize != 0)
    }
    /// The configuration as config.json text.
    pub fn config_json(&self) -> Result<String> {
        let mut out = ptr::null_mut();
        check(unsafe { sys::lm_model_config_json(self.as_ptr(), &mut out) })?;
        Ok(unsafe { take_string(out) })
    }

    // ---- forward passes on token ids

    /// Last hidden state [batch * seq_len * hidden] and, when asked, the pooled output
    /// [batch * hidden].
    pub fn hidden_states(&self, x: &Inputs<'_>, pooled: bool) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
        let (b, t) = x.check()?;
        let c = self.hidden_size();
        let mut hidden = vec![0f32; b * t * c];
        let mut pool = if pooled { Some(vec![0f32; b * c]) } else { None };
        check(unsafe {
            sys::lm_model_hidden_states(
                self.as_ptr(),
                x.ids_ptr(),
                x.type_ids_ptr(),
                x.mask_ptr(),
                b,
                t,
                hidden.as_mut_ptr(),
                pool.as_mut().map_or(ptr::null_mut(), |p| p.as_mut_ptr()),
            )
        })?;
        Ok((hidden, pool))
    }

    /// Sentence embeddings of token ids [batch * hidden]; `normalize` None: the model's default.
    pub fn embed_ids(&self, x: &Inputs<'_>, pooling: Pooling, normalize: Option<bool>) -> Result<Vec<f32>> {
        let (b, t) = x.check()?;
        let mut out = vec![0f32; b * self.hidden_size()];
        let norm = normalize.map_or(-1, |n| n as c_int);
        check(unsafe {
            sys::lm_model_embed(
                self.as_ptr(),
                x.ids_ptr(),
                x.type_ids_ptr(),
                x.mask_ptr(),
                b,
                t,
                pooling.code(),
                norm,
                out.as_mut_ptr(),
            )
        })?;
        Ok(out)
    }

    /// Sequence-classification logits [batch * num_labels].
    pub fn classify_ids(&self, x: &Inputs<'_>) -> Result<Vec<f32>> {
        let (b, t) = x.check()?;
        let mut out = vec![0f32; b * self.num_labels()];
        check(unsafe {
            sys::lm_model_classify(self.as_ptr(), x.ids_ptr(), x.type_ids_ptr(), x.mask_ptr(), b, t, out.as_mut_ptr())
        })?;
        Ok(out)
    }

    /// Token-classification logits [batch * seq_len * num_labels].
    pub fn token_logits(&self, x: &Inputs<'_>) -> Result<Vec<f32>> {
        let (b, t) = x.check()?;
        let mut out = vec![0f32; b * t * self.num_labels()];
        check(unsafe {
            sys::lm_model_token_logits(
                self.as_ptr(),
                x.ids_ptr(),
                x.type_ids_ptr(),
                x.mask_ptr(),
                b,
                t,
                out.as_mut_ptr(),
            )
        })?;
        Ok(out)
    }

    /// Question-answering start and end logits, [batch * seq_len] each.
    pub fn qa_logits(&self, x: &Inputs<'_>) -> Result<(Vec<f32>, Vec<f32>)> {
        let (b, t) = x.check()?;
        let (mut start, mut end) = (vec![0f32; b * t], vec![0f32; b * t]);
        check(unsafe {
            sys::lm_model_qa_logits(
                self.as_ptr(),
                x.ids_ptr(),
                x.type_ids_ptr(),
                x.mask_ptr(),
                b,
                t,
                start.as_mut_ptr(),
                end.as_mut_ptr(),
            )
        })?;
        Ok((start, end))
    }

    /// Masked-LM logits over the vocabulary [n * vocab] for the given flat positions
    /// (row * seq_len + position), or for every token.
    pub fn mlm_logits(&self, x: &Inputs<'_>, positions: Option<&[usize]>) -> Result<Vec<f32>> {
        let (b, t) = x.check()?;
        let n = positions.map_or(b * t, |p| p.len());
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut out = vec![0f32; n * self.vocab_size()];
        check(unsafe {
            sys::lm_model_mlm_logits(
                self.as_ptr(),
                x.ids_ptr(),
                x.type_ids_ptr(),
                x.mask_ptr(),
                b,
                t,
                positions.map_or(ptr::null(), |p| p.as_ptr()),
                n,
                out.as_mut_ptr(),
            )
        })?;
        Ok(out)
    }

    // ---- text in, answers out (lm/text.h)

    /// Sentence embeddings of texts, one row of hidden_size floats per text, as
    /// sentence-transformers' encode.
    pub fn embed<T: AsRef<[u8]>>(&self, texts: &[T]) -> Result<Vec<Vec<f32>>> {
        self.embed_with(texts, &TextOptions::default())
    }

    pub fn embed_with<T: AsRef<[u8]>>(&self, texts: &[T], opts: &TextOptions) -> Result<Vec<Vec<f32>>> {
        let a = Texts::new(texts);
        let c = self.hidden_size();
        let mut out = vec![0f32; texts.len() * c];
        check(unsafe {
            sys::lm_embed_texts(
                self.as_ptr(),
                texts.len(),
                a.ptrs.as_ptr(),
                a.lens.as_ptr(),
                opts.raw(),
                out.as_mut_ptr(),
                out.len(),
            )
        })?;
        Ok(rows(out, c))
    }

    /// The best label of each text (the text-classification pipeline; `top_k` in the options
    /// gives more, -1 all), best first.
    pub fn classify<T: AsRef<[u8]>>(&self, texts: &[T]) -> Result<Vec<Vec<LabelScore>>> {
        self.classify_with(texts, &TextOptions::default())
    }

    pub fn classify_with<T: AsRef<[u8]>>(&self, texts: &[T], opts: &TextOptions) -> Result<Vec<Vec<LabelScore>>> {
        self.classify_inner(texts, None::<&[&[u8]]>, opts)
    }

    /// Classifies text pairs (`texts[i]`, `pairs[i]`); an empty second text makes a single text.
    pub fn classify_pairs<A: AsRef<[u8]>, B: AsRef<[u8]>>(
        &self,
        texts: &[A],
        pairs: &[B],
        opts: &TextOptions,
    ) -> Result<Vec<Vec<LabelScore>>> {
        if texts.len() != pairs.len() {
            return Err(invalid(format!("{} texts but {} second texts", texts.len(), pairs.len())));
        }
        self.classify_inner(texts, Some(pairs), opts)
    }

    fn classify_inner<A: AsRef<[u8]>, B: AsRef<[u8]>>(
        &self,
        texts: &[A],
        pairs: Option<&[B]>,
        opts: &TextOptions,
    ) -> Result<Vec<Vec<LabelScore>>> {
        let n = texts.len();
        let a = Texts::new(texts);
        let b = pairs.map(Texts::new);
        // k <= num_labels whatever top_k says
        let mut out = vec![sys::lm_label_score::default(); n * self.num_labels().max(1)];
        let mut k = 0usize;
        check(unsafe {
            sys::lm_classify_texts(
                self.as_ptr(),
                n,
                a.ptrs.as_ptr(),
                a.lens.as_ptr(),
                b.as_ref().map_or(ptr::null(), |t| t.ptrs.as_ptr()),
                b.as_ref().map_or(ptr::null(), |t| t.lens.as_ptr()),
                opts.raw(),
                out.as_mut_ptr(),
                out.len(),
                &mut k,
            )
        })?;
        out.truncate(n * k);
        Ok(rows(out.into_iter().map(|r| LabelScore { label: r.label as usize, score: r.score }).collect(), k)
            .into_iter()
            .chain(std::iter::repeat(Vec::new()))
            .take(n)
            .collect())
    }

    /// Fills the `[MASK]` tokens of texts (the fill-mask pipeline): for each text, for each of its
    /// masks in order, the top_k candidates (default 5), best first.
    pub fn fill_mask<T: AsRef<[u8]>>(&self, texts: &[T]) -> Result<Vec<Vec<Vec<TokenScore>>>> {
        self.fill_mask_with(texts, &TextOptions::default())
    }

    pub fn fill_mask_with<T: AsRef<[u8]>>(&self, texts: &[T], opts: &TextOptions) -> Result<Vec<Vec<Vec<TokenScore>>>> {
        let n = texts.len();
        let a = Texts::new(texts);
        let k_guess = match opts.raw().top_k {
            0 => 5,
            k if k < 0 => self.vocab_size(),
            k => k as usize,
        }
        .min(self.vocab_size());
        // one mask a text first; the library counts them before it runs the model and says how
        // many entries it needs, so a second call only costs the tokenization again
        let mut out = vec![sys::lm_token_score::default(); n * k_guess];
        let mut masks = vec![0i32; n];
        let mut need = 0usize;
        for _ in 0..2 {
            let s = unsafe {
                sys::lm_fill_mask(
                    self.as_ptr(),
                    n,
                    a.ptrs.as_ptr(),
                    a.lens.as_ptr(),
                    opts.raw(),
                    out.as_mut_ptr(),
                    out.len(),
                    &mut need,
                    masks.as_mut_ptr(),
                )
            };
            if too_small(s) && need > out.len() {
                out = vec![sys::lm_token_score::default(); need];
                continue;
            }
            check(s)?;
            let total: usize = masks.iter().map(|&m| m as usize).sum();
            let k = need.checked_div(total).unwrap_or(0);
            let mut it = out.into_iter().take(need).map(|r| TokenScore { token_id: r.token_id, score: r.score });
            return Ok(masks.iter().map(|&m| (0..m).map(|_| it.by_ref().take(k).collect()).collect()).collect());
        }
        Err(LmError::new(Status::BufferTooSmall, "lm_fill_mask kept asking for a larger buffer"))
    }

    /// Answers questions, each about its own context (the question-answering pipeline): the
    /// top_k answers (default 1) of each question, best first (fewer when the context has fewer
    /// candidate spans).
    pub fn answer<Q: AsRef<[u8]>, C: AsRef<[u8]>>(&self, questions: &[Q], contexts: &[C]) -> Result<Vec<Vec<Answer>>> {
        self.answer_with(questions, contexts, &TextOptions::default())
    }

    pub fn answer_with<Q: AsRef<[u8]>, C: AsRef<[u8]>>(
        &self,
        questions: &[Q],
        contexts: &[C],
        opts: &TextOptions,
    ) -> Result<Vec<Vec<Answer>>> {
        let n = questions.len();
        if contexts.len() != n {
            return Err(invalid(format!("{} questions but {} contexts", n, contexts.len())));
        }
        let k = match opts.raw().top_k {
            k if k > 0 => k as usize,
            _ => 1, // 0: the default; a negative top_k is the library's to refuse
        };
        let (q, c) = (Texts::new(questions), Texts::new(contexts));
        let mut out = vec![sys::lm_answer::default(); n * k];
        check(unsafe {
            sys::lm_answer_questions(
                self.as_ptr(),
                n,
                q.ptrs.as_ptr(),
                q.lens.as_ptr(),
                c.ptrs.as_ptr(),
                c.lens.as_ptr(),
                opts.raw(),
                out.as_mut_ptr(),
                out.len(),
            )
        })?;
        Ok(rows(out, k)
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .filter(|a| a.start >= 0 && a.end >= 0)
                    .map(|a| Answer {
                        score: a.score,
                        start: a.start as usize,
                        end: a.end as usize,
                        byte_start: a.byte_start as usize,
                        byte_end: a.byte_end as usize,
                    })
                    .collect()
            })
            .chain(std::iter::repeat(Vec::new()))
            .take(n)
            .collect())
    }

    /// Token classification of texts (the token-classification pipeline, "O" left out): the
    /// entities of each text in position order.
    pub fn tag<T: AsRef<[u8]>>(&self, texts: &[T]) -> Result<Vec<Vec<Entity>>> {
        self.tag_with(texts, &TextOptions::default())
    }

    pub fn tag_with<T: AsRef<[u8]>>(&self, texts: &[T], opts: &TextOptions) -> Result<Vec<Vec<Entity>>> {
        let n = texts.len();
        let a = Texts::new(texts);
        // At most one entity per token, and an input has at most max_length tokens (the
        // library checks the buffer after running the model, so it is sized to never be short).
        let per_text = match opts.raw().max_length {
            m if m > 0 => m as usize,
            _ => self.text_max_length(),
        }
        .max(1);
        let mut out = vec![sys::lm_entity::default(); n * per_text];
        let mut count = 0usize;
        for _ in 0..2 {
            let s = unsafe {
                sys::lm_tag_texts(
                    self.as_ptr(),
                    n,
                    a.ptrs.as_ptr(),
                    a.lens.as_ptr(),
                    opts.raw(),
                    out.as_mut_ptr(),
                    out.len(),
                    &mut count,
                )
            };
            if too_small(s) && count > out.len() {
                out = vec![sys::lm_entity::default(); count];
                continue;
            }
            check(s)?;
            let mut grouped: Vec<Vec<Entity>> = vec![Vec::new(); n];
            for e in &out[..count] {
                if let Some(g) = grouped.get_mut(e.text as usize) {
                    g.push(Entity {
                        label: e.label as usize,
                        score: e.score,
                        token: if e.token < 0 { None } else { Some(e.token as usize) },
                        start: e.start as usize,
                        end: e.end as usize,
                        byte_start: e.byte_start as usize,
                        byte_end: e.byte_end as usize,
                    });
                }
            }
            return Ok(grouped);
        }
        Err(LmError::new(Status::BufferTooSmall, "lm_tag_texts kept asking for a larger buffer"))
    }
}
