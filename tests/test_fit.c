/* Tests of fine-tuning end to end (lm/fit.h) on the tiny base model tests/data/fit/base and the
 * data samples of tests/data/datasets (every format): each task trains, evaluates and saves a
 * folder that loads with its head and labels and runs the text-level calls; lm_evaluate on the
 * saved folder gives the metrics lm_fit reported; a run stopped by its callback and resumed gives
 * bit for bit the losses, metrics.csv and weights of the run that was never stopped (dropout,
 * shuffling, masking, accumulation and mid-epoch evaluations included); a checkpoint of another
 * model or data is refused; an output folder holding a run is refused and left whole; bad data
 * gives "file:line" messages; early stopping; allocation failures give LM_ERR_NOMEM without a
 * leak. */
#include <math.h>
#include <sys/stat.h>

#include "test_util.h"

#define BASE LM_SOURCE_DIR "/tests/data/fit/base"
#define DATA LM_SOURCE_DIR "/tests/data/datasets/"

/* ---- helpers ---- */

typedef struct recorder {
    double loss[512];   /* loss of step s at [s] (STEP events) */
    double gnorm[512];
    int64_t first, last;
    int64_t stop_at;    /* return 1 at this step's STEP event (0: never) */
    int events[8];
    int end_stopped;
    int64_t checkpoints;
    lm_metrics end_metrics;
    int has_end_metrics;
    char last_error[256];
} recorder;

static int record(const lm_fit_progress *p, void *user) {
    recorder *r = user;
    assert_true(p->struct_size >= sizeof *p);
    r->events[p->event]++;
    if (p->event == LM_FIT_START) {
        r->first = p->first_step;
    }
    if (p->event == LM_FIT_STEP) {
        assert_true(p->step > 0 && p->step < 512);
        assert_true(isfinite(p->loss));
        r->loss[p->step] = p->loss;
        r->gnorm[p->step] = p->grad_norm;
        r->last = p->step;
        if (r->stop_at != 0 && p->step == r->stop_at) {
            return 1;
        }
    }
    if (p->event == LM_FIT_CHECKPOINT) {
        assert_non_null(p->path);
        r->checkpoints++;
    }
    if (p->event == LM_FIT_EVAL) {
        assert_non_null(p->metrics);
    }
    if (p->event == LM_FIT_END) {
        r->end_stopped = p->stopped;
        assert_non_null(p->path);
        if (p->metrics != NULL) {
            r->end_metrics = *p->metrics;
            r->has_end_metrics = 1;
        }
    }
    return 0;
}

static void fit_opts(lm_fit_options *o, lm_trainer_options *t, const char *train, const char *dev,
                     const char *out) {
    assert_int_equal(lm_fit_options_init(o, sizeof *o), LM_OK);
    assert_int_equal(lm_trainer_options_init(t, sizeof *t), LM_OK);
    o->train_path = train;
    o->dev_path = dev;
    o->out_dir = out;
    o->epochs = 2;
    o->batch_size = 8;
    o->eval_batch_size = 16;
    o->warmup_ratio = 0.1;
    o->log_every = 1;
    t->learning_rate = 1e-3;
    t->weight_decay = 0.01;
    t->threads = 1;
}

static char *path_in(const char *dir, const char *name) {
    static char buf[4][1024];
    static int k;
    char tmp[1024];
    k = (k + 1) % 4;
    snprintf(tmp, sizeof tmp, "%s/%s", dir, name);
    memcpy(buf[k], tmp, sizeof tmp);
    return buf[k];
}

/* The whole file (malloc); *len its size. */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *data;
    long n;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    data[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return data;
}

static int same_file(const char *a, const char *b) {
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static lm_model_t *load(const char *dir) {
    lm_model_t *m = NULL;
    lm_model_options mo;
    lm_model_options_init(&mo, sizeof mo);
    mo.threads = 1;
    if (lm_model_load(dir, &mo, &m) != LM_OK) {
        print_error("load %s: %s\n", dir, lm_last_error());
    }
    assert_non_null(m);
    return m;
}

/* ---- options ---- */

static void test_options(void **state) {
    lm_fit_options o;
    lm_trainer_options t;
    lm_metrics m;
    char *dir = test_make_temp_dir();
    (void)state;
    assert_int_equal(lm_fit_options_init(&o, sizeof o), LM_OK);
    assert_int_equal(o.epochs, 3);
    assert_int_equal(o.batch_size, 32);
    assert_int_equal(o.eval_batch_size, 64);
    assert_int_equal(o.log_every, 50);
    assert_int_equal(o.shuffle, 1);
    assert_int_equal(o.load_best, 1);
    assert_true(o.mlm_probability == 0.15);
    assert_int_equal(lm_fit_options_init(NULL, sizeof o), LM_ERR_INVALID_ARGUMENT);
    assert_int_equal(lm_metrics_init(&m, sizeof m), LM_OK);
    assert_true(isnan(m.accuracy) && isnan(m.loss) && isnan(m.perplexity) && m.examples == 0);
    assert_int_equal(lm_fit(BASE, NULL, NULL, NULL), LM_ERR_INVALID_ARGUMENT);
    fit_opts(&o, &t, NULL, NULL, dir);
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "train_path"));
    fit_opts(&o, &t, DATA "sst2.tsv", NULL, dir);
    o.batch_size = 0;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "batch_size"));
    fit_opts(&o, &t, DATA "sst2.tsv", NULL, dir);
    o.mlm_probability = 1.5;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_INVALID_ARGUMENT);
    fit_opts(&o, &t, DATA "sst2.tsv", NULL, dir);
    t.beta1 = 2.0; /* the trainer's options are checked too */
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "beta1"));
    fit_opts(&o, &t, DATA "sst2.tsv", NULL, dir);
    m.struct_size = 4;
    assert_int_equal(lm_fit(BASE, &o, &t, &m), LM_ERR_INVALID_ARGUMENT);
    fit_opts(&o, &t, DATA "sst2.tsv", NULL, dir);
    o.max_length = 65; /* the model has 64 positions */
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_RANGE);
    assert_non_null(strstr(lm_last_error(), "64 positions"));
    assert_int_equal(lm_evaluate(NULL, &o, NULL, NULL), LM_ERR_INVALID_ARGUMENT);
    test_remove_tree(dir);
    free(dir);
}

/* ---- every task, every format ---- */

typedef struct task_case {
    const char *train, *dev;
    int32_t task;          /* what lm_fit should pick for the base model */
    lm_head head;
    size_t labels;         /* of the saved model (0: not a classification head) */
    const char *label0;
    int64_t max_examples;
} task_case;

static void check_text_call(lm_model_t *m, int32_t task) {
    const char *texts[] = {"a gorgeous , witty movie .", "the worst film of the year ."};
    lm_text_options to;
    lm_status s = LM_OK;
    lm_text_options_init(&to, sizeof to);
    if (task == LM_TASK_CLASSIFICATION || task == LM_TASK_REGRESSION) {
        lm_label_score res[2];
        size_t k = 0;
        s = lm_classify_texts(m, 2, texts, NULL, NULL, NULL, &to, res, 2, &k);
        assert_int_equal(k, 1);
    } else if (task == LM_TASK_TOKEN_CLASSIFICATION) {
        lm_entity ents[128];
        size_t n = 0;
        s = lm_tag_texts(m, 2, texts, NULL, &to, ents, 128, &n);
    } else if (task == LM_TASK_QUESTION_ANSWERING) {
        const char *q[] = {"who ruled ?"}, *c[] = {"the yuan dynasty was ruled by kublai khan ."};
        lm_answer a[1];
        s = lm_answer_questions(m, 1, q, NULL, c, NULL, &to, a, 1);
    } else {
        const char *t[] = {"the [MASK] movie ."};
        lm_token_score res[8];
        size_t n = 0;
        to.top_k = 3;
        s = lm_fill_mask(m, 1, t, NULL, &to, res, 8, &n, NULL);
        assert_int_equal(n, 3);
    }
    if (s != LM_OK) {
        print_error("text call: %s\n", lm_last_error());
    }
    assert_int_equal(s, LM_OK);
}

static void run_task_case(const task_case *c) {
    char *dir = test_make_temp_dir();
    lm_fit_options o;
    lm_trainer_options t;
    lm_metrics m, e;
    recorder rec;
    lm_model_t *model;
    lm_status s;
    memset(&rec, 0, sizeof rec);
    fit_opts(&o, &t, c->train, c->dev, dir);
    o.max_train_examples = c->max_examples;
    o.max_eval_examples = c->max_examples;
    o.callback = record;
    o.user_data = &rec;
    lm_metrics_init(&m, sizeof m);
    s = lm_fit(BASE, &o, &t, &m);
    if (s != LM_OK) {
        print_error("%s: %s\n", c->train, lm_last_error());
    }
    assert_int_equal(s, LM_OK);
    assert_int_equal(m.task, c->task);
    assert_true(isfinite(m.loss));
    assert_true(m.task == LM_TASK_QUESTION_ANSWERING || isfinite(m.main));
    assert_int_equal(rec.events[LM_FIT_START], 1);
    assert_int_equal(rec.events[LM_FIT_END], 1);
    assert_true(rec.events[LM_FIT_STEP] > 0);
    assert_int_equal(rec.events[LM_FIT_EVAL], 2); /* each epoch end */
    assert_int_equal(rec.end_stopped, 0);
    assert_true(exists(path_in(dir, "metrics.csv")));
    assert_true(exists(path_in(dir, "model.safetensors")));
    assert_true(exists(path_in(dir, "vocab.txt")));
    /* the saved folder: its head, its labels, the text-level calls */
    model = load(dir);
    assert_int_equal(lm_model_head(model), c->head);
    assert_int_equal(lm_model_has_fresh_head(model), 0);
    if (c->labels > 0) {
        assert_int_equal(lm_model_num_labels(model), c->labels);
        assert_string_equal(lm_model_label_name(model, 0), c->label0);
    }
    if (c->task == LM_TASK_REGRESSION) {
        assert_int_equal(lm_model_num_labels(model), 1);
        assert_int_equal(lm_model_problem_type(model), LM_PROBLEM_REGRESSION);
    }
    check_text_call(model, c->task);
    /* lm_evaluate on the saved folder scores what lm_fit reported for it */
    lm_metrics_init(&e, sizeof e);
    {
        lm_fit_options eo;
        char *json = NULL;
        lm_fit_options_init(&eo, sizeof eo);
        eo.dev_path = c->dev;
        eo.eval_batch_size = 16;
        eo.max_eval_examples = c->max_examples;
        s = lm_evaluate(model, &eo, &e, &json);
        if (s != LM_OK) {
            print_error("evaluate %s: %s\n", c->dev, lm_last_error());
        }
        assert_int_equal(s, LM_OK);
        assert_non_null(json);
        assert_non_null(strstr(json, "\"task\":"));
        if (c->task == LM_TASK_CLASSIFICATION) {
            assert_non_null(strstr(json, "\"confusion\":[["));
            assert_non_null(strstr(json, "\"accuracy\":"));
        }
        lm_free(json);
    }
    assert_int_equal(e.task, c->task);
    assert_int_equal(e.examples, m.examples);
    assert_true(fabs(e.loss - m.loss) <= 1e-5 * (1.0 + fabs(m.loss)));
    if (c->task == LM_TASK_CLASSIFICATION || c->task == LM_TASK_TOKEN_CLASSIFICATION ||
        c->task == LM_TASK_QUESTION_ANSWERING) {
        assert_true(e.f1 == m.f1 || (isnan(e.f1) && isnan(m.f1)));
    }
    if (c->task == LM_TASK_CLASSIFICATION) {
        assert_true(e.accuracy == m.accuracy);
    }
    lm_model_free(model);
    test_remove_tree(dir);
    free(dir);
}

static void test_every_task(void **state) {
    static const task_case cases[] = {
        {DATA "sst2.tsv", DATA "sst2.csv", LM_TASK_CLASSIFICATION,
         LM_HEAD_SEQUENCE_CLASSIFICATION, 2, "0", 0},
        {DATA "sst2.csv", DATA "sst2.tsv", LM_TASK_CLASSIFICATION,
         LM_HEAD_SEQUENCE_CLASSIFICATION, 2, "0", 0},
        {DATA "rte.tsv", DATA "rte.tsv", LM_TASK_CLASSIFICATION,
         LM_HEAD_SEQUENCE_CLASSIFICATION, 2, "entailment", 0},
        {DATA "stsb.jsonl", DATA "stsb.tsv", LM_TASK_REGRESSION, LM_HEAD_SEQUENCE_CLASSIFICATION,
         0, NULL, 0},
        {DATA "wnut17.conll", DATA "wnut17.conll", LM_TASK_TOKEN_CLASSIFICATION,
         LM_HEAD_TOKEN_CLASSIFICATION, 10, "B-corporation", 0},
        {DATA "squad.json", DATA "squad.json", LM_TASK_QUESTION_ANSWERING,
         LM_HEAD_QUESTION_ANSWERING, 0, NULL, 3},
        {DATA "text.txt", DATA "text.txt", LM_TASK_MASKED_LM, LM_HEAD_MASKED_LM, 0, NULL, 0},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_task_case(&cases[i]);
    }
}

/* ---- resume: bit for bit ---- */

typedef struct resume_case {
    const char *train, *dev;
    int32_t accumulation;
    int64_t eval_every, save_every;
    int32_t dropout;
} resume_case;

static void run_resume_case(const resume_case *c) {
    char *a = test_make_temp_dir(), *b = test_make_temp_dir();
    lm_fit_options o;
    lm_trainer_options t;
    recorder ra, rb, rc;
    int64_t k, total;
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    memset(&rc, 0, sizeof rc);
    /* the run never stopped */
    fit_opts(&o, &t, c->train, c->dev, a);
    o.epochs = 3;
    o.eval_every = c->eval_every;
    o.save_every = c->save_every;
    t.accumulation_steps = c->accumulation;
    t.dropout = c->dropout;
    o.callback = record;
    o.user_data = &ra;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_OK);
    total = ra.last;
    assert_true(total >= 6);
    /* stopped by the callback after step k, in the middle of an epoch, then resumed */
    k = total / 2 + 1;
    fit_opts(&o, &t, c->train, c->dev, b);
    o.epochs = 3;
    o.eval_every = c->eval_every;
    o.save_every = c->save_every;
    t.accumulation_steps = c->accumulation;
    t.dropout = c->dropout;
    o.callback = record;
    o.user_data = &rb;
    rb.stop_at = k;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_OK);
    assert_int_equal(rb.last, k);
    assert_int_equal(rb.end_stopped, 1);
    {
        char ck[64];
        snprintf(ck, sizeof ck, "checkpoint-%lld", (long long)k);
        assert_true(exists(path_in(b, ck)));
        assert_true(exists(path_in(path_in(b, ck), "optimizer.safetensors")));
        assert_true(exists(path_in(path_in(b, ck), "trainer_state.json")));
    }
    o.resume_dir = b;
    o.user_data = &rc;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_OK);
    assert_int_equal(rc.first, k);
    assert_int_equal(rc.last, total);
    for (int64_t s = 1; s <= total; s++) {
        double want = ra.loss[s], got = s <= k ? rb.loss[s] : rc.loss[s];
        if (memcmp(&want, &got, sizeof want) != 0 ||
            memcmp(&ra.gnorm[s], s <= k ? &rb.gnorm[s] : &rc.gnorm[s], sizeof want) != 0) {
            print_error("step %lld: loss %.17g, resumed %.17g\n", (long long)s, want, got);
            fail();
        }
    }
    assert_true(same_file(path_in(a, "metrics.csv"), path_in(b, "metrics.csv")));
    assert_true(same_file(path_in(a, "model.safetensors"), path_in(b, "model.safetensors")));
    assert_true(same_file(path_in(a, "config.json"), path_in(b, "config.json")));
    test_remove_tree(a);
    test_remove_tree(b);
    free(a);
    free(b);
}

static void test_resume_bit_identical(void **state) {
    static const resume_case cases[] = {
        /* classification with dropout, dev evaluations and the best model */
        {DATA "sst2.tsv", DATA "sst2.csv", 1, 0, 0, 1},
        /* masked LM (masks drawn per batch), gradient accumulation, mid-epoch evaluations,
           a checkpoint every step */
        {DATA "text.txt", DATA "sst2.tsv", 2, 3, 1, 1},
        /* no dev file */
        {DATA "wnut17.conll", NULL, 1, 0, 2, 1},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_resume_case(&cases[i]);
    }
}

/* ---- refusals that protect a run ---- */

static void test_foreign_resume_and_existing_run(void **state) {
    char *dir = test_make_temp_dir(), *other = test_make_temp_dir();
    lm_fit_options o;
    lm_trainer_options t;
    size_t len;
    char *before;
    (void)state;
    fit_opts(&o, &t, DATA "sst2.tsv", NULL, dir);
    o.epochs = 1;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_OK);
    before = slurp(path_in(dir, "model.safetensors"), &len);
    /* a second run into the same folder: refused, nothing lost */
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_STATE);
    assert_non_null(strstr(lm_last_error(), "already holds a training run"));
    {
        size_t len2;
        char *after = slurp(path_in(dir, "model.safetensors"), &len2);
        assert_true(len == len2 && memcmp(before, after, len) == 0);
        free(after);
    }
    free(before);
    /* resuming from a run of another model */
    fit_opts(&o, &t, DATA "sst2.tsv", NULL, other);
    o.resume_dir = dir;
    assert_int_equal(lm_fit(LM_SOURCE_DIR "/tests/data/pipeline/models/seqcls", &o, &t, NULL),
                     LM_ERR_STATE);
    assert_non_null(strstr(lm_last_error(), "another model"));
    /* ... or of other data */
    assert_int_equal(lm_fit(BASE, &(lm_fit_options){0}, &t, NULL), LM_ERR_INVALID_ARGUMENT);
    o.train_path = DATA "sst2.csv";
    o.max_train_examples = 20;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_STATE);
    assert_non_null(strstr(lm_last_error(), "training data"));
    /* a folder without a checkpoint */
    o.resume_dir = other;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_NOT_FOUND);
    assert_non_null(strstr(lm_last_error(), "no complete checkpoint"));
    /* overwrite with a bad training file: refused before anything of the old run goes */
    fit_opts(&o, &t, DATA "README.md", NULL, dir); /* neither a known format nor a --task */
    o.overwrite = 1;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "cannot tell the task"));
    o.task = LM_TASK_CLASSIFICATION;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "unknown data format"));
    assert_true(exists(path_in(dir, "checkpoint-5")));
    /* overwrite: allowed, the old checkpoints go */
    fit_opts(&o, &t, DATA "sst2.tsv", NULL, dir);
    o.epochs = 1;
    o.overwrite = 1;
    o.batch_size = 20;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_OK);
    assert_false(exists(path_in(dir, "checkpoint-5")));
    assert_true(exists(path_in(dir, "checkpoint-2")));
    /* an output path that is a file */
    fit_opts(&o, &t, DATA "sst2.tsv", NULL, path_in(dir, "config.json"));
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "not a folder"));
    test_remove_tree(dir);
    test_remove_tree(other);
    free(dir);
    free(other);
}

/* ---- bad data: the file and the line named, nothing written ---- */

typedef struct bad_case {
    const char *name;   /* file name (its extension picks the format) */
    const char *text;   /* contents, or NULL for a generated one */
    int dev;            /* the bad file is the dev file */
    lm_status status;
    const char *want;   /* part of the message */
} bad_case;

static void write_text(const char *path, const char *text) {
    test_write_file(path, text, strlen(text));
}

static void test_bad_data(void **state) {
    static const bad_case cases[] = {
        {"missing.tsv", "sentence\tlabel\ngood movie\t1\nbad movie\n", 0, LM_ERR_FORMAT,
         "missing.tsv:3:"},
        {"extra.tsv", "sentence\tlabel\ngood movie\t1\nbad\tmovie\t0\n", 0, LM_ERR_FORMAT,
         "extra.tsv:3:"},
        {"empty.tsv", "sentence\tlabel\ngood movie\t1\n\nbad movie\t0\n", 0, LM_ERR_FORMAT,
         "empty.tsv:3:"},
        {"utf8.tsv", "sentence\tlabel\ngood movie\t1\nbad \xff movie\t0\n", 0, LM_ERR_UTF8,
         "utf8.tsv:3:"},
        {"unknown.tsv", "sentence\tlabel\ngood movie\t1\nbad movie\t7\n", 1, LM_ERR_FORMAT,
         "unknown.tsv:3:"},
        {"long.tsv", NULL, 0, LM_ERR_RANGE, "long.tsv:3:"},
        {"labels.tsv", NULL, 0, LM_ERR_RANGE, "labels.tsv"},
        {"nolabel.jsonl", "{\"text\": \"good\"}\n", 0, LM_ERR_FORMAT, "nolabel.jsonl"},
        {"bad.conll", "a\tO\nb\n", 0, LM_ERR_FORMAT, "bad.conll:2:"},
        {"bad.json", "{\"data\": [{\"paragraphs\": 3}]}", 0, LM_ERR_FORMAT, "bad.json"},
    };
    char *dir = test_make_temp_dir();
    char *out = strdup(path_in(dir, "out"));
    const char *good = path_in(dir, "good.tsv");
    size_t i;
    (void)state;
    write_text(good, "sentence\tlabel\ngood movie\t1\nbad movie\t0\n");
    good = strdup(good);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        char *file = strdup(path_in(dir, c->name));
        lm_fit_options o;
        lm_trainer_options t;
        lm_status s;
        if (c->text != NULL) {
            write_text(file, c->text);
        } else if (strcmp(c->name, "long.tsv") == 0) { /* a 5 MB line */
            FILE *f = fopen(file, "wb");
            size_t k;
            assert_non_null(f);
            fputs("sentence\tlabel\ngood movie\t1\n", f);
            for (k = 0; k < 5u << 20; k++) {
                fputc('a' + (int)(k % 7 == 6 ? 'z' - 'a' : k % 7), f);
            }
            fputs("\t0\n", f);
            fclose(f);
        } else { /* 10,000 distinct labels */
            FILE *f = fopen(file, "wb");
            int k;
            assert_non_null(f);
            fputs("sentence\tlabel\n", f);
            for (k = 0; k < 10000; k++) {
                fprintf(f, "text %d\tclass%d\n", k, k);
            }
            fclose(f);
        }
        fit_opts(&o, &t, c->dev ? good : file, c->dev ? file : NULL, out);
        o.epochs = 1;
        s = lm_fit(BASE, &o, &t, NULL);
        if (s != c->status || strstr(lm_last_error(), c->want) == NULL) {
            print_error("%s: %s: %s (want %s, '%s')\n", c->name, lm_status_string(s),
                        lm_last_error(), lm_status_string(c->status), c->want);
            fail();
        }
        assert_false(exists(path_in(out, "metrics.csv")));
        free(file);
    }
    free((char *)good);
    free(out);
    test_remove_tree(dir);
    free(dir);
}

/* ---- stopping: early stopping ---- */

static void test_early_stopping(void **state) {
    char *dir = test_make_temp_dir();
    lm_fit_options o;
    lm_trainer_options t;
    recorder rec;
    (void)state;
    memset(&rec, 0, sizeof rec);
    fit_opts(&o, &t, DATA "sst2.tsv", DATA "sst2.csv", dir);
    o.epochs = 5;
    o.eval_every = 1;
    o.patience = 1;
    t.learning_rate = 0.0; /* nothing improves: the second evaluation stops the run */
    o.callback = record;
    o.user_data = &rec;
    assert_int_equal(lm_fit(BASE, &o, &t, NULL), LM_OK);
    assert_int_equal(rec.events[LM_FIT_EVAL], 2);
    assert_int_equal(rec.last, 2);
    assert_int_equal(rec.end_stopped, 1);
    assert_true(rec.has_end_metrics);
    assert_true(exists(path_in(dir, "checkpoint-2")));
    test_remove_tree(dir);
    free(dir);
}

/* ---- allocation failures ---- */

static char *nomem_dir;

static lm_status fit_once(void *state) {
    lm_fit_options o;
    lm_trainer_options t;
    char cmd[1200];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s/out'", nomem_dir);
    assert_int_equal(system(cmd), 0);
    fit_opts(&o, &t, DATA "sst2.tsv", DATA "sst2.tsv", path_in(nomem_dir, "out"));
    o.epochs = 1;
    o.max_train_examples = 8;
    o.max_eval_examples = 8;
    return lm_fit(BASE, &o, &t, NULL);
}

static void test_allocation_failures(void **state) {
    long count, k, step;
    (void)state;
    nomem_dir = test_make_temp_dir();
    test_alloc_begin(0);
    assert_int_equal(fit_once(NULL), LM_OK);
    count = test_alloc.count;
    assert_int_equal(test_alloc_end(), 0);
    /* every allocation would take minutes: a spread of them, the first ones each */
    step = count / (test_quick() ? 8 : 60) + 1;
    for (k = 1; k <= count; k += k < 40 ? 1 : step) {
        lm_status s;
        test_alloc_begin(k);
        s = fit_once(NULL);
        assert_int_equal(test_alloc_end(), 0);
        if (s != LM_ERR_NOMEM) {
            print_error("allocation %ld of %ld failed: %s (%s)\n", k, count, lm_status_string(s),
                        lm_last_error());
        }
        assert_int_equal(s, LM_ERR_NOMEM);
    }
    test_remove_tree(nomem_dir);
    free(nomem_dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_every_task),
        cmocka_unit_test(test_resume_bit_identical),
        cmocka_unit_test(test_foreign_resume_and_existing_run),
        cmocka_unit_test(test_bad_data),
        cmocka_unit_test(test_early_stopping),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
