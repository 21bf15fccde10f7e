//! Error paths: the C status and the library's sentence, read on the calling thread; the
//! binding's own refusals (lengths, NUL bytes) before C sees them.
mod common;

use lm::{Model, ModelOptions, Status, TextOptions, Tokenizer, TokenizerOptions};

#[test]
fn missing_folder_is_not_found_with_the_sentence() {
    let dir = common::model_dir("no-such-model");
    let err = Model::load(&dir).err().unwrap();
    assert_eq!(err.status(), Status::NotFound);
    assert_eq!(err.code(), lm::sys::LM_ERR_NOT_FOUND);
    assert!(err.message().contains("no-such-model"), "{}", err.message());
    assert_eq!(err.to_string(), format!("LM_ERR_NOT_FOUND: {}", err.message()));
    assert_eq!(Status::NotFound.description(), "file or item not found");
    let e: Box<dyn std::error::Error> = Box::new(err); // an std error
    assert!(e.to_string().starts_with("LM_ERR_NOT_FOUND"));
    let err = Tokenizer::from_dir(&dir).err().unwrap();
    assert_eq!(err.status(), Status::NotFound);
}

#[test]
fn corrupt_files_are_format_errors() {
    let dir = std::env::temp_dir().join(format!("lm-rust-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "{ not json").unwrap();
    std::fs::write(dir.join("model.safetensors"), [0u8; 16]).unwrap();
    assert_eq!(Model::load(&dir).err().unwrap().status(), Status::Format);
    std::fs::write(dir.join("vocab.txt"), "a\nb\n").unwrap(); // no [UNK]
    let err = Tokenizer::from_vocab(dir.join("vocab.txt"), &TokenizerOptions::default()).err().unwrap();
    assert_eq!(err.status(), Status::Format);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nul_bytes_and_lengths_are_refused_by_the_binding() {
    let err = Model::load("tests/no\0such").err().unwrap();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("NUL"));
    let err = ModelOptions::default().label_names(&["a\0b"]).err().unwrap();
    assert_eq!(err.status(), Status::InvalidArgument);
    let m = common::model("qa");
    let err = m.answer(&["q1", "q2"], &["one context"]).unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
}

#[test]
fn invalid_utf8_names_the_input() {
    let m = common::model("seqcls");
    let texts: [&[u8]; 2] = [b"fine", b"bad \xff byte"];
    let err = m.classify(&texts).unwrap_err();
    assert_eq!(err.status(), Status::Utf8);
    assert!(err.message().contains("text 1:"), "{}", err.message());
    let ok = m.classify_with(&texts, &TextOptions::default().replace_invalid_utf8(true)).unwrap();
    assert_eq!(ok.len(), 2);
}

#[test]
fn wrong_head_state_and_range() {
    assert_eq!(common::model("seqcls").fill_mask(&["a [MASK]"]).unwrap_err().status(), Status::State);
    assert_eq!(common::model("mlm").fill_mask(&["no mask here"]).unwrap_err().status(), Status::InvalidArgument);
    assert_eq!(
        common::model("seqcls").classify_with(&["a"], &TextOptions::default().top_k(-7)).unwrap_err().status(),
        Status::InvalidArgument
    );
    let config = r#"{"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                    "intermediate_size": 8, "max_position_embeddings": 16}"#;
    let created = Model::create(config, 7, &ModelOptions::default()).unwrap();
    assert!(created.tokenizer().is_none());
    assert_eq!(created.embed(&["no tokenizer"]).unwrap_err().status(), Status::State);
    let ids = [1, 2, 99];
    let err = created.hidden_states(&lm::Inputs::new(&ids, 3), false).unwrap_err();
    assert_eq!(err.status(), Status::Range);
    let long = [1; 17];
    assert_eq!(created.hidden_states(&lm::Inputs::new(&long, 17), false).unwrap_err().status(), Status::Range);
    assert_eq!(Model::create("{", 0, &ModelOptions::default()).err().unwrap().status(), Status::Format);
}

#[test]
fn save_errors() {
    let parent = std::env::temp_dir().join(format!("lm-rust-missing-{}", std::process::id()));
    let err = common::model("seqcls").save(parent.join("child")).unwrap_err();
    assert!(matches!(err.status(), Status::NotFound | Status::Io), "{}", err);
}

#[test]
fn errors_are_per_thread() {
    // lm_last_error() is thread-local: each thread's error names its own input
    let m = common::model("seqcls");
    let msgs: Vec<(usize, String)> = std::thread::scope(|s| {
        let hs: Vec<_> = (1..=6)
            .map(|i| {
                let m = &m;
                s.spawn(move || {
                    let mut texts: Vec<&[u8]> = vec![b"ok"; i];
                    texts.push(b"\xff");
                    let mut last = String::new();
                    for _ in 0..20 {
                        let e = m.classify(&texts).unwrap_err();
                        assert_eq!(e.status(), Status::Utf8);
                        last = e.message().to_string();
                        assert!(last.contains(&format!("text {}:", i)), "{}: {}", i, last);
                    }
                    (i, last)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(msgs.len(), 6);
    let distinct: std::collections::HashSet<_> = msgs.iter().map(|(_, m)| m.clone()).collect();
    assert_eq!(distinct.len(), 6);
}
