//! No leak over many calls: the resident memory (/proc/self/statm) after 10,000 calls of each
//! kind, successful and failing, stays within a small margin of what it was after a warm-up.
//! One test in its own program, so nothing else runs meanwhile.
mod common;

const CALLS: usize = 10_000;
const MARGIN: usize = 3 << 20; // bytes: a leak of 300 bytes a call shows

fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn grows(what: &str, mut f: impl FnMut(usize)) {
    for i in 0..500 {
        f(i);
    }
    let before = rss();
    for i in 0..CALLS {
        f(i);
    }
    let grown = rss().saturating_sub(before);
    println!("{}: RSS grew {} bytes over {} calls", what, grown, CALLS);
    assert!(grown < MARGIN, "{}: RSS grew {} bytes over {} calls", what, grown, CALLS);
}

#[test]
fn no_leak_over_many_calls() {
    if !std::path::Path::new("/proc/self/statm").exists() {
        eprintln!("SKIP: no /proc/self/statm");
        return;
    }
    let (mlm, seqcls, tagger, qa) =
        (common::model("mlm"), common::model("seqcls"), common::model("tagger"), common::model("qa"));
    let opts = lm::TextOptions::default().aggregation(lm::Aggregation::Simple);
    grows("text calls", |i| {
        let t = format!("John Smith {} moved to [MASK] Paris", i);
        match i % 5 {
            0 => assert_eq!(mlm.embed(&["a short text", &t]).unwrap().len(), 2),
            1 => assert_eq!(seqcls.classify_with(&[&t], &lm::TextOptions::default().top_k(-1)).unwrap()[0].len(), 3),
            2 => assert_eq!(mlm.fill_mask(&[&t]).unwrap()[0].len(), 1),
            3 => drop(tagger.tag_with(&[&t], &opts).unwrap()),
            _ => assert_eq!(qa.answer(&["who moved?"], &[&t]).unwrap().len(), 1),
        }
    });
    let tok = lm::Tokenizer::from_dir(common::model_dir("seqcls")).unwrap();
    grows("tokenizer calls", |i| {
        let e = tok.encode_pair(format!("text {}", i), "its pair").unwrap();
        assert!(!tok.decode(e.ids(), true).unwrap().is_empty());
    });
    grows("failing calls", |i| {
        let bad: [&[u8]; 2] = [b"fine", b"bad \xff"];
        assert!(seqcls.classify(&bad).is_err());
        assert!(lm::Model::load(format!("/nonexistent/model-{}", i % 7)).is_err());
        assert!(seqcls.fill_mask(&["a [MASK]"]).is_err());
    });
    let dir = common::model_dir("tagger");
    let mut n = 0;
    grows("load and free", |_| {
        n += 1;
        if n % 10 == 0 {
            // a load maps files: every tenth call, to keep the test short
            let m = lm::Model::load(&dir).unwrap();
            assert_eq!(m.num_labels(), 5);
        }
    });
}
