/* lm train: fine-tunes a model folder on a data file through lm_fit() (lm/fit.h) and reports
 * its progress: a progress bar on a terminal, else log lines in the format of the reference
 * recipe (docs/finetune.md): "[NAME] step S/TOTAL epoch E loss L lr LR grad_norm G (t s, x
 * ex/s)", "[NAME] epoch E dev METRICS (eval t s)", "[NAME] done: ...". At the end it writes
 * OUT/results.json (the reference's per-task layout) and, with --plot, an SVG of the training
 * loss and the dev metric. Ctrl-C stops the run cleanly (a checkpoint is saved) and exits 130. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "model_common.h"
#include "plot.h"

enum {
    O_TRAIN, O_DEV, O_OUT, O_TASK, O_EPOCHS, O_MAX_STEPS, O_LR, O_BATCH, O_EVAL_BATCH,
    O_MAX_LENGTH, O_DOC_STRIDE, O_WARMUP, O_WEIGHT_DECAY, O_OPTIMIZER, O_SCHEDULE, O_CLIP,
    O_ACCUM, O_NO_SHUFFLE, O_GROUP, O_NO_DROPOUT, O_SEED, O_EVAL_EVERY, O_LOG_EVERY,
    O_SAVE_EVERY, O_KEEP, O_PATIENCE, O_KEEP_LAST, O_OVERWRITE, O_MLM_PROB, O_MLM_PACK,
    O_MAX_TRAIN, O_MAX_EVAL, O_RESUME, O_PLOT, O_NAME
};

static const tool_option options[] = {
    [O_TRAIN] = {"--train", "FILE",
                 "training data: .tsv/.csv/.jsonl (text, optional pair, label), .conll (word "
                 "and tag a line), .json (SQuAD v1.1) or .txt (one text a line); required"},
    [O_DEV] = {"--dev", "FILE", "dev data in the same format: evaluated at each epoch end (and "
                                "every --eval-every steps)"},
    [O_OUT] = {"--out", "DIR",
               "output folder (required): the trained model, checkpoint-STEP/, best/, "
               "metrics.csv, results.json"},
    [O_TASK] = {"--task", "T",
                "auto (default: the model's head, else the training file's kind), "
                "classification, regression, token-classification (tokens), "
                "question-answering (qa) or masked-lm (mlm)"},
    [O_EPOCHS] = {"--epochs", "N", "epochs, 1 to 100000 (default 3)"},
    [O_MAX_STEPS] = {"--max-steps", "N",
                     "train this many optimizer steps instead (the schedule spans them)"},
    [O_LR] = {"--lr", "X", "peak learning rate (default 5e-5)"},
    [O_BATCH] = {"--batch-size", "N", "rows per training batch (default 32)"},
    [O_EVAL_BATCH] = {"--eval-batch-size", "N", "rows per evaluation batch (default 64)"},
    [O_MAX_LENGTH] = {"--max-length", "N",
                      "tokens per row, special tokens included (default 128, QA 384, at most "
                      "the model's positions); batches are padded to their longest row"},
    [O_DOC_STRIDE] = {"--doc-stride", "N",
                      "QA: tokens shared by consecutive windows of a long context (default "
                      "128, or max-length / 3 when smaller)"},
    [O_WARMUP] = {"--warmup-ratio", "X", "share of the steps warming up, 0 to 1 (default 0.1)"},
    [O_WEIGHT_DECAY] = {"--weight-decay", "X",
                        "weight decay, not on biases and LayerNorm weights (default 0.01)"},
    [O_OPTIMIZER] = {"--optimizer", "NAME", "adamw (default), adam or sgd"},
    [O_SCHEDULE] = {"--schedule", "NAME",
                    "linear (default), cosine or constant, after the warm-up"},
    [O_CLIP] = {"--max-grad-norm", "X", "gradient clipping (default 1; 0: none)"},
    [O_ACCUM] = {"--accumulation", "N", "batches per optimizer step (default 1)"},
    [O_NO_SHUFFLE] = {"--no-shuffle", NULL, "batches in file order (default: a seeded order "
                                            "each epoch)"},
    [O_GROUP] = {"--group-by-length", "K",
                 "length bucketing: rows of similar length batched together, over runs of K "
                 "batches (default 0: off)"},
    [O_NO_DROPOUT] = {"--no-dropout", NULL, "train without dropout"},
    [O_SEED] = {"--seed", "N", "seed of the fresh head, dropout, data order and masking "
                               "(default 42)"},
    [O_EVAL_EVERY] = {"--eval-every", "N", "also evaluate every N steps (default 0: at epoch "
                                           "ends only)"},
    [O_LOG_EVERY] = {"--log-every", "N", "a log line and a metrics.csv row every N steps "
                                         "(default 50)"},
    [O_SAVE_EVERY] = {"--save-every", "N", "a checkpoint every N steps (default 0: at epoch ends "
                                           "and when stopped)"},
    [O_KEEP] = {"--keep", "N", "checkpoints kept (default 2)"},
    [O_PATIENCE] = {"--patience", "N",
                    "stop after N evaluations without a better dev metric (default 0: never)"},
    [O_KEEP_LAST] = {"--keep-last", NULL,
                     "the output folder gets the last model (default: the best on the dev "
                     "data)"},
    [O_OVERWRITE] = {"--overwrite", NULL,
                     "start over in an output folder that holds an earlier run (its checkpoints "
                     "are deleted)"},
    [O_MLM_PROB] = {"--mlm-probability", "X", "masked LM: share of tokens masked (default 0.15)"},
    [O_MLM_PACK] = {"--mlm-pack", NULL,
                    "masked LM: pack the lines into blocks of max-length tokens (default: one "
                    "row per line)"},
    [O_MAX_TRAIN] = {"--max-train", "N", "only the first N training examples (default: all)"},
    [O_MAX_EVAL] = {"--max-eval", "N", "only the first N dev examples (default: all)"},
    [O_RESUME] = {"--resume", "DIR",
                  "continue from a checkpoint folder, or from the newest checkpoint of an "
                  "output folder (the same losses as a run never stopped)"},
    [O_PLOT] = {"--plot", "FILE",
                "write an SVG of the training loss and the dev metric against the steps"},
    [O_NAME] = {"--name", "NAME", "the run's name in log lines and results.json (default: the "
                                  "task)"},
    {NULL, NULL, NULL},
};

typedef struct train_state {
    lm_fit_options fo;
    lm_trainer_options to;
    const char *plot, *name, *model_dir;
    char name_buf[64];
    int tty, verbose, threads;
    double t_start, prep_s, eval_s;
    double bar_at, win_sum;
    int64_t win_n;
    FILE *log;                  /* the results' log and epochs, kept as JSON text */
    char *log_text, *epochs_text;
    size_t log_len, epochs_len;
    FILE *epochs;
    int n_log, n_epochs, task, num_labels;
    int64_t total_steps, steps_per_epoch, train_rows, dev_rows;
    lm_fit_progress last;       /* the last progress report (times, counts) */
    lm_metrics final;
    int has_final, stopped;
} train_state;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_task(const tool_command *cmd, const char *value, int32_t *out) {
    static const char *const names[] = {"auto", "classification", "regression",
                                        "token-classification", "question-answering",
                                        "masked-lm", "tokens", "qa", "mlm", NULL};
    static const int32_t tasks[] = {LM_TASK_AUTO, LM_TASK_CLASSIFICATION, LM_TASK_REGRESSION,
                                    LM_TASK_TOKEN_CLASSIFICATION, LM_TASK_QUESTION_ANSWERING,
                                    LM_TASK_MASKED_LM, LM_TASK_TOKEN_CLASSIFICATION,
                                    LM_TASK_QUESTION_ANSWERING, LM_TASK_MASKED_LM};
    int k;
    if (tool_parse_choice(cmd, "--task", value, names, &k) != 0) {
        return 2;
    }
    *out = tasks[k];
    return 0;
}

static int handle(const tool_command *cmd, void *state, int index, const char *value) {
    static const char *const optimizers[] = {"adamw", "adam", "sgd", NULL};
    static const char *const schedules[] = {"linear", "cosine", "constant", NULL};
    train_state *s = state;
    long long v = 0;
    double x = 0.0;
    int k, r = 0;
    const char *opt = options[index].name;
#define INT(min, max) (r = tool_parse_int(cmd, opt, value, (min), (max), &v)) == 0
#define DBL(min, max) (r = tool_parse_double(cmd, opt, value, (min), (max), &x)) == 0
    switch (index) {
    case O_TRAIN: s->fo.train_path = value; break;
    case O_DEV: s->fo.dev_path = value; break;
    case O_OUT: s->fo.out_dir = value; break;
    case O_TASK: r = parse_task(cmd, value, &s->fo.task); break;
    case O_EPOCHS: if (INT(1, 100000)) s->fo.epochs = (int32_t)v; break;
    case O_MAX_STEPS: if (INT(1, INT64_MAX)) s->fo.max_steps = v; break;
    case O_LR: if (DBL(0, 10)) s->to.learning_rate = x; break;
    case O_BATCH: if (INT(1, 1 << 20)) s->fo.batch_size = (int32_t)v; break;
    case O_EVAL_BATCH: if (INT(1, 1 << 20)) s->fo.eval_batch_size = (int32_t)v; break;
    case O_MAX_LENGTH: if (INT(0, 1 << 20)) s->fo.max_length = (int32_t)v; break;
    case O_DOC_STRIDE: if (INT(0, 1 << 20)) s->fo.doc_stride = (int32_t)v; break;
    case O_WARMUP: if (DBL(0, 1)) s->fo.warmup_ratio = x; break;
    case O_WEIGHT_DECAY: if (DBL(0, 1e6)) s->to.weight_decay = x; break;
    case O_OPTIMIZER:
        if ((r = tool_parse_choice(cmd, opt, value, optimizers, &k)) == 0) s->to.optimizer = k;
        break;
    case O_SCHEDULE:
        if ((r = tool_parse_choice(cmd, opt, value, schedules, &k)) == 0) s->to.schedule = k;
        break;
    case O_CLIP: if (DBL(0, 1e12)) s->to.max_grad_norm = x; break;
    case O_ACCUM: if (INT(1, 1 << 20)) s->to.accumulation_steps = (int32_t)v; break;
    case O_NO_SHUFFLE: s->fo.shuffle = 0; break;
    case O_GROUP: if (INT(0, 1 << 20)) s->fo.group_by_length = (int32_t)v; break;
    case O_NO_DROPOUT: s->to.dropout = 0; break;
    case O_SEED: if (INT(0, INT64_MAX)) s->to.seed = (uint64_t)v; break;
    case O_EVAL_EVERY: if (INT(0, INT64_MAX)) s->fo.eval_every = v; break;
    case O_LOG_EVERY: if (INT(1, INT64_MAX)) s->fo.log_every = v; break;
    case O_SAVE_EVERY: if (INT(0, INT64_MAX)) s->fo.save_every = v; break;
    case O_KEEP: if (INT(1, 1000000)) s->fo.keep_checkpoints = (int32_t)v; break;
    case O_PATIENCE: if (INT(0, 1000000)) s->fo.patience = (int32_t)v; break;
    case O_KEEP_LAST: s->fo.load_best = 0; break;
    case O_OVERWRITE: s->fo.overwrite = 1; break;
    case O_MLM_PROB:
        if (DBL(0, 1)) {
            if (x == 0.0) {
                return tool_usage_error(cmd, "--mlm-probability must be above 0");
            }
            s->fo.mlm_probability = x;
        }
        break;
    case O_MLM_PACK: s->fo.mlm_pack = 1; break;
    case O_MAX_TRAIN: if (INT(0, INT64_MAX)) s->fo.max_train_examples = v; break;
    case O_MAX_EVAL: if (INT(0, INT64_MAX)) s->fo.max_eval_examples = v; break;
    case O_RESUME: s->fo.resume_dir = value; break;
    case O_PLOT: s->plot = value; break;
    case O_NAME: s->name = value; break;
    default: break;
    }
#undef INT
#undef DBL
    return r;
}

static const tool_command train_cmd = {
    "train", "--model DIR --train FILE --out DIR [OPTIONS]",
    "Fine-tunes the model on the training file and writes the trained model to --out\n"
    "(a Hugging Face folder that lm classify, tag, qa and fill-mask read), with\n"
    "checkpoints, metrics.csv and results.json. A model without the task's head gets\n"
    "a fresh one with the labels of the data. On a terminal a progress bar, else log\n"
    "lines; Ctrl-C stops cleanly (resume with --resume DIR).\n",
    TOOL_MODEL | TOOL_THREADS | TOOL_VERBOSE, options, handle,
};

/* ---- reporting ---- */

static const char *task_label(int task) {
    switch (task) {
    case LM_TASK_CLASSIFICATION: return "classification";
    case LM_TASK_REGRESSION: return "regression";
    case LM_TASK_TOKEN_CLASSIFICATION: return "token-classification";
    case LM_TASK_QUESTION_ANSWERING: return "question-answering";
    case LM_TASK_MASKED_LM: return "masked-lm";
    default: return "auto";
    }
}

/* The metrics of a task as "name value" pairs (f: text) or JSON members (json). */
static void put_metrics(FILE *f, const lm_metrics *m, int task, int num_labels, int json) {
    struct { const char *name; double v; } items[6];
    int n = 0, i;
    switch (task) {
    case LM_TASK_CLASSIFICATION:
        items[n].name = "accuracy", items[n++].v = m->accuracy;
        items[n].name = "f1", items[n++].v = m->f1;
        if (num_labels == 2) {
            items[n].name = "f1_binary", items[n++].v = m->f1_binary;
        }
        break;
    case LM_TASK_REGRESSION:
        items[n].name = "pearson", items[n++].v = m->pearson;
        items[n].name = "spearman", items[n++].v = m->spearman;
        items[n].name = "mse", items[n++].v = m->mse;
        break;
    case LM_TASK_TOKEN_CLASSIFICATION:
        items[n].name = "precision", items[n++].v = m->precision;
        items[n].name = "recall", items[n++].v = m->recall;
        items[n].name = "f1", items[n++].v = m->f1;
        items[n].name = "accuracy", items[n++].v = m->accuracy;
        break;
    case LM_TASK_QUESTION_ANSWERING:
        items[n].name = "exact_match", items[n++].v = m->exact_match;
        items[n].name = "f1", items[n++].v = m->f1;
        break;
    default:
        items[n].name = "perplexity", items[n++].v = m->perplexity;
        break;
    }
    items[n].name = "loss", items[n++].v = m->loss;
    for (i = 0; i < n; i++) {
        if (json) {
            fprintf(f, "%s\"%s\":", i ? "," : "", items[i].name);
            tool_json_float(f, (float)items[i].v, 8);
        } else {
            fprintf(f, "%s%s %.4f", i ? " " : "", items[i].name, items[i].v);
        }
    }
}

static void clear_bar(train_state *s) {
    if (s->tty && s->bar_at > 0) {
        fputs("\r\033[K", stdout);
    }
}

static void draw_bar(train_state *s, const lm_fit_progress *p) {
    enum { W = 24 };
    char bar[W + 1];
    double frac = p->total_steps > 0 ? (double)p->step / (double)p->total_steps : 0.0;
    int i, fill = (int)(frac * W);
    double eta = p->eta_s;
    for (i = 0; i < W; i++) {
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    }
    bar[W] = '\0';
    fprintf(stdout, "\r\033[K%s step %lld/%lld [%s] %3.0f%% epoch %d loss %.4f %.1f ex/s ETA ",
            s->name, (long long)p->step, (long long)p->total_steps, bar, 100.0 * frac,
            (int)p->epoch, s->win_n > 0 ? s->win_sum / (double)s->win_n : NAN,
            p->examples_per_s);
    if (isfinite(eta)) {
        long e = (long)eta;
        if (e >= 3600) {
            fprintf(stdout, "%ld:%02ld:%02ld", e / 3600, e / 60 % 60, e % 60);
        } else {
            fprintf(stdout, "%ld:%02ld", e / 60, e % 60);
        }
    } else {
        fputs("?", stdout);
    }
    fflush(stdout);
    s->bar_at = now_s();
}

static int progress(const lm_fit_progress *p, void *user) {
    train_state *s = user;
    s->last = *p;
    switch (p->event) {
    case LM_FIT_START:
        s->prep_s = now_s() - s->t_start;
        s->task = p->task;
        s->num_labels = p->num_labels;
        s->total_steps = p->total_steps;
        s->steps_per_epoch = p->steps_per_epoch;
        s->train_rows = p->train_rows;
        s->dev_rows = p->dev_rows;
        if (s->name == NULL) {
            snprintf(s->name_buf, sizeof s->name_buf, "[%s]", task_label(p->task));
        } else {
            snprintf(s->name_buf, sizeof s->name_buf, "[%s]", s->name);
        }
        s->name = s->name_buf;
        printf("%s model %s\n", s->name, s->model_dir);
        printf("%s train %lld rows, dev %lld rows, max_length %d; prep %.1f s\n", s->name,
               (long long)p->train_rows, (long long)p->dev_rows, (int)p->max_length,
               s->prep_s);
        printf("%s %lld epoch(s) x %lld steps, batch %d, lr %g, warmup ratio %g, weight decay "
               "%g, seed %llu, threads %d%s\n",
               s->name, (long long)((p->total_steps + p->steps_per_epoch - 1) /
                                    p->steps_per_epoch),
               (long long)p->steps_per_epoch, (int)s->fo.batch_size, s->to.learning_rate,
               s->fo.warmup_ratio, s->to.weight_decay, (unsigned long long)s->to.seed,
               s->threads, p->first_step > 0 ? "" : "");
        if (p->first_step > 0) {
            printf("%s resumed at step %lld\n", s->name, (long long)p->first_step);
        }
        fflush(stdout);
        break;
    case LM_FIT_STEP:
        s->win_sum += p->loss;
        s->win_n++;
        if (s->tty && (now_s() - s->bar_at > 0.2 || p->step == p->total_steps)) {
            draw_bar(s, p);
        }
        break;
    case LM_FIT_LOG:
        s->win_sum = 0.0;
        s->win_n = 0;
        fprintf(s->log, "%s{\"step\":%lld,\"epoch\":%.4f,\"loss\":", s->n_log++ ? "," : "",
                (long long)p->step, p->epoch_float);
        tool_json_float(s->log, (float)p->loss, 8);
        fprintf(s->log, ",\"lr\":%.6g,\"grad_norm\":", p->learning_rate);
        tool_json_float(s->log, (float)p->grad_norm, 6);
        fprintf(s->log, ",\"elapsed_s\":%.2f}", p->elapsed_s);
        if (!s->tty) {
            printf("%s step %lld/%lld epoch %d loss %.4f lr %.3e grad_norm %.3f (%.1f s, %.1f "
                   "ex/s)\n",
                   s->name, (long long)p->step, (long long)p->total_steps, (int)p->epoch,
                   p->loss, p->learning_rate, p->grad_norm, p->elapsed_s, p->examples_per_s);
            fflush(stdout);
        }
        break;
    case LM_FIT_EVAL:
        clear_bar(s);
        s->eval_s += p->metrics->eval_s;
        if (p->steps_per_epoch > 0 && p->step % p->steps_per_epoch == 0) {
            printf("%s epoch %lld dev ", s->name, (long long)(p->step / p->steps_per_epoch));
        } else {
            printf("%s step %lld dev ", s->name, (long long)p->step);
        }
        put_metrics(stdout, p->metrics, s->task, s->num_labels, 0);
        printf(" (eval %.1f s)%s\n", p->metrics->eval_s, p->is_best ? " best" : "");
        fflush(stdout);
        fprintf(s->epochs, "%s{\"epoch\":%.4f,\"step\":%lld,\"eval_s\":%.2f,", s->n_epochs++ ? ","
                                                                                          : "",
                p->epoch_float, (long long)p->step, p->metrics->eval_s);
        put_metrics(s->epochs, p->metrics, s->task, s->num_labels, 1);
        fputc('}', s->epochs);
        break;
    case LM_FIT_CHECKPOINT:
        if (s->verbose) {
            clear_bar(s);
            printf("%s checkpoint %s\n", s->name, p->path);
            fflush(stdout);
        }
        break;
    case LM_FIT_END:
        clear_bar(s);
        if (p->metrics != NULL) {
            s->final = *p->metrics;
            s->has_final = 1;
        }
        s->stopped = p->stopped;
        break;
    default:
        break;
    }
    return interrupted ? 1 : 0;
}

static double peak_rss_mib(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0.0;
}

static double cpu_s(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return 0.0;
    }
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static void put_str(FILE *f, const char *key, const char *v) {
    fprintf(f, ",\"%s\":", key);
    if (v == NULL) {
        fputs("null", f);
    } else {
        tool_json_string(f, v, strlen(v));
    }
}

/* OUT/results.json: the layout of scripts/reference_finetune.py's --out. */
static int write_results(train_state *s, int argc, char **argv) {
    tool_output out;
    char *path;
    const lm_fit_progress *p = &s->last;
    const char *name = s->name_buf[0] != '\0' ? s->name_buf + 1 : task_label(s->task);
    size_t nlen = strlen(name);
    int i, rc;
    path = malloc(strlen(s->fo.out_dir) + 16);
    if (path == NULL) {
        return 1;
    }
    sprintf(path, "%s/results.json", s->fo.out_dir);
    if (tool_output_open(&out, "train", path) != 0) {
        free(path);
        return 1;
    }
    if (nlen > 0 && name[nlen - 1] == ']') {
        nlen--;
    }
    fprintf(out.f, "{\"meta\":{\"impl\":\"liblm\",\"version\":\"%s\",\"blas\":", lm_version_string());
    tool_json_string(out.f, lm_blas_info(), strlen(lm_blas_info()));
    fprintf(out.f, ",\"threads\":%d,\"argv\":[", s->threads);
    for (i = 1; i < argc; i++) {
        fputs(i > 1 ? "," : "", out.f);
        tool_json_string(out.f, argv[i], strlen(argv[i]));
    }
    fputs("]},\"tasks\":{", out.f);
    tool_json_string(out.f, name, nlen);
    fprintf(out.f, ":{\"task\":\"%s\",\"metrics\":{", task_label(s->task));
    if (s->has_final) {
        put_metrics(out.f, &s->final, s->task, s->num_labels, 1);
    }
    fflush(s->epochs);
    fflush(s->log);
    fprintf(out.f, "},\"epochs\":[%.*s],\"log\":[%.*s]", (int)s->epochs_len, s->epochs_text,
            (int)s->log_len, s->log_text);
    fprintf(out.f, ",\"hyper\":{\"lr\":%g,\"epochs\":%d,\"max_steps\":%lld,\"steps\":%lld,"
                   "\"batch_size\":%d,\"eval_batch_size\":%d,\"warmup_ratio\":%g,"
                   "\"weight_decay\":%g,\"max_grad_norm\":%g,\"seed\":%llu,\"threads\":%d,"
                   "\"optimizer\":\"%s\",\"schedule\":\"%s\",\"dropout\":%s,"
                   "\"accumulation_steps\":%d}",
            s->to.learning_rate, (int)s->fo.epochs, (long long)s->fo.max_steps,
            (long long)s->total_steps, (int)s->fo.batch_size, (int)s->fo.eval_batch_size,
            s->fo.warmup_ratio, s->to.weight_decay, s->to.max_grad_norm,
            (unsigned long long)s->to.seed, s->threads,
            s->to.optimizer == LM_OPTIMIZER_SGD ? "sgd" : s->to.optimizer == LM_OPTIMIZER_ADAM
                                                              ? "adam" : "adamw",
            s->to.schedule == LM_SCHEDULE_COSINE ? "cosine" : s->to.schedule == LM_SCHEDULE_CONSTANT
                                                                  ? "constant" : "linear",
            s->to.dropout ? "true" : "false", (int)s->to.accumulation_steps);
    fputs(",\"data\":{\"model\":", out.f);
    tool_json_string(out.f, s->model_dir, strlen(s->model_dir));
    put_str(out.f, "train_file", s->fo.train_path);
    put_str(out.f, "dev_file", s->fo.dev_path);
    fprintf(out.f, ",\"train_rows\":%lld,\"dev_rows\":%lld,\"max_length\":%d}",
            (long long)s->train_rows, (long long)s->dev_rows, (int)p->max_length);
    fprintf(out.f, ",\"first_step\":%lld,\"last_step\":%lld,\"stopped\":%s",
            (long long)p->first_step, (long long)p->step, s->stopped ? "true" : "false");
    fprintf(out.f, ",\"train_s\":%.2f,\"eval_s\":%.2f,\"prep_s\":%.2f,\"cpu_s\":%.2f,"
                   "\"rows_trained\":%lld,\"tokens_trained\":%lld,\"examples_per_s\":%.2f,"
                   "\"tokens_per_s\":%.1f,\"peak_rss_mib\":%.1f}}}\n",
            p->elapsed_s, s->eval_s, s->prep_s, cpu_s(), (long long)p->examples,
            (long long)p->tokens, p->examples_per_s, p->tokens_per_s, peak_rss_mib());
    rc = tool_output_close(&out, 1);
    free(path);
    return rc;
}

/* The dev metric plotted: the task's main one. */
static const char *plot_metric(int task) {
    switch (task) {
    case LM_TASK_CLASSIFICATION: return "accuracy";
    case LM_TASK_REGRESSION: return "pearson";
    case LM_TASK_TOKEN_CLASSIFICATION:
    case LM_TASK_QUESTION_ANSWERING: return "f1";
    default: return "perplexity";
    }
}

int cmd_train(int argc, char **argv) {
    train_state s;
    tool_opts o;
    lm_metrics m;
    lm_status st;
    int code;
    struct sigaction sa;
    memset(&s, 0, sizeof s);
    memset(&o, 0, sizeof o);
    lm_fit_options_init(&s.fo, sizeof s.fo);
    lm_trainer_options_init(&s.to, sizeof s.to);
    s.fo.warmup_ratio = 0.1; /* the recipe's (docs/finetune.md) */
    s.to.weight_decay = 0.01;
    if ((code = tool_parse_args(&train_cmd, &o, argc, argv, &s)) >= 0) {
        return code;
    }
    if (o.model_dir == NULL || s.fo.train_path == NULL || s.fo.out_dir == NULL) {
        return tool_usage_error(&train_cmd, "%s is required",
                                o.model_dir == NULL ? "--model DIR"
                                : s.fo.train_path == NULL ? "--train FILE"
                                                          : "--out DIR");
    }
    tool_log_to_stderr(&train_cmd, o.verbose);
    if (o.verbose) {
        fprintf(stderr, "lm train: %s\n", lm_blas_info());
    }
    s.model_dir = o.model_dir;
    s.verbose = o.verbose;
    s.to.threads = o.threads;
    s.threads = o.threads;
    if (s.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        const char *env = getenv("OMP_NUM_THREADS");
        s.threads = env != NULL && atoi(env) > 0 ? atoi(env) : n > 0 ? (int)n : 1;
    }
    s.tty = isatty(STDOUT_FILENO);
    s.log = open_memstream(&s.log_text, &s.log_len);
    s.epochs = open_memstream(&s.epochs_text, &s.epochs_len);
    if (s.log == NULL || s.epochs == NULL) {
        fprintf(stderr, "lm train: out of memory\n");
        return 1;
    }
    s.fo.callback = progress;
    s.fo.user_data = &s;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    s.t_start = now_s();
    lm_metrics_init(&m, sizeof m);
    st = lm_fit(o.model_dir, &s.fo, &s.to, &m);
    clear_bar(&s);
    if (st != LM_OK) {
        fprintf(stderr, "lm train: %s\n", lm_last_error());
        code = 1;
    } else {
        const lm_fit_progress *p = &s.last;
        printf("%s done: train %.1f s, %.1f examples/s, %.0f tokens/s, eval %.1f s, peak RSS "
               "%.0f MiB\n",
               s.name, p->elapsed_s, p->examples_per_s, p->tokens_per_s, s.eval_s,
               peak_rss_mib());
        if (s.has_final) {
            printf("%s saved %s: dev ", s.name, s.fo.out_dir);
            put_metrics(stdout, &s.final, s.task, s.num_labels, 0);
            putchar('\n');
        } else {
            printf("%s saved %s\n", s.name, s.fo.out_dir);
        }
        code = write_results(&s, argc, argv);
        if (s.stopped && interrupted) {
            printf("%s stopped at step %lld: continue with --resume %s\n", s.name,
                   (long long)p->step, s.fo.out_dir);
            code = 130;
        }
    }
    fflush(stdout);
    if (s.plot != NULL && code != 1) {
        char *csv = malloc(strlen(s.fo.out_dir) + 16);
        if (csv == NULL) {
            code = 1;
        } else {
            sprintf(csv, "%s/metrics.csv", s.fo.out_dir);
            char title[128];
            size_t n = strlen(s.name_buf);
            snprintf(title, sizeof title, "%.*s: training loss and dev %s",
                     n > 2 ? (int)n - 2 : 8, n > 2 ? s.name_buf + 1 : "lm train",
                     plot_metric(s.task));
            if (tool_plot_svg(csv, s.plot, plot_metric(s.task), title) != 0) {
                code = 1;
            }
            free(csv);
        }
    }
    fclose(s.log);
    fclose(s.epochs);
    free(s.log_text);
    free(s.epochs_text);
    return code;
}
