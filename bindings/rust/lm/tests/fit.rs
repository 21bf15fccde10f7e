//! Fine-tuning through lm_fit() and lm_evaluate(): the progress callback sees every event, can
//! stop the run, and its panics come back after the C call; the losses equal those of lm_fit()
//! called directly with a C callback; the saved model scores what fit reported; errors.
mod common;

use std::ops::ControlFlow;
use std::os::raw::{c_int, c_void};
use std::path::PathBuf;
use std::ptr;

use lm::sys;
use lm::{FitEvent, FitOptions, Model, Status, Task, TrainerOptions};

fn base() -> PathBuf {
    common::repo().join("tests/data/fit/base")
}

fn data(name: &str) -> PathBuf {
    common::repo().join("tests/data/datasets").join(name)
}

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lm-rust-fit-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn opts(out: &PathBuf) -> FitOptions {
    FitOptions::default()
        .train_path(data("sst2.tsv"))
        .dev_path(data("sst2.csv"))
        .out_dir(out)
        .max_steps(4)
        .batch_size(8)
        .eval_batch_size(16)
        .log_every(1)
}

fn train() -> TrainerOptions {
    TrainerOptions::default().learning_rate(1e-3).threads(1)
}

unsafe extern "C" fn record(p: *const sys::lm_fit_progress, user: *mut c_void) -> c_int {
    let losses = &mut *(user as *mut Vec<f64>);
    if (*p).event == sys::LM_FIT_STEP {
        losses.push((*p).loss);
    }
    0
}

#[test]
fn fit_reports_every_event_and_equals_c() {
    let out = out_dir("events");
    let mut events = Vec::new();
    let mut losses = Vec::new();
    let mut end_path = None;
    let metrics = lm::fit_with_progress(base(), &opts(&out), &train(), |p| {
        events.push(p.event);
        if p.event == FitEvent::Step {
            assert!(p.loss.is_finite() && p.step >= 1 && p.total_steps == 4);
            losses.push(p.loss);
        }
        if p.event == FitEvent::Eval {
            assert!(p.metrics.is_some());
        }
        if p.event == FitEvent::End {
            end_path = p.path.map(|p| p.to_path_buf());
            assert!(!p.stopped);
            assert_eq!(p.task, Task::Classification);
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(events.first(), Some(&FitEvent::Start));
    assert_eq!(events.last(), Some(&FitEvent::End));
    assert_eq!(events.iter().filter(|e| **e == FitEvent::Step).count(), 4);
    assert!(
        events.contains(&FitEvent::Log) && events.contains(&FitEvent::Eval) && events.contains(&FitEvent::Checkpoint)
    );
    assert_eq!(metrics.task, Task::Classification);
    assert!(metrics.accuracy >= 0.0 && metrics.accuracy <= 1.0);
    assert!(metrics.pearson.is_nan()); // not a regression
    let end_path = end_path.unwrap();
    assert!(end_path.join("config.json").exists() && out.join("metrics.csv").exists());

    // the saved model scores on the dev file what fit reported
    let model = Model::load(&end_path).unwrap();
    let (again, json) = model.evaluate(&FitOptions::default().dev_path(data("sst2.csv")).eval_batch_size(16)).unwrap();
    assert_eq!(again.accuracy, metrics.accuracy);
    assert!(json.contains("\"confusion\""), "{}", json);

    // lm_fit called directly, with a C callback: the same losses, bit for bit
    let out_c = out_dir("events-c");
    let mut c_losses: Vec<f64> = Vec::new();
    let cstr = |p: &PathBuf| std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    let (dir, tr, dev, o) = (cstr(&base()), cstr(&data("sst2.tsv")), cstr(&data("sst2.csv")), cstr(&out_c));
    unsafe {
        let mut f: sys::lm_fit_options = std::mem::zeroed();
        assert_eq!(sys::lm_fit_options_init(&mut f, std::mem::size_of::<sys::lm_fit_options>()), 0);
        f.train_path = tr.as_ptr();
        f.dev_path = dev.as_ptr();
        f.out_dir = o.as_ptr();
        f.max_steps = 4;
        f.batch_size = 8;
        f.eval_batch_size = 16;
        f.log_every = 1;
        f.callback = Some(record);
        f.user_data = &mut c_losses as *mut Vec<f64> as *mut c_void;
        assert_eq!(sys::lm_fit(dir.as_ptr(), &f, train().raw(), ptr::null_mut()), 0);
    }
    assert_eq!(
        losses.iter().map(|l| l.to_bits()).collect::<Vec<_>>(),
        c_losses.iter().map(|l| l.to_bits()).collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&out_c);
}

#[test]
fn the_callback_stops_the_run() {
    let out = out_dir("stop");
    let mut steps = 0;
    let mut stopped = false;
    lm::fit_with_progress(base(), &opts(&out).max_steps(0).epochs(3), &train(), |p| {
        if p.event == FitEvent::Step {
            steps += 1;
            if p.step == 2 {
                return ControlFlow::Break(());
            }
        }
        if p.event == FitEvent::End {
            stopped = p.stopped;
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(steps, 2);
    assert!(stopped);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_panic_in_the_callback_comes_back_after_the_run() {
    let out = out_dir("panic");
    let caught = std::panic::catch_unwind(|| {
        let _ = lm::fit_with_progress(base(), &opts(&out), &train(), |p| {
            if p.event == FitEvent::Step {
                panic!("stop here");
            }
            ControlFlow::Continue(())
        });
    });
    let msg = caught.unwrap_err();
    assert_eq!(msg.downcast_ref::<&str>(), Some(&"stop here"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn fit_errors() {
    let out = out_dir("errors");
    let err = lm::fit(base(), &opts(&out).train_path(data("no-such.tsv")), &train()).unwrap_err();
    assert_eq!(err.status(), Status::NotFound);
    assert!(err.message().contains("no-such.tsv"), "{}", err.message());
    let err = lm::fit(base(), &opts(&out).batch_size(0), &train()).unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("batch_size"), "{}", err.message());
    let err = lm::fit(base(), &FitOptions::default().out_dir(&out), &train()).unwrap_err();
    assert!(err.message().contains("train_path"), "{}", err.message());
    // an output folder holding another run is refused unless overwrite
    lm::fit(base(), &opts(&out).max_steps(1), &train()).unwrap();
    let err = lm::fit(base(), &opts(&out).max_steps(1).train_path(data("sst2.csv")), &train()).unwrap_err();
    assert_eq!(err.status(), Status::State, "{}", err);
    lm::fit(base(), &opts(&out).max_steps(1).overwrite(true), &train()).unwrap();
    let _ = std::fs::remove_dir_all(&out);
}
