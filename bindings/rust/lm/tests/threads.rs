//! The thread rules of lm.h as Rust types: a model and a tokenizer are Send + Sync (inference
//! and encoding from many threads at once), a trainer is Send. Shared inference gives the rows
//! of one call.
mod common;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

#[test]
fn handles_have_the_thread_traits_lm_h_allows() {
    send_sync::<lm::Model>();
    send_sync::<lm::Tokenizer>();
    send_sync::<lm::Encoding>();
    send_sync::<lm::LmError>();
    send::<lm::Trainer<'static>>();
    // (that a trainer is not Sync, and that its model is unusable while it lives, are
    // compile_fail tests in the crate's documentation)
}

#[test]
fn one_model_many_threads() {
    let m = common::model("mlm");
    let texts: Vec<String> = (0..24).map(|i| format!("text number {} is [MASK] good", i)).collect();
    let whole = m.embed(&texts).unwrap();
    let masks = m.fill_mask(&texts).unwrap();
    let rows: Vec<(usize, Vec<f32>, Vec<lm::TokenScore>)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|k| {
                let (m, texts) = (&m, &texts);
                s.spawn(move || {
                    (k..texts.len())
                        .step_by(4)
                        .map(|i| {
                            let e = m.embed(&texts[i..i + 1]).unwrap().remove(0);
                            let f = m.fill_mask(&texts[i..i + 1]).unwrap().remove(0).remove(0);
                            (i, e, f)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(rows.len(), texts.len());
    for (i, e, f) in rows {
        for (a, b) in e.iter().zip(&whole[i]) {
            assert!((a - b).abs() < 1e-5, "row {}: {} vs {}", i, a, b);
        }
        assert_eq!(
            f.iter().map(|c| c.token_id).collect::<Vec<_>>(),
            masks[i][0].iter().map(|c| c.token_id).collect::<Vec<_>>()
        );
    }
}
