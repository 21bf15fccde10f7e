//! Training through lm_trainer_*: a few steps on each head of the tiny pipeline models, the same
//! losses as the C API called directly (seeded: bit for bit), evaluation, errors.
mod common;

use std::ptr;

use lm::sys;
use lm::{
    Batch, EncodeOptions, Inputs, Labels, Model, ModelOptions, Padding, Schedule, Status, Trainer, TrainerOptions,
};

const TEXTS: [&str; 4] = ["a good film", "a bad one , really", "it was fine", "the worst movie"];

fn load(name: &str) -> Model {
    Model::load_with(common::model_dir(name), &ModelOptions::default().threads(1)).unwrap()
}

/// The texts padded to the longest: ids, mask, seq_len.
fn encode(m: &Model) -> (Vec<i32>, Vec<i32>, usize) {
    let encs =
        m.tokenizer().unwrap().encode_batch(&TEXTS, &EncodeOptions::default().padding(Padding::Longest), 1).unwrap();
    let t = encs[0].len();
    (
        encs.iter().flat_map(|e| e.ids().to_vec()).collect(),
        encs.iter().flat_map(|e| e.attention_mask().to_vec()).collect(),
        t,
    )
}

fn opts() -> TrainerOptions {
    TrainerOptions::default().learning_rate(1e-2).schedule(Schedule::Constant).threads(1).seed(7)
}

#[test]
fn sequence_classification_learns_and_equals_c() {
    let mut model = load("seqcls");
    let (ids, mask, t) = encode(&model);
    let labels = [2, 0, 1, 0];
    let x = Inputs::new(&ids, t).attention_mask(&mask);
    let batch = Batch::new(x, Labels::Classes(&labels));
    let before = model.classify_ids(&x).unwrap();
    let losses: Vec<f32> = {
        let mut tr = Trainer::new(&mut model, &opts()).unwrap();
        let losses: Vec<f32> = (0..8).map(|_| tr.step(&batch).unwrap()).collect();
        assert_eq!(tr.steps(), 8);
        assert!(tr.grad_norm() > 0.0);
        assert_eq!(tr.learning_rate(), 1e-2);
        let ev = tr.evaluate(&batch).unwrap();
        assert_eq!(ev.logits.len(), 4 * 3);
        assert!(ev.loss < losses[0], "{} !< {}", ev.loss, losses[0]);
        losses
    }; // the trainer ends here; the model is usable again and keeps the trained weights
    assert!(losses[7] < losses[0], "{:?}", losses);
    assert_ne!(model.classify_ids(&x).unwrap(), before);

    // the same run through the C API directly gives the same losses, bit for bit
    let other = load("seqcls");
    let mut tr = ptr::null_mut();
    unsafe {
        assert_eq!(sys::lm_trainer_create(other.as_ptr() as *mut _, opts().raw(), &mut tr), 0);
        let mut b: sys::lm_batch = std::mem::zeroed();
        assert_eq!(sys::lm_batch_init(&mut b, std::mem::size_of::<sys::lm_batch>()), 0);
        b.batch = 4;
        b.seq_len = t;
        b.ids = ids.as_ptr();
        b.attention_mask = mask.as_ptr();
        b.labels = labels.as_ptr();
        for want in &losses {
            let mut loss = 0f32;
            assert_eq!(sys::lm_trainer_step(tr, &b, &mut loss), 0);
            assert_eq!(loss.to_bits(), want.to_bits());
        }
        sys::lm_trainer_free(tr);
    }
}

#[test]
fn every_head_trains() {
    // token classification: a label per token
    let mut tagger = load("tagger");
    let (ids, mask, t) = encode(&tagger);
    let x = Inputs::new(&ids, t).attention_mask(&mask);
    let tags: Vec<i32> = mask.iter().enumerate().map(|(i, &m)| if m == 1 { (i % 5) as i32 } else { -100 }).collect();
    let mut tr = tagger.trainer(&opts()).unwrap();
    let first = tr.step(&Batch::new(x, Labels::Classes(&tags))).unwrap();
    let later = (0..5).map(|_| tr.step(&Batch::new(x, Labels::Classes(&tags))).unwrap()).last().unwrap();
    assert!(later < first);
    assert_eq!(tr.evaluate(&Batch::new(x, Labels::None)).unwrap().logits.len(), 4 * t * 5);
    drop(tr);

    // question answering: spans
    let mut qa = load("qa");
    let (ids, mask, t) = encode(&qa);
    let x = Inputs::new(&ids, t).attention_mask(&mask);
    let (start, end) = ([1, 2, 1, 3], [2, 3, 1, 4]);
    let mut tr = Trainer::new(&mut qa, &opts()).unwrap();
    assert!(tr.step(&Batch::new(x, Labels::Spans { start: &start, end: &end })).unwrap() > 0.0);
    assert_eq!(
        tr.evaluate(&Batch::new(x, Labels::Spans { start: &start, end: &end })).unwrap().logits.len(),
        4 * t * 2
    );
    drop(tr);

    // masked LM: token ids as labels on some tokens
    let mut mlm = load("mlm");
    let (ids, mask, t) = encode(&mlm);
    let x = Inputs::new(&ids, t).attention_mask(&mask);
    let v = mlm.vocab_size();
    let lab: Vec<i32> = ids.iter().enumerate().map(|(i, &id)| if i % 3 == 1 { id } else { -100 }).collect();
    let mut tr = Trainer::new(&mut mlm, &opts()).unwrap();
    assert!(tr.step(&Batch::new(x, Labels::Classes(&lab))).unwrap() > 0.0);
    assert_eq!(tr.evaluate(&Batch::new(x, Labels::Classes(&lab))).unwrap().logits.len(), 4 * t * v);
    drop(tr);

    // regression: float targets
    let mut reg = load("regression");
    let (ids, mask, t) = encode(&reg);
    let x = Inputs::new(&ids, t).attention_mask(&mask);
    let targets = [0.5f32, -1.0, 2.0, 0.0];
    let mut tr = Trainer::new(&mut reg, &opts()).unwrap();
    let first = tr.step(&Batch::new(x, Labels::Floats(&targets))).unwrap();
    let later = (0..5).map(|_| tr.step(&Batch::new(x, Labels::Floats(&targets))).unwrap()).last().unwrap();
    assert!(later < first);
}

#[test]
fn trainer_errors() {
    let mut model = load("seqcls");
    let (ids, mask, t) = encode(&model);
    let x = Inputs::new(&ids, t).attention_mask(&mask);
    // the defaults' linear schedule needs total_steps to train; evaluating works without
    {
        let mut tr = Trainer::new(&mut model, &TrainerOptions::default()).unwrap();
        let err = tr.step(&Batch::new(x, Labels::Classes(&[0, 1, 2, 0]))).unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument);
        assert!(err.message().contains("total_steps"), "{}", err.message());
        assert_eq!(tr.evaluate(&Batch::new(x, Labels::Classes(&[0, 1, 2, 0]))).unwrap().logits.len(), 12);
    }
    let mut tr = Trainer::new(&mut model, &opts()).unwrap();
    // labels of the wrong length are refused by the binding; out of range by the library
    assert_eq!(tr.step(&Batch::new(x, Labels::Classes(&[0, 1]))).unwrap_err().status(), Status::InvalidArgument);
    let err = tr.step(&Batch::new(x, Labels::Classes(&[0, 1, 7, 0]))).unwrap_err();
    assert_eq!(err.status(), Status::Range);
    // a base model has no loss
    let config = r#"{"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                    "intermediate_size": 8, "max_position_embeddings": 16}"#;
    let mut base = Model::create(config, 1, &ModelOptions::default().head(lm::Head::Base)).unwrap();
    assert_eq!(Trainer::new(&mut base, &opts()).err().unwrap().status(), Status::State);
}

#[test]
fn a_trainer_moves_to_another_thread() {
    let mut model = load("seqcls");
    let (ids, mask, t) = encode(&model);
    let labels = [2, 0, 1, 0];
    let loss = {
        let mut tr = Trainer::new(&mut model, &opts()).unwrap();
        tr.step(&Batch::new(Inputs::new(&ids, t).attention_mask(&mask), Labels::Classes(&labels))).unwrap();
        std::thread::scope(|s| {
            s.spawn(move || {
                tr.step(&Batch::new(Inputs::new(&ids, t).attention_mask(&mask), Labels::Classes(&labels))).unwrap()
            })
            .join()
            .unwrap()
        })
    };
    assert!(loss.is_finite());
    assert_eq!(model.num_labels(), 3);
}
