//! The declarations of lm-sys against the installed header: every struct's size and field
//! offsets equal the C compiler's (a C program built with `pkg-config --cflags lm` prints them),
//! and every declared function links.
use lm_sys::*;
use std::mem::{size_of, MaybeUninit};
use std::process::Command;

macro_rules! offset {
    ($s:ident, $f:ident) => {{
        let u = MaybeUninit::<$s>::uninit();
        let base = u.as_ptr();
        // SAFETY: only the address of the field is taken; nothing is read.
        unsafe { (std::ptr::addr_of!((*base).$f) as usize) - (base as usize) }
    }};
}

macro_rules! layouts {
    ($($s:ident { $($f:ident),* })*) => {
        vec![$((stringify!($s), size_of::<$s>(), vec![$((stringify!($f), offset!($s, $f))),*])),*]
    };
}

type Layout = Vec<(&'static str, usize, Vec<(&'static str, usize)>)>;

fn rust_layouts() -> Layout {
    layouts! {
        lm_allocator { struct_size, malloc_fn, realloc_fn, free_fn, user_data }
        lm_tokenizer_options { struct_size, lower_case, strip_accents, tokenize_chinese_chars, replace_invalid_utf8, clean_text }
        lm_encode_options { struct_size, add_special_tokens, max_length, truncation, padding, stride, return_overflowing }
        lm_model_options { struct_size, threads, head, num_labels, problem_type, label_names, seed, no_tokenizer, reserved0, int8, reserved1 }
        lm_text_options { struct_size, max_length, batch_size, replace_invalid_utf8, pooling, normalize, function_to_apply, top_k, aggregation, doc_stride, max_answer_length, max_question_length, handle_impossible_answer }
        lm_label_score { label, score }
        lm_token_score { token_id, score }
        lm_answer { score, reserved, start, end, byte_start, byte_end }
        lm_entity { text, label, score, token, start, end, byte_start, byte_end }
        lm_trainer_options { struct_size, optimizer, schedule, learning_rate, beta1, beta2, eps, weight_decay, momentum, nesterov, accumulation_steps, max_grad_norm, warmup_steps, total_steps, dropout, threads, seed }
        lm_batch { struct_size, batch, seq_len, ids, type_ids, attention_mask, labels, float_labels, start_positions, end_positions }
        lm_metrics { struct_size, task, num_labels, examples, loss, accuracy, f1, f1_binary, precision, recall, exact_match, pearson, spearman, mse, perplexity, main, eval_s }
        lm_fit_progress { struct_size, event, epoch, step, total_steps, steps_per_epoch, train_rows, dev_rows, first_step, epoch_float, loss, learning_rate, grad_norm, examples_per_s, tokens_per_s, elapsed_s, eta_s, examples, tokens, metrics, path, is_best, stopped, task, num_labels, max_length, reserved0 }
        lm_fit_options { struct_size, task, epochs, max_steps, train_path, dev_path, out_dir, resume_dir, batch_size, eval_batch_size, max_length, doc_stride, warmup_ratio, shuffle, group_by_length, eval_every, log_every, save_every, keep_checkpoints, patience, load_best, overwrite, mlm_probability, mlm_pack, reserved0, max_train_examples, max_eval_examples, callback, user_data }
    }
}

fn render(layouts: &Layout) -> String {
    let mut text = String::new();
    for (name, size, fields) in layouts {
        text.push_str(&format!("{} {}", name, size));
        for (f, off) in fields {
            text.push_str(&format!(" {}={}", f, off));
        }
        text.push('\n');
    }
    text
}

fn c_program(layouts: &Layout) -> String {
    let mut c = String::from("#include <stddef.h>\n#include <stdio.h>\n#include <lm.h>\nint main(void) {\n");
    for (name, _, fields) in layouts {
        c.push_str(&format!("    printf(\"{} %zu\", sizeof({}));\n", name, name));
        for (f, _) in fields {
            c.push_str(&format!("    printf(\" {}=%zu\", offsetof({}, {}));\n", f, name, f));
        }
        c.push_str("    printf(\"\\n\");\n");
    }
    c.push_str("    return 0;\n}\n");
    c
}

#[test]
fn struct_layouts_equal_the_c_header() {
    let ours = rust_layouts();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let cflags = match Command::new(std::env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()))
        .args(["--cflags", "lm"])
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
        _ => panic!("pkg-config --cflags lm failed"),
    };
    let dir = std::env::temp_dir().join(format!("lm-sys-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, c_program(&ours)).unwrap();
    let built =
        Command::new(&cc).args(cflags.split_whitespace()).arg("-std=c11").arg("-o").arg(&exe).arg(&src).status();
    match built {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{} failed ({}) on {}", cc, s, src.display()),
        Err(e) => {
            eprintln!("SKIP: no C compiler `{}` ({}): layouts not compared", cc, e);
            return;
        }
    }
    let out = Command::new(&exe).output().unwrap();
    let theirs = String::from_utf8(out.stdout).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(render(&ours), theirs);
}

#[test]
fn every_function_links() {
    let fns: &[usize] = &[
        lm_version as *const () as usize,
        lm_version_string as *const () as usize,
        lm_status_string as *const () as usize,
        lm_status_description as *const () as usize,
        lm_last_error as *const () as usize,
        lm_clear_error as *const () as usize,
        lm_set_log_callback as *const () as usize,
        lm_set_allocator as *const () as usize,
        lm_free as *const () as usize,
        lm_tokenizer_options_init as *const () as usize,
        lm_tokenizer_load_vocab as *const () as usize,
        lm_tokenizer_load_json as *const () as usize,
        lm_tokenizer_load_dir as *const () as usize,
        lm_tokenizer_save_dir as *const () as usize,
        lm_tokenizer_free as *const () as usize,
        lm_tokenizer_vocab_size as *const () as usize,
        lm_tokenizer_token_to_id as *const () as usize,
        lm_tokenizer_id_to_token as *const () as usize,
        lm_tokenizer_special_id as *const () as usize,
        lm_encode_options_init as *const () as usize,
        lm_tokenizer_encode as *const () as usize,
        lm_tokenizer_encode_pair as *const () as usize,
        lm_tokenizer_encode_batch as *const () as usize,
        lm_tokenizer_decode as *const () as usize,
        lm_encoding_free as *const () as usize,
        lm_encoding_length as *const () as usize,
        lm_encoding_ids as *const () as usize,
        lm_encoding_type_ids as *const () as usize,
        lm_encoding_attention_mask as *const () as usize,
        lm_encoding_special_tokens_mask as *const () as usize,
        lm_encoding_word_ids as *const () as usize,
        lm_encoding_sequence_ids as *const () as usize,
        lm_encoding_offsets as *const () as usize,
        lm_encoding_byte_offsets as *const () as usize,
        lm_encoding_overflow_count as *const () as usize,
        lm_encoding_overflow as *const () as usize,
        lm_blas_kernel as *const () as usize,
        lm_blas_threads as *const () as usize,
        lm_blas_suggested_coretype as *const () as usize,
        lm_blas_info as *const () as usize,
        lm_model_options_init as *const () as usize,
        lm_model_load as *const () as usize,
        lm_model_create as *const () as usize,
        lm_model_save as *const () as usize,
        lm_model_tokenizer as *const () as usize,
        lm_model_free as *const () as usize,
        lm_model_head as *const () as usize,
        lm_model_hidden_size as *const () as usize,
        lm_model_num_layers as *const () as usize,
        lm_model_num_heads as *const () as usize,
        lm_model_vocab_size as *const () as usize,
        lm_model_type_vocab_size as *const () as usize,
        lm_model_max_length as *const () as usize,
        lm_model_text_max_length as *const () as usize,
        lm_model_num_labels as *const () as usize,
        lm_model_label_name as *const () as usize,
        lm_model_parameter_count as *const () as usize,
        lm_model_nan_count as *const () as usize,
        lm_model_has_pooler as *const () as usize,
        lm_model_has_fresh_head as *const () as usize,
        lm_model_problem_type as *const () as usize,
        lm_model_unused_tensor_count as *const () as usize,
        lm_model_unused_tensor_name as *const () as usize,
        lm_model_embedding_defaults as *const () as usize,
        lm_model_config_json as *const () as usize,
        lm_model_hidden_states as *const () as usize,
        lm_model_embed as *const () as usize,
        lm_model_classify as *const () as usize,
        lm_model_token_logits as *const () as usize,
        lm_model_qa_logits as *const () as usize,
        lm_qa_best_span as *const () as usize,
        lm_model_mlm_logits as *const () as usize,
        lm_text_options_init as *const () as usize,
        lm_embed_texts as *const () as usize,
        lm_classify_texts as *const () as usize,
        lm_fill_mask as *const () as usize,
        lm_answer_questions as *const () as usize,
        lm_tag_texts as *const () as usize,
        lm_trainer_options_init as *const () as usize,
        lm_batch_init as *const () as usize,
        lm_trainer_create as *const () as usize,
        lm_trainer_free as *const () as usize,
        lm_trainer_step as *const () as usize,
        lm_trainer_evaluate as *const () as usize,
        lm_trainer_steps as *const () as usize,
        lm_trainer_learning_rate as *const () as usize,
        lm_trainer_grad_norm as *const () as usize,
        lm_metrics_init as *const () as usize,
        lm_fit_options_init as *const () as usize,
        lm_fit as *const () as usize,
        lm_evaluate as *const () as usize,
    ];
    assert_eq!(fns.len(), 91);
    assert!(fns.iter().all(|&f| f != 0));
}

#[test]
fn header_and_library_versions_agree() {
    // SAFETY: lm_version takes nothing and never fails.
    let v = unsafe { lm_version() };
    assert_eq!(v / 100, LM_VERSION_NUMBER / 100, "lm-sys follows the 0.2 header, the library is {}", v);
}
