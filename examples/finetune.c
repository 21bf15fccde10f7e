/* finetune: fine-tunes a model on a labelled text file and classifies new sentences, through the
 * public API only (lm.h): lm_fit() with a progress callback, then lm_model_load() of the trained
 * folder and lm_classify_texts().
 *
 *   build:  cc finetune.c $(pkg-config --cflags --libs lm)
 *   run:    finetune MODEL_DIR TRAIN.tsv DEV.tsv OUT_DIR [SENTENCE...]
 *
 * TRAIN.tsv and DEV.tsv: a header "sentence<TAB>label", then one example a line. A base model
 * (all-MiniLM-L6-v2, a BertModel folder) gets a fresh classification head with the labels of the
 * file; OUT_DIR gets the trained model (a Hugging Face folder), checkpoints and metrics.csv. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lm.h>

/* Called by lm_fit at each event; returning non-zero would stop the run cleanly. */
static int on_progress(const lm_fit_progress *p, void *user_data) {
    (void)user_data;
    switch (p->event) {
    case LM_FIT_START:
        printf("training: %lld rows, %lld steps, %d labels\n", (long long)p->train_rows,
               (long long)p->total_steps, (int)p->num_labels);
        break;
    case LM_FIT_LOG:
        printf("step %lld/%lld  loss %.4f  lr %.2e  %.1f examples/s\n", (long long)p->step,
               (long long)p->total_steps, p->loss, p->learning_rate, p->examples_per_s);
        break;
    case LM_FIT_EVAL:
        printf("dev after step %lld: accuracy %.4f  macro F1 %.4f  loss %.4f\n",
               (long long)p->step, p->metrics->accuracy, p->metrics->f1, p->metrics->loss);
        break;
    default:
        break;
    }
    fflush(stdout);
    return 0;
}

static int fail(const char *what, lm_status s) {
    fprintf(stderr, "finetune: %s: %s: %s\n", what, lm_status_string(s), lm_last_error());
    return 1;
}

int main(int argc, char **argv) {
    static const char *const defaults[] = {"a gorgeous , witty , seductive movie .",
                                           "the worst film of the year ."};
    const char *const *texts = defaults;
    size_t n = 2, i;
    lm_fit_options fit;
    lm_trainer_options train;
    lm_model_options mo;
    lm_text_options to;
    lm_metrics dev;
    lm_model_t *model = NULL;
    lm_label_score results[16];
    lm_status s;
    if (argc < 5) {
        fprintf(stderr, "usage: finetune MODEL_DIR TRAIN.tsv DEV.tsv OUT_DIR [SENTENCE...]\n");
        return 2;
    }
    if (argc > 5) {
        texts = (const char *const *)argv + 5;
        n = (size_t)(argc - 5) < 16 ? (size_t)(argc - 5) : 16;
    }
    /* the run: 2 epochs, batches of 16, AdamW at 1e-4 with 10% warm-up, seeded */
    lm_fit_options_init(&fit, sizeof fit);
    fit.train_path = argv[2];
    fit.dev_path = argv[3];
    fit.out_dir = argv[4];
    fit.overwrite = 1;
    fit.epochs = 2;
    fit.batch_size = 16;
    fit.max_length = 64;
    fit.warmup_ratio = 0.1;
    fit.log_every = 2;
    fit.callback = on_progress;
    lm_trainer_options_init(&train, sizeof train);
    train.learning_rate = 1e-4;
    train.weight_decay = 0.01;
    train.seed = 42;
    lm_metrics_init(&dev, sizeof dev);
    s = lm_fit(argv[1], &fit, &train, &dev);
    if (s != LM_OK) {
        return fail("lm_fit", s);
    }
    printf("kept the model with dev accuracy %.4f in %s\n", dev.accuracy, argv[4]);

    /* the trained folder is an ordinary model: load it and classify */
    lm_model_options_init(&mo, sizeof mo);
    s = lm_model_load(argv[4], &mo, &model);
    if (s != LM_OK) {
        return fail("lm_model_load", s);
    }
    lm_text_options_init(&to, sizeof to);
    s = lm_classify_texts(model, n, texts, NULL, NULL, NULL, &to, results, n, NULL);
    if (s != LM_OK) {
        lm_model_free(model);
        return fail("lm_classify_texts", s);
    }
    for (i = 0; i < n; i++) {
        printf("%-45s -> %s (%.3f)\n", texts[i], lm_model_label_name(model, (size_t)results[i].label),
               results[i].score);
    }
    lm_model_free(model);
    return isnan(dev.accuracy) ? 1 : 0;
}
