//! Tokenizers: the binding's encodings equal the C API's (every array, called through lm-sys
//! here), pairs, batches, overflow windows, decoding, vocabulary look-ups.
mod common;

use std::ptr;

use lm::sys;
use lm::{EncodeOptions, Padding, SpecialToken, Tokenizer, TokenizerOptions};

const TEXT: &str = "Unaffable naïve café — “quotes”! 元朝 x";

/// Every array of an encoding made by the C API directly.
fn c_encode(tok: &lm::TokenizerRef, text: &str) -> Vec<Vec<i64>> {
    let mut enc = ptr::null_mut();
    unsafe {
        assert_eq!(
            sys::lm_tokenizer_encode(tok.as_ptr(), text.as_ptr() as *const _, text.len(), ptr::null(), &mut enc),
            0
        );
        let n = sys::lm_encoding_length(enc);
        let ints = |p: *const i32| (0..n).map(|i| *p.add(i) as i64).collect::<Vec<_>>();
        let sizes = |p: *const usize| (0..2 * n).map(|i| *p.add(i) as i64).collect::<Vec<_>>();
        let all = vec![
            ints(sys::lm_encoding_ids(enc)),
            ints(sys::lm_encoding_type_ids(enc)),
            ints(sys::lm_encoding_attention_mask(enc)),
            ints(sys::lm_encoding_special_tokens_mask(enc)),
            ints(sys::lm_encoding_word_ids(enc)),
            ints(sys::lm_encoding_sequence_ids(enc)),
            sizes(sys::lm_encoding_offsets(enc)),
            sizes(sys::lm_encoding_byte_offsets(enc)),
        ];
        sys::lm_encoding_free(enc);
        all
    }
}

fn rust_arrays(e: &lm::EncodingRef) -> Vec<Vec<i64>> {
    let ints = |a: &[i32]| a.iter().map(|&x| x as i64).collect::<Vec<_>>();
    let spans = |a: &[[usize; 2]]| a.iter().flat_map(|s| [s[0] as i64, s[1] as i64]).collect::<Vec<_>>();
    vec![
        ints(e.ids()),
        ints(e.type_ids()),
        ints(e.attention_mask()),
        ints(e.special_tokens_mask()),
        ints(e.word_ids()),
        ints(e.sequence_ids()),
        spans(e.offsets()),
        spans(e.byte_offsets()),
    ]
}

#[test]
fn encode_equals_the_c_api() {
    let tok = Tokenizer::from_dir(common::model_dir("seqcls")).unwrap();
    let enc = tok.encode(TEXT).unwrap();
    assert_eq!(rust_arrays(&enc), c_encode(&tok, TEXT));
    assert!(enc.len() > 5);
    assert_eq!(enc.ids()[0], tok.special_id(SpecialToken::Cls).unwrap());
    assert_eq!(*enc.ids().last().unwrap(), tok.special_id(SpecialToken::Sep).unwrap());
    // byte offsets cut the text where the characters are
    for (span, id) in enc.byte_offsets().iter().zip(enc.ids()).skip(1).take(enc.len() - 2) {
        let piece = &TEXT[span[0]..span[1]];
        let token = tok.id_to_token(*id).unwrap();
        assert!(!piece.is_empty(), "{}", token);
    }
    // the model's own tokenizer is the same
    let model = common::model("seqcls");
    let mine = model.tokenizer().unwrap().encode(TEXT).unwrap();
    assert_eq!(mine.ids(), enc.ids());
}

#[test]
fn pairs_batches_and_overflow() {
    let tok = Tokenizer::from_dir(common::model_dir("qa")).unwrap();
    let pair = tok.encode_pair("a question", "a context").unwrap();
    assert_eq!(pair.sequence_ids()[pair.len() - 2], 1);
    assert_eq!(*pair.type_ids().last().unwrap(), 1);
    assert_eq!(pair.type_ids()[1], 0);

    let texts = [TEXT, "a", ""];
    let batch = tok.encode_batch(&texts, &EncodeOptions::default().padding(Padding::Longest), 2).unwrap();
    let single = tok.encode(TEXT).unwrap();
    assert_eq!(batch.len(), 3);
    assert!(batch.iter().all(|e| e.len() == single.len()));
    assert_eq!(batch[0].ids(), single.ids());
    assert_eq!(batch[1].attention_mask().iter().filter(|&&m| m == 1).count(), 3);
    let pairs = tok.encode_pair_batch(&["q1", "q2"], &["c1", "c2 c2"], &EncodeOptions::default(), 1).unwrap();
    assert_eq!(pairs[1].ids(), tok.encode_pair("q2", "c2 c2").unwrap().ids());

    let long = vec!["word"; 40].join(" ");
    let opts = EncodeOptions::default().max_length(16).stride(4).return_overflowing(true);
    let over = tok.encode_with(&long, &opts).unwrap();
    assert_eq!(over.len(), 16);
    let windows = over.overflowing();
    assert!(windows.len() >= 2, "{} windows", windows.len());
    assert!(windows.iter().all(|w| w.len() <= 16 && !w.is_empty()));
}

#[test]
fn decode_and_vocabulary() {
    let tok = Tokenizer::from_dir(common::model_dir("seqcls")).unwrap();
    let enc = tok.encode("a good film , really").unwrap();
    assert_eq!(tok.decode(enc.ids(), true).unwrap(), "a good film, really");
    assert!(tok.decode(enc.ids(), false).unwrap().starts_with("[CLS]"));
    assert_eq!(tok.token_to_id("[CLS]"), tok.special_id(SpecialToken::Cls));
    assert_eq!(tok.token_to_id("no-such-token-here"), None);
    assert_eq!(tok.token_to_id("nul\0inside"), None);
    assert_eq!(tok.id_to_token(1_000_000), None);
    assert_eq!(tok.id_to_token(0), Some("[PAD]"));
    assert_eq!(tok.vocab_size(), common::model("seqcls").vocab_size());
    let err = tok.decode(&[1_000_000], false).unwrap_err();
    assert_eq!(err.status(), lm::Status::Range);
}

#[test]
fn options_and_saving() {
    let dir = common::model_dir("seqcls");
    // keeping case makes an upper-case word unknown in an uncased vocabulary
    let cased = Tokenizer::from_vocab(dir.join("vocab.txt"), &TokenizerOptions::default().lower_case(false)).unwrap();
    let uncased = Tokenizer::from_vocab(dir.join("vocab.txt"), &TokenizerOptions::default()).unwrap();
    assert_ne!(cased.encode("GOOD").unwrap().ids(), uncased.encode("GOOD").unwrap().ids());
    let bad = b"bad \xff byte";
    assert_eq!(uncased.encode(&bad[..]).unwrap_err().status(), lm::Status::Utf8);
    let lenient =
        Tokenizer::from_vocab(dir.join("vocab.txt"), &TokenizerOptions::default().replace_invalid_utf8(true)).unwrap();
    assert!(lenient.encode(&bad[..]).is_ok());

    let out = std::env::temp_dir().join(format!("lm-rust-tok-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    uncased.save_dir(&out).unwrap();
    let again = Tokenizer::from_dir(&out).unwrap();
    assert_eq!(again.encode(TEXT).unwrap().ids(), uncased.encode(TEXT).unwrap().ids());
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn tokenizers_and_encodings_cross_threads() {
    let tok = Tokenizer::from_dir(common::model_dir("seqcls")).unwrap();
    let want = tok.encode(TEXT).unwrap();
    let encs: Vec<lm::Encoding> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| tok.encode(TEXT).unwrap())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for e in &encs {
        assert_eq!(e.ids(), want.ids());
    }
    // a tokenizer moves to another thread (Send) and is freed there
    let here = tok.encode("moved").unwrap();
    let there = std::thread::spawn(move || tok.encode("moved").unwrap()).join().unwrap();
    assert_eq!(there.ids(), here.ids());
}
