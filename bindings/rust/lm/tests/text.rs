//! The text-level calls on the tiny pipeline models: equal to the C API (called through lm-sys
//! here, bit for bit) and to the reference pipelines of tests/data/pipeline/tiny.json.gz (the
//! numbers tests/test_text.c checks: labels, tokens and spans exact, scores within 1e-4).
mod common;

use std::os::raw::c_char;
use std::ptr;

use common::Json;
use lm::sys;
use lm::{Aggregation, EncodeOptions, Inputs, Padding, Pooling, ScoreFunction, TextOptions};

fn close(got: f32, want: f64, what: &str) {
    assert!((got as f64 - want).abs() < 1e-4, "{}: {} != {}", what, got, want);
}

#[test]
fn json_reader_reads_what_the_tests_need() {
    let v = Json::parse(r#"{"a": [1, -2.5e1, "x\u00e9\ud83d\ude00\"", true, null, {}], "b": []}"#);
    assert_eq!(v["a"][1].num(), -25.0);
    assert_eq!(v["a"][2].str(), "xé😀\"");
    assert_eq!(v["b"].arr().len(), 0);
}

#[test]
fn embed_equals_c_and_reference() {
    let r = common::tiny_reference();
    let e = &r["embed"];
    let m = common::model(e["model"].str());
    let texts = e["texts"].strings();
    let got = m.embed(&texts).unwrap();
    assert_eq!(got.len(), texts.len());
    // the C API, called directly
    let ptrs: Vec<*const c_char> = texts.iter().map(|t| t.as_ptr() as *const c_char).collect();
    let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
    let c = m.hidden_size();
    let mut flat = vec![0f32; texts.len() * c];
    let s = unsafe {
        sys::lm_embed_texts(
            m.as_ptr(),
            texts.len(),
            ptrs.as_ptr(),
            lens.as_ptr(),
            ptr::null(),
            flat.as_mut_ptr(),
            flat.len(),
        )
    };
    assert_eq!(s, 0);
    assert_eq!(got.concat(), flat);
    // the reference: cosine >= 0.99999
    for (row, want) in got.iter().zip(e["embeddings"].arr()) {
        let want: Vec<f64> = want.arr().iter().map(|x| x.num()).collect();
        let dot: f64 = row.iter().zip(&want).map(|(a, b)| *a as f64 * b).sum();
        let na: f64 = row.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = want.iter().map(|b| b * b).sum::<f64>().sqrt();
        assert!(dot / na / nb >= 0.99999, "cosine {}", dot / na / nb);
    }
    let normed = m.embed_with(&texts[..3], &TextOptions::default().normalize(Some(true))).unwrap();
    for row in normed {
        let n: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-5);
    }
    assert!(m.embed(&[] as &[&str]).unwrap().is_empty());
}

fn score_function(name: &str) -> ScoreFunction {
    match name {
        "default" => ScoreFunction::Default,
        "sigmoid" => ScoreFunction::Sigmoid,
        "softmax" => ScoreFunction::Softmax,
        "none" => ScoreFunction::None,
        other => panic!("function_to_apply {}", other),
    }
}

#[test]
fn classify_equals_reference() {
    let r = common::tiny_reference();
    for case in r["classification"].arr() {
        let m = common::model(case["model"].str());
        let opts = TextOptions::default().top_k(-1).function_to_apply(score_function(case["function_to_apply"].str()));
        let texts = case["texts"].strings();
        let got = m.classify_with(&texts, &opts).unwrap();
        let check = |got: &Vec<Vec<lm::LabelScore>>, want: &Json| {
            assert_eq!(got.len(), want.arr().len());
            for (row, want) in got.iter().zip(want.arr()) {
                assert_eq!(row.len(), want.arr().len());
                for (g, w) in row.iter().zip(want.arr()) {
                    assert_eq!(g.label, w[0].num() as usize);
                    close(g.score, w[1].num(), case["model"].str());
                }
            }
        };
        check(&got, &case["results"]);
        let a: Vec<String> = case["pairs"].arr().iter().map(|p| p[0].str().to_string()).collect();
        let b: Vec<String> = case["pairs"].arr().iter().map(|p| p[1].str().to_string()).collect();
        check(&m.classify_pairs(&a, &b, &opts).unwrap(), &case["pair_results"]);
    }
}

#[test]
fn classify_equals_c() {
    let m = common::model("seqcls");
    let texts = ["a good film", "a bad one , really", "", "ok"];
    let opts = TextOptions::default().top_k(-1);
    let got = m.classify_with(&texts, &opts).unwrap();
    let ptrs: Vec<*const c_char> = texts.iter().map(|t| t.as_ptr() as *const c_char).collect();
    let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
    let mut res = vec![sys::lm_label_score::default(); texts.len() * 3];
    let mut k = 0;
    let s = unsafe {
        sys::lm_classify_texts(
            m.as_ptr(),
            texts.len(),
            ptrs.as_ptr(),
            lens.as_ptr(),
            ptr::null(),
            ptr::null(),
            opts.raw(),
            res.as_mut_ptr(),
            res.len(),
            &mut k,
        )
    };
    assert_eq!((s, k), (0, 3));
    let flat: Vec<(usize, f32)> = got.iter().flatten().map(|x| (x.label, x.score)).collect();
    let want: Vec<(usize, f32)> = res.iter().map(|x| (x.label as usize, x.score)).collect();
    assert_eq!(flat, want);
    // default top_k: the best label only
    let best = m.classify(&texts).unwrap();
    assert!(best.iter().all(|r| r.len() == 1));
    assert_eq!(best[0][0], got[0][0]);
    assert_eq!(m.labels(), vec!["negative", "neutral", "positive"]);
}

#[test]
fn forward_passes_equal_c() {
    let m = common::model("seqcls");
    let tok = m.tokenizer().unwrap();
    let encs = tok
        .encode_batch(&["a good film", "a bad one , really"], &EncodeOptions::default().padding(Padding::Longest), 1)
        .unwrap();
    let t = encs[0].len();
    let ids: Vec<i32> = encs.iter().flat_map(|e| e.ids().to_vec()).collect();
    let mask: Vec<i32> = encs.iter().flat_map(|e| e.attention_mask().to_vec()).collect();
    let x = Inputs::new(&ids, t).attention_mask(&mask);
    assert_eq!(x.batch(), 2);
    let logits = m.classify_ids(&x).unwrap();
    let mut want = vec![0f32; 6];
    let s = unsafe {
        sys::lm_model_classify(m.as_ptr(), ids.as_ptr(), ptr::null(), mask.as_ptr(), 2, t, want.as_mut_ptr())
    };
    assert_eq!(s, 0);
    assert_eq!(logits, want);
    // the text call's best label is the argmax of these logits
    let best = m.classify(&["a good film", "a bad one , really"]).unwrap();
    for (row, b) in logits.chunks(3).zip(&best) {
        let arg = (0..3).max_by(|&i, &j| row[i].partial_cmp(&row[j]).unwrap()).unwrap();
        assert_eq!(b[0].label, arg);
    }
    let (hidden, pooled) = m.hidden_states(&x, true).unwrap();
    assert_eq!(hidden.len(), 2 * t * m.hidden_size());
    assert_eq!(pooled.unwrap().len(), 2 * m.hidden_size());
    assert_eq!(m.embed_ids(&x, Pooling::Mean, Some(true)).unwrap().len(), 2 * m.hidden_size());
    assert_eq!(common::model("tagger").token_logits(&x).unwrap().len(), 2 * t * 5);
    let mlm = common::model("mlm");
    assert_eq!(mlm.mlm_logits(&x, Some(&[1, t + 2])).unwrap().len(), 2 * mlm.vocab_size());
    let (start, end) = common::model("qa").qa_logits(&x).unwrap();
    assert_eq!((start.len(), end.len()), (2 * t, 2 * t));
    let span = lm::qa_best_span(&start[..t], &end[..t], None, 5).unwrap();
    assert!(span.start <= span.end && span.end < span.start + 5);
    // the binding refuses arrays shorter than the shape before C reads them
    assert_eq!(
        m.classify_ids(&Inputs::new(&ids, t).attention_mask(&mask[1..])).unwrap_err().status(),
        lm::Status::InvalidArgument
    );
    assert_eq!(m.classify_ids(&Inputs::new(&ids[1..], t)).unwrap_err().status(), lm::Status::InvalidArgument);
}

#[test]
fn fill_mask_equals_reference() {
    let r = common::tiny_reference();
    let m = common::model("mlm");
    for case in r["fill_mask"].arr() {
        let texts = case["texts"].strings();
        let got = m.fill_mask_with(&texts, &TextOptions::default().top_k(case["top_k"].num() as i32)).unwrap();
        assert_eq!(got.len(), texts.len());
        for (per_text, want) in got.iter().zip(case["results"].arr()) {
            assert_eq!(per_text.len(), want.arr().len());
            for (per_mask, w) in per_text.iter().zip(want.arr()) {
                assert_eq!(per_mask.len(), w.arr().len());
                for (g, w) in per_mask.iter().zip(w.arr()) {
                    assert_eq!(g.token_id, w[0].num() as i32);
                    close(g.score, w[1].num(), "fill-mask");
                }
            }
        }
    }
    // default top_k 5, and a text with three masks needs the library to ask for more room
    let three = m.fill_mask(&["[MASK] is a [MASK] , [MASK] film !"]).unwrap();
    assert_eq!(three[0].len(), 3);
    assert!(three[0].iter().all(|c| c.len() == 5));
}

fn aggregation(name: &str) -> Aggregation {
    match name {
        "none" => Aggregation::None,
        "simple" => Aggregation::Simple,
        "first" => Aggregation::First,
        "average" => Aggregation::Average,
        "max" => Aggregation::Max,
        other => panic!("aggregation {}", other),
    }
}

#[test]
fn tag_equals_reference() {
    let r = common::tiny_reference();
    for case in r["tagging"].arr() {
        let m = common::model(case["model"].str());
        let agg = case["aggregation"].str();
        let texts = case["texts"].strings();
        let got = m.tag_with(&texts, &TextOptions::default().aggregation(aggregation(agg))).unwrap();
        assert_eq!(got.len(), texts.len());
        for (per_text, want) in got.iter().zip(case["results"].arr()) {
            assert_eq!(per_text.len(), want.arr().len(), "{} {}", case["model"].str(), agg);
            for (g, w) in per_text.iter().zip(want.arr()) {
                let name = m.label_name(g.label).unwrap();
                let group = if agg == "none" { name } else { name.trim_start_matches("B-").trim_start_matches("I-") };
                assert_eq!(group, w["entity"].str());
                assert_eq!((g.start, g.end), (w["start"].num() as usize, w["end"].num() as usize));
                close(g.score, w["score"].num(), "tag");
                let index = w["index"].num() as i64;
                assert_eq!(g.token.map_or(-1, |t| t as i64), index);
            }
        }
    }
}

#[test]
fn answer_equals_reference() {
    let r = common::tiny_reference();
    let m = common::model("qa");
    for case in r["qa"].arr() {
        let o = &case["options"];
        let int = |k: &str| o.get(k).map_or(0, |v| v.num() as i32);
        let opts = TextOptions::default()
            .top_k(int("top_k"))
            .max_length(int("max_seq_len"))
            .doc_stride(int("doc_stride"))
            .max_answer_length(int("max_answer_len"))
            .handle_impossible_answer(o.get("handle_impossible_answer") == Some(&Json::Bool(true)));
        let (q, c) = (case["questions"].strings(), case["contexts"].strings());
        let got = m.answer_with(&q, &c, &opts).unwrap();
        for ((answers, want), ctx) in got.iter().zip(case["results"].arr()).zip(&c) {
            assert_eq!(answers.len(), want.arr().len());
            for (a, w) in answers.iter().zip(want.arr()) {
                assert_eq!((a.start, a.end), (w[1].num() as usize, w[2].num() as usize));
                close(a.score, w[0].num(), "qa");
                let chars: String = ctx.chars().skip(a.start).take(a.end - a.start).collect();
                assert_eq!(a.text(ctx), chars);
            }
        }
    }
}

fn min_cosine(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let dot: f64 = x.iter().zip(y).map(|(p, q)| (*p as f64) * (*q as f64)).sum();
            let nx: f64 = x.iter().map(|p| (*p as f64) * (*p as f64)).sum::<f64>().sqrt();
            let ny: f64 = y.iter().map(|q| (*q as f64) * (*q as f64)).sum::<f64>().sqrt();
            dot / nx / ny
        })
        .fold(1.0, f64::min)
}

#[test]
fn int8_option_reaches_the_library() {
    let r = common::tiny_reference();
    let e = &r["embed"];
    let texts = e["texts"].strings();
    let want = common::model(e["model"].str()).embed(&texts).unwrap();
    let opts = lm::ModelOptions::default().threads(1).int8(true);
    let m = lm::Model::load_with(common::model_dir(e["model"].str()), &opts).unwrap();
    let got = m.embed(&texts).unwrap();
    assert_ne!(got, want, "int8 gave float32's bits");
    assert!(min_cosine(&got, &want) >= 0.98);
}
