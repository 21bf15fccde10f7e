//! Tokenizers and encodings. `Tokenizer` owns a C tokenizer; `TokenizerRef` is any tokenizer
//! borrowed (an owned one, or the one a model owns: `Model::tokenizer()`).
use std::ops::Deref;
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::{self, NonNull};

use lm_sys as sys;

use crate::error::{check, invalid, LmError, Result};
use crate::options::{EncodeOptions, TokenizerOptions};
use crate::util::{borrowed_str, path_cstring, slice, take_string, Texts};

/// The special tokens of a BERT tokenizer (`lm_special_token`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpecialToken {
    Cls,
    Sep,
    Pad,
    Unk,
    Mask,
}

/// A WordPiece tokenizer that this value owns (freed on drop). All its methods are on
/// [`TokenizerRef`], which it dereferences to.
///
/// Send + Sync: lm.h lets many threads encode with one tokenizer at once, and nothing but
/// `lm_tokenizer_free` (drop, which needs the value itself) changes it.
pub struct Tokenizer {
    ptr: NonNull<sys::lm_tokenizer_t>,
}

// SAFETY: see the type's comment (lm.h: "a tokenizer may encode from many threads at once").
unsafe impl Send for Tokenizer {}
unsafe impl Sync for Tokenizer {}

impl Drop for Tokenizer {
    fn drop(&mut self) {
        // SAFETY: owned, freed once; no borrow of it is alive (drop has it exclusively).
        unsafe { sys::lm_tokenizer_free(self.ptr.as_ptr()) }
    }
}

impl Deref for Tokenizer {
    type Target = TokenizerRef;
    fn deref(&self) -> &TokenizerRef {
        // SAFETY: the handle is valid while self lives.
        unsafe { TokenizerRef::from_ptr(self.ptr.as_ptr()) }
    }
}

type LoadFn = unsafe extern "C" fn(
    *const c_char,
    *const sys::lm_tokenizer_options,
    *mut *mut sys::lm_tokenizer_t,
) -> sys::lm_status;

impl Tokenizer {
    fn load(f: LoadFn, path: &Path, opts: Option<&TokenizerOptions>) -> Result<Tokenizer> {
        let c = path_cstring(path)?;
        let mut out = ptr::null_mut();
        let o = opts.map_or(ptr::null(), |o| o.raw() as *const _);
        // SAFETY: valid C string and options; `out` receives an owned handle on success.
        check(unsafe { f(c.as_ptr(), o, &mut out) })?;
        let ptr = NonNull::new(out).ok_or_else(|| invalid("the tokenizer loader returned NULL"))?;
        Ok(Tokenizer { ptr })
    }

    /// The tokenizer of a model folder: tokenizer.json, else vocab.txt (+ tokenizer_config.json).
    pub fn from_dir<P: AsRef<Path>>(dir: P) -> Result<Tokenizer> {
        Tokenizer::load(sys::lm_tokenizer_load_dir, dir.as_ref(), None)
    }

    /// As [`Tokenizer::from_dir`], options overriding the files.
    pub fn from_dir_with<P: AsRef<Path>>(dir: P, opts: &TokenizerOptions) -> Result<Tokenizer> {
        Tokenizer::load(sys::lm_tokenizer_load_dir, dir.as_ref(), Some(opts))
    }

    /// A WordPiece vocab.txt.
    pub fn from_vocab<P: AsRef<Path>>(vocab_txt: P, opts: &TokenizerOptions) -> Result<Tokenizer> {
        Tokenizer::load(sys::lm_tokenizer_load_vocab, vocab_txt.as_ref(), Some(opts))
    }

    /// A Hugging Face tokenizer.json of the BERT kind.
    pub fn from_json<P: AsRef<Path>>(tokenizer_json: P, opts: &TokenizerOptions) -> Result<Tokenizer> {
        Tokenizer::load(sys::lm_tokenizer_load_json, tokenizer_json.as_ref(), Some(opts))
    }
}

/// A tokenizer, borrowed. Only ever seen behind a reference, whose address is the C handle.
pub struct TokenizerRef {
    _opaque: [u8; 0],
}

impl TokenizerRef {
    /// # Safety
    /// `p` is a valid tokenizer that outlives `'a` and is not freed meanwhile.
    pub(crate) unsafe fn from_ptr<'a>(p: *const sys::lm_tokenizer_t) -> &'a TokenizerRef {
        &*(p as *const TokenizerRef)
    }

    /// The C handle, for calls this crate does not wrap. It stays owned by the tokenizer.
    pub fn as_ptr(&self) -> *const sys::lm_tokenizer_t {
        self as *const TokenizerRef as *const sys::lm_tokenizer_t
    }

    /// Number of token ids.
    pub fn vocab_size(&self) -> usize {
        // SAFETY: valid handle (so for every method below).
        unsafe { sys::lm_tokenizer_vocab_size(self.as_ptr()) }
    }

    /// The id of a token's exact text, e.g. "##ing".
    pub fn token_to_id(&self, token: &str) -> Option<i32> {
        let c = std::ffi::CString::new(token).ok()?;
        let id = unsafe { sys::lm_tokenizer_token_to_id(self.as_ptr(), c.as_ptr()) };
        if id < 0 {
            None
        } else {
            Some(id)
        }
    }

    /// The text of a token id.
    pub fn id_to_token(&self, id: i32) -> Option<&str> {
        // SAFETY: the string is owned by the tokenizer, which outlives &self.
        unsafe { borrowed_str(sys::lm_tokenizer_id_to_token(self.as_ptr(), id)) }
    }

    /// The id of a special token, None when the vocabulary lacks it.
    pub fn special_id(&self, which: SpecialToken) -> Option<i32> {
        let w = match which {
            SpecialToken::Cls => sys::LM_SPECIAL_CLS,
            SpecialToken::Sep => sys::LM_SPECIAL_SEP,
            SpecialToken::Pad => sys::LM_SPECIAL_PAD,
            SpecialToken::Unk => sys::LM_SPECIAL_UNK,
            SpecialToken::Mask => sys::LM_SPECIAL_MASK,
        };
        let id = unsafe { sys::lm_tokenizer_special_id(self.as_ptr(), w) };
        if id < 0 {
            None
        } else {
            Some(id)
        }
    }

    /// Encodes one text (UTF-8 bytes) with the default options: `[CLS] text [SEP]`.
    pub fn encode<T: AsRef<[u8]>>(&self, text: T) -> Result<Encoding> {
        self.encode_with(text, &EncodeOptions::default())
    }

    pub fn encode_with<T: AsRef<[u8]>>(&self, text: T, opts: &EncodeOptions) -> Result<Encoding> {
        let t = text.as_ref();
        let mut out = ptr::null_mut();
        // SAFETY: `t` is readable for its length; the encoding is owned by the result.
        check(unsafe {
            sys::lm_tokenizer_encode(self.as_ptr(), t.as_ptr() as *const c_char, t.len(), opts.raw(), &mut out)
        })?;
        Encoding::own(out)
    }

    /// Encodes a pair: `[CLS] a [SEP] b [SEP]`, type ids 0 then 1.
    pub fn encode_pair<A: AsRef<[u8]>, B: AsRef<[u8]>>(&self, a: A, b: B) -> Result<Encoding> {
        self.encode_pair_with(a, b, &EncodeOptions::default())
    }

    pub fn encode_pair_with<A: AsRef<[u8]>, B: AsRef<[u8]>>(
        &self,
        a: A,
        b: B,
        opts: &EncodeOptions,
    ) -> Result<Encoding> {
        let (a, b) = (a.as_ref(), b.as_ref());
        let mut out = ptr::null_mut();
        check(unsafe {
            sys::lm_tokenizer_encode_pair(
                self.as_ptr(),
                a.as_ptr() as *const c_char,
                a.len(),
                b.as_ptr() as *const c_char,
                b.len(),
                opts.raw(),
                &mut out,
            )
        })?;
        Encoding::own(out)
    }

    /// Encodes many texts on `threads` threads (0: OpenMP's default). Padding::Longest pads to
    /// the longest of the batch. The first failing input fails the call.
    pub fn encode_batch<T: AsRef<[u8]>>(
        &self,
        texts: &[T],
        opts: &EncodeOptions,
        threads: i32,
    ) -> Result<Vec<Encoding>> {
        self.batch(texts, None::<&[&[u8]]>, opts, threads)
    }

    /// Encodes many pairs (`a[i]`, `b[i]`); both slices have the same length.
    pub fn encode_pair_batch<A: AsRef<[u8]>, B: AsRef<[u8]>>(
        &self,
        a: &[A],
        b: &[B],
        opts: &EncodeOptions,
        threads: i32,
    ) -> Result<Vec<Encoding>> {
        if a.len() != b.len() {
            return Err(invalid(format!("{} first texts but {} second texts", a.len(), b.len())));
        }
        self.batch(a, Some(b), opts, threads)
    }

    fn batch<A: AsRef<[u8]>, B: AsRef<[u8]>>(
        &self,
        a: &[A],
        b: Option<&[B]>,
        opts: &EncodeOptions,
        threads: i32,
    ) -> Result<Vec<Encoding>> {
        let ta = Texts::new(a);
        let tb = b.map(Texts::new);
        let n = a.len();
        let mut raw: Vec<*mut sys::lm_encoding_t> = vec![ptr::null_mut(); n];
        // SAFETY: arrays of n entries each; every non-NULL result is an owned encoding.
        let s = unsafe {
            sys::lm_tokenizer_encode_batch(
                self.as_ptr(),
                n,
                ta.ptrs.as_ptr(),
                ta.lens.as_ptr(),
                tb.as_ref().map_or(ptr::null(), |t| t.ptrs.as_ptr()),
                tb.as_ref().map_or(ptr::null(), |t| t.lens.as_ptr()),
                opts.raw(),
                threads,
                raw.as_mut_ptr(),
                ptr::null_mut(),
            )
        };
        let err = if s != sys::LM_OK { Some(LmError::last(s)) } else { None };
        // Own every encoding made (so the successful ones are freed on error too).
        let encs: Vec<Option<Encoding>> =
            raw.into_iter().map(|p| NonNull::new(p).map(|ptr| Encoding { ptr })).collect();
        if let Some(e) = err {
            return Err(e);
        }
        encs.into_iter().map(|e| e.ok_or_else(|| invalid("lm_tokenizer_encode_batch left an encoding NULL"))).collect()
    }

    /// Ids back to text, as Hugging Face decode().
    pub fn decode(&self, ids: &[i32], skip_special_tokens: bool) -> Result<String> {
        let mut out = ptr::null_mut();
        check(unsafe {
            sys::lm_tokenizer_decode(self.as_ptr(), ids.as_ptr(), ids.len(), skip_special_tokens as i32, &mut out)
        })?;
        // SAFETY: a string to free with lm_free, ours.
        Ok(unsafe { take_string(out) })
    }

    /// Writes vocab.txt and tokenizer_config.json into an existing folder.
    pub fn save_dir<P: AsRef<Path>>(&self, dir: P) -> Result<()> {
        let c = path_cstring(dir.as_ref())?;
        check(unsafe { sys::lm_tokenizer_save_dir(self.as_ptr(), c.as_ptr()) })
    }
}

/// An encoding (ids, type ids, masks, offsets...), owned; freed on drop. All its accessors are
/// on [`EncodingRef`] (an overflow window is an `&EncodingRef` borrowed from its encoding).
///
/// Send + Sync: an encoding is plain data that no call changes after it is made (lm.h gives no
/// thread rule for encodings; liblm's lm_encoding_t is arrays read by the accessors only).
pub struct Encoding {
    ptr: NonNull<sys::lm_encoding_t>,
}

// SAFETY: see the type's comment.
unsafe impl Send for Encoding {}
unsafe impl Sync for Encoding {}

impl Encoding {
    fn own(p: *mut sys::lm_encoding_t) -> Result<Encoding> {
        NonNull::new(p).map(|ptr| Encoding { ptr }).ok_or_else(|| invalid("the encoder returned NULL"))
    }
}

impl Drop for Encoding {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { sys::lm_encoding_free(self.ptr.as_ptr()) }
    }
}

impl Deref for Encoding {
    type Target = EncodingRef;
    fn deref(&self) -> &EncodingRef {
        // SAFETY: valid while self lives.
        unsafe { &*(self.ptr.as_ptr() as *const EncodingRef) }
    }
}

impl std::fmt::Debug for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoding").field("ids", &self.ids()).finish()
    }
}

/// An encoding, borrowed; its address is the C handle.
pub struct EncodingRef {
    _opaque: [u8; 0],
}

impl EncodingRef {
    pub fn as_ptr(&self) -> *const sys::lm_encoding_t {
        self as *const EncodingRef as *const sys::lm_encoding_t
    }

    /// Number of tokens (the length of every array).
    pub fn len(&self) -> usize {
        unsafe { sys::lm_encoding_length(self.as_ptr()) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn ints(&self, f: unsafe extern "C" fn(*const sys::lm_encoding_t) -> *const i32) -> &[i32] {
        // SAFETY: each array holds len() values owned by the encoding.
        unsafe { slice(f(self.as_ptr()), self.len()) }
    }

    fn spans(&self, f: unsafe extern "C" fn(*const sys::lm_encoding_t) -> *const usize) -> &[[usize; 2]] {
        // SAFETY: 2 * len() values; [usize; 2] has the layout of two usize.
        unsafe { slice(f(self.as_ptr()) as *const [usize; 2], self.len()) }
    }

    pub fn ids(&self) -> &[i32] {
        self.ints(sys::lm_encoding_ids)
    }
    pub fn type_ids(&self) -> &[i32] {
        self.ints(sys::lm_encoding_type_ids)
    }
    pub fn attention_mask(&self) -> &[i32] {
        self.ints(sys::lm_encoding_attention_mask)
    }
    pub fn special_tokens_mask(&self) -> &[i32] {
        self.ints(sys::lm_encoding_special_tokens_mask)
    }
    /// The word of each token within its sequence; -1 for special tokens and padding.
    pub fn word_ids(&self) -> &[i32] {
        self.ints(sys::lm_encoding_word_ids)
    }
    /// 0 or 1; -1 for special tokens and padding.
    pub fn sequence_ids(&self) -> &[i32] {
        self.ints(sys::lm_encoding_sequence_ids)
    }
    /// [start, end) of each token in characters (code points) of its text; [0, 0] for specials.
    pub fn offsets(&self) -> &[[usize; 2]] {
        self.spans(sys::lm_encoding_offsets)
    }
    /// The same spans in bytes.
    pub fn byte_offsets(&self) -> &[[usize; 2]] {
        self.spans(sys::lm_encoding_byte_offsets)
    }
    /// The overflow windows (with `return_overflowing`).
    pub fn overflowing(&self) -> Vec<&EncodingRef> {
        let n = unsafe { sys::lm_encoding_overflow_count(self.as_ptr()) };
        (0..n)
            .filter_map(|i| {
                let p = unsafe { sys::lm_encoding_overflow(self.as_ptr(), i) };
                // SAFETY: owned by this encoding, which outlives the borrow.
                (!p.is_null()).then(|| unsafe { &*(p as *const EncodingRef) })
            })
            .collect()
    }
}
