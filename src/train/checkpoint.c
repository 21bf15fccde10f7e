/* Checkpoints of a fine-tuning run: writing a checkpoint folder atomically, finding the newest
 * complete one, and reading back the trainer state and the optimizer's slabs. See checkpoint.h. */
#define _POSIX_C_SOURCE 200809L
#include "train/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/file.h"
#include "base/json.h"
#include "safetensors/safetensors.h"
#include "train/fit.h"
#include "train/trainer.h"

#define STATE_FILE "trainer_state.json"
#define OPTIM_FILE "optimizer.safetensors"
#define STATE_FORMAT "liblm trainer state"
#define STATE_MAX_BYTES ((size_t)256 << 20)

uint64_t lmi_fnv1a(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void lmi_fit_state_free(lmi_fit_state *st) {
    if (st != NULL) {
        lmi_free(st->rows);
        st->rows = NULL;
        st->n_rows = st->cap_rows = 0;
    }
}

/* Copies the eval fields of `from` that are set into `to`. */
static void merge_row(lmi_fit_row *to, const lmi_fit_row *from) {
    if (!isnan(from->loss)) {
        to->loss = from->loss;
        to->lr = from->lr;
        to->grad_norm = from->grad_norm;
    }
    if (from->has_eval) {
        to->has_eval = 1;
        to->eval = from->eval;
    }
    to->epoch = from->epoch;
}

lm_status lmi_fit_state_add_row(lmi_fit_state *st, const lmi_fit_row *row) {
    if (st->n_rows > 0 && st->rows[st->n_rows - 1].step == row->step) {
        merge_row(&st->rows[st->n_rows - 1], row);
        return LM_OK;
    }
    if (st->n_rows == st->cap_rows) {
        size_t cap = st->cap_rows ? 2 * st->cap_rows : 64;
        lmi_fit_row *r = lmi_realloc_array(st->rows, cap, sizeof *r);
        if (r == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory for the metrics history");
        }
        st->rows = r;
        st->cap_rows = cap;
    }
    st->rows[st->n_rows++] = *row;
    return LM_OK;
}

/* ---- trainer_state.json ---- */

/* The eval fields of a row, by name (NaN ones are left out). */
typedef struct eval_field {
    const char *name;
    size_t offset;
} eval_field;

#define EF(f) {"eval_" #f, offsetof(lm_metrics, f)}
static const eval_field eval_fields[] = {
    EF(loss),      EF(accuracy), EF(f1),       EF(f1_binary), EF(precision), EF(recall),
    EF(exact_match), EF(pearson), EF(spearman), EF(mse),       EF(perplexity), EF(main),
    {"eval_runtime", offsetof(lm_metrics, eval_s)},
};
#undef EF
#define N_EVAL_FIELDS (sizeof eval_fields / sizeof eval_fields[0])

static double *eval_at(lm_metrics *m, size_t i) {
    return (double *)((char *)m + eval_fields[i].offset);
}

static int add_num(cJSON *o, const char *key, double v) {
    return cJSON_AddItemToObject(o, key, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

static int add_u64(cJSON *o, const char *key, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static int add_hash(cJSON *o, const char *key, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static char *state_json(const lmi_fit_state *st) {
    cJSON *root = cJSON_CreateObject(), *hist = NULL;
    char *text = NULL;
    size_t i, k;
    int ok = root != NULL;
    ok = ok && cJSON_AddStringToObject(root, "format", STATE_FORMAT) != NULL;
    ok = ok && add_num(root, "version", 1);
    ok = ok && cJSON_AddStringToObject(root, "task", lmi_task_name(st->task)) != NULL;
    ok = ok && add_num(root, "step", (double)st->step);
    ok = ok && add_u64(root, "calls", st->calls);
    ok = ok && add_num(root, "epoch", (double)st->epoch);
    ok = ok && add_num(root, "batch", (double)st->batch);
    ok = ok && add_num(root, "total_steps", (double)st->total_steps);
    ok = ok && add_num(root, "batch_size", (double)st->batch_size);
    ok = ok && add_num(root, "accumulation_steps", (double)st->accumulation);
    ok = ok && add_num(root, "optimizer", st->optimizer);
    ok = ok && add_num(root, "threads", st->threads);
    ok = ok && add_u64(root, "seed", st->seed);
    ok = ok && add_hash(root, "model_config_hash", st->model_hash);
    ok = ok && add_hash(root, "data_hash", st->data_hash);
    ok = ok && add_num(root, "grad_norm", st->grad_norm);
    ok = ok && add_num(root, "learning_rate", st->last_lr);
    ok = ok && add_num(root, "window_loss", st->win_loss);
    ok = ok && add_num(root, "window_steps", (double)st->win_n);
    ok = ok && add_num(root, "best_metric", st->has_best ? st->best : NAN);
    ok = ok && add_num(root, "best_step", (double)st->best_step);
    ok = ok && add_num(root, "evals_without_improvement", st->bad_evals);
    ok = ok && (hist = cJSON_AddArrayToObject(root, "log_history")) != NULL;
    for (i = 0; ok && i < st->n_rows; i++) {
        const lmi_fit_row *r = &st->rows[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && cJSON_AddItemToArray(hist, o);
        ok = ok && add_num(o, "step", (double)r->step) && add_num(o, "epoch", r->epoch);
        if (ok && !isnan(r->loss)) {
            ok = add_num(o, "loss", r->loss) && add_num(o, "learning_rate", r->lr) &&
                 add_num(o, "grad_norm", r->grad_norm);
        }
        if (ok && r->has_eval) {
            lm_metrics e = r->eval;
            ok = add_num(o, "eval_examples", (double)e.examples);
            for (k = 0; ok && k < N_EVAL_FIELDS; k++) {
                if (!isnan(*eval_at(&e, k))) {
                    ok = add_num(o, eval_fields[k].name, *eval_at(&e, k));
                }
            }
        }
    }
    if (ok) {
        text = lmi_json_print(root);
    }
    cJSON_Delete(root);
    return text;
}

static double get_num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A whole number field: LM_ERR_FORMAT naming it when absent or not whole. */
static lm_status get_int(const cJSON *o, const char *key, const char *path, int64_t *out) {
    double v = get_num(o, key);
    if (!(v >= -9007199254740992.0 && v <= 9007199254740992.0) || v != floor(v)) {
        return lmi_error(LM_ERR_FORMAT, "%s: \"%s\" is missing or not a whole number", path, key);
    }
    *out = (int64_t)v;
    return LM_OK;
}

static lm_status get_u64(const cJSON *o, const char *key, const char *path, int base,
                         uint64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char *end = NULL;
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
        return lmi_error(LM_ERR_FORMAT, "%s: \"%s\" is missing", path, key);
    }
    errno = 0;
    *out = strtoull(v->valuestring, &end, base);
    if (errno != 0 || *end != '\0') {
        return lmi_error(LM_ERR_FORMAT, "%s: \"%s\" is not a number", path, key);
    }
    return LM_OK;
}

static int task_from_name(const char *name) {
    int t;
    for (t = LM_TASK_CLASSIFICATION; t <= LM_TASK_MASKED_LM; t++) {
        if (strcmp(name, lmi_task_name(t)) == 0) {
            return t;
        }
    }
    return LM_TASK_AUTO;
}

lm_status lmi_checkpoint_read_state(const char *ckpt, lmi_fit_state *st) {
    cJSON *root = NULL;
    const cJSON *v, *hist, *item;
    char *path = lmi_path_join(ckpt, STATE_FILE);
    int64_t x;
    lm_status s;
    memset(st, 0, sizeof *st);
    if (path == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    s = lmi_json_parse_file(path, STATE_MAX_BYTES, &root);
    if (s != LM_OK) {
        lmi_free(path);
        return s;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsObject(root) || !cJSON_IsString(v) || strcmp(v->valuestring, STATE_FORMAT) != 0 ||
        get_num(root, "version") != 1) {
        s = lmi_error(LM_ERR_FORMAT, "%s: not a liblm trainer state (version 1)", path);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "task");
    st->task = cJSON_IsString(v) ? task_from_name(v->valuestring) : LM_TASK_AUTO;
    if (st->task == LM_TASK_AUTO) {
        s = lmi_error(LM_ERR_FORMAT, "%s: \"task\" is missing or unknown", path);
        goto done;
    }
#define INT_FIELD(key, dst)                                                                       \
    if (s == LM_OK && (s = get_int(root, key, path, &x)) == LM_OK) {                              \
        dst = x;                                                                                  \
    }
    s = LM_OK;
    INT_FIELD("step", st->step)
    INT_FIELD("epoch", st->epoch)
    INT_FIELD("batch", st->batch)
    INT_FIELD("total_steps", st->total_steps)
    INT_FIELD("batch_size", st->batch_size)
    INT_FIELD("accumulation_steps", st->accumulation)
    INT_FIELD("optimizer", st->optimizer)
    INT_FIELD("threads", st->threads)
    INT_FIELD("window_steps", st->win_n)
    INT_FIELD("best_step", st->best_step)
    INT_FIELD("evals_without_improvement", st->bad_evals)
#undef INT_FIELD
    if (s == LM_OK) {
        s = get_u64(root, "calls", path, 10, &st->calls);
    }
    if (s == LM_OK) {
        s = get_u64(root, "seed", path, 10, &st->seed);
    }
    if (s == LM_OK) {
        s = get_u64(root, "model_config_hash", path, 16, &st->model_hash);
    }
    if (s == LM_OK) {
        s = get_u64(root, "data_hash", path, 16, &st->data_hash);
    }
    if (s != LM_OK) {
        goto done;
    }
    if (st->step < 0 || st->epoch < 0 || st->batch < 0 || st->batch_size < 1 ||
        st->accumulation < 1) {
        s = lmi_error(LM_ERR_FORMAT, "%s: negative step, epoch or batch", path);
        goto done;
    }
    st->grad_norm = get_num(root, "grad_norm");
    st->last_lr = get_num(root, "learning_rate");
    st->win_loss = get_num(root, "window_loss");
    st->best = get_num(root, "best_metric");
    st->has_best = !isnan(st->best);
    if (isnan(st->win_loss)) {
        st->win_loss = 0.0;
    }
    hist = cJSON_GetObjectItemCaseSensitive(root, "log_history");
    cJSON_ArrayForEach(item, hist) {
        lmi_fit_row r;
        size_t k;
        memset(&r, 0, sizeof r);
        if (get_int(item, "step", path, &x) != LM_OK) {
            s = lmi_error(LM_ERR_FORMAT, "%s: a log_history entry without a step", path);
            break;
        }
        r.step = x;
        r.epoch = get_num(item, "epoch");
        r.loss = get_num(item, "loss");
        r.lr = get_num(item, "learning_rate");
        r.grad_norm = get_num(item, "grad_norm");
        lmi_metrics_clear(&r.eval, st->task);
        r.eval.examples = (int64_t)get_num(item, "eval_examples");
        for (k = 0; k < N_EVAL_FIELDS; k++) {
            *eval_at(&r.eval, k) = get_num(item, eval_fields[k].name);
        }
        r.has_eval = cJSON_GetObjectItemCaseSensitive(item, "eval_examples") != NULL;
        s = lmi_fit_state_add_row(st, &r);
        if (s != LM_OK) {
            break;
        }
    }
done:
    cJSON_Delete(root);
    lmi_free(path);
    if (s != LM_OK) {
        lmi_fit_state_free(st);
    }
    return s;
}

/* ---- optimizer.safetensors ---- */

static const char *slab_prefix(const lm_trainer_t *t, int which) {
    if (t->o.optimizer == LM_OPTIMIZER_SGD) {
        return which == 0 ? "momentum_buffer." : NULL;
    }
    return which == 0 ? "exp_avg." : "exp_avg_sq.";
}

static float *slab_of(const lm_trainer_t *t, int which) {
    return which == 0 ? t->state1 : t->state2;
}

static lm_status write_optimizer(const char *dir, const lm_trainer_t *t) {
    const lmi_bert *m = t->m;
    lmi_st_write *ws = lmi_calloc(2 * m->nparams + 1, sizeof *ws);
    char (*names)[LM_BERT_NAME_MAX + 24] = lmi_calloc(2 * m->nparams + 1, sizeof *names);
    char *path = lmi_path_join(dir, OPTIM_FILE);
    static const char *const names_opt[] = {"adamw", "adam", "sgd"};
    const char *meta[] = {"format", "pt", "optimizer", names_opt[t->o.optimizer], NULL};
    size_t i, n = 0;
    int which;
    lm_status s;
    if (ws == NULL || names == NULL || path == NULL) {
        lmi_free(ws);
        lmi_free(names);
        lmi_free(path);
        return lmi_error(LM_ERR_NOMEM, "out of memory writing the optimizer state");
    }
    for (which = 0; which < 2; which++) {
        const char *prefix = slab_prefix(t, which);
        const float *slab = slab_of(t, which);
        if (prefix == NULL || slab == NULL) {
            continue;
        }
        for (i = 0; i < m->nparams; i++) {
            const lmi_bert_param *p = &m->params[i];
            if (*p->slot == NULL) {
                continue;
            }
            snprintf(names[n], sizeof names[n], "%s%s", prefix, p->name);
            ws[n].name = names[n];
            ws[n].dtype = LM_DTYPE_F32;
            ws[n].ndim = p->ndim;
            ws[n].shape[0] = p->shape[0];
            ws[n].shape[1] = p->shape[1];
            ws[n].data = slab + p->offset;
            n++;
        }
    }
    s = lmi_safetensors_write(path, ws, n, meta);
    lmi_free(ws);
    lmi_free(names);
    lmi_free(path);
    return s;
}

lm_status lmi_checkpoint_load_optimizer(const char *ckpt, lm_trainer_t *t,
                                        const lmi_fit_state *st) {
    const lmi_bert *m = t->m;
    lmi_safetensors *sf = NULL;
    char *path = lmi_path_join(ckpt, OPTIM_FILE);
    size_t i;
    int which;
    lm_status s;
    if (path == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    s = lmi_safetensors_open(path, &sf);
    for (which = 0; s == LM_OK && which < 2; which++) {
        const char *prefix = slab_prefix(t, which);
        float *slab = slab_of(t, which);
        if (prefix == NULL || slab == NULL) {
            continue;
        }
        for (i = 0; s == LM_OK && i < m->nparams; i++) {
            const lmi_bert_param *p = &m->params[i];
            const lmi_st_tensor *x = NULL;
            char name[LM_BERT_NAME_MAX + 24];
            if (*p->slot == NULL) {
                continue;
            }
            snprintf(name, sizeof name, "%s%s", prefix, p->name);
            s = lmi_safetensors_expect(sf, name, p->ndim, p->shape, &x);
            if (s == LM_OK) {
                s = lmi_tensor_to_f32(x, slab + p->offset);
            }
        }
    }
    lmi_safetensors_close(sf);
    lmi_free(path);
    if (s != LM_OK) {
        return s;
    }
    t->updates = st->step;
    t->calls = st->calls;
    t->grad_norm = isnan(st->grad_norm) ? 0.0 : st->grad_norm;
    t->accumulated = 0;
    return LM_OK;
}

/* ---- the folders ---- */

/* The step of a "checkpoint-STEP" name, or -1. */
static int64_t checkpoint_step(const char *name) {
    const char *p = name + 11;
    int64_t v = 0;
    if (strncmp(name, "checkpoint-", 11) != 0 || *p == '\0') {
        return -1;
    }
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10) {
            return -1;
        }
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* The complete checkpoints of dir (steps, descending). *steps: lmi_free. */
static lm_status list_checkpoints(const char *dir, int64_t **steps, size_t *n) {
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0, i, j;
    *steps = NULL;
    *n = 0;
    if (d == NULL) {
        int err = errno;
        return lmi_error(lmi_status_from_errno(err), "cannot open the folder %s: %s", dir,
                         strerror(err));
    }
    while ((e = readdir(d)) != NULL) {
        int64_t step = checkpoint_step(e->d_name);
        char *state, *sub;
        int complete;
        if (step < 0) {
            continue;
        }
        sub = lmi_path_join(dir, e->d_name);
        state = sub != NULL ? lmi_path_join(sub, STATE_FILE) : NULL;
        complete = state != NULL && lmi_file_exists(state);
        lmi_free(sub);
        lmi_free(state);
        if (!complete) {
            continue;
        }
        if (*n == cap) {
            int64_t *q = lmi_realloc_array(*steps, cap ? 2 * cap : 16, sizeof *q);
            if (q == NULL) {
                closedir(d);
                lmi_free(*steps);
                *steps = NULL;
                return lmi_error(LM_ERR_NOMEM, "out of memory");
            }
            *steps = q;
            cap = cap ? 2 * cap : 16;
        }
        (*steps)[(*n)++] = step;
    }
    closedir(d);
    for (i = 1; i < *n; i++) { /* insertion sort, descending: few folders */
        int64_t v = (*steps)[i];
        for (j = i; j > 0 && (*steps)[j - 1] < v; j--) {
            (*steps)[j] = (*steps)[j - 1];
        }
        (*steps)[j] = v;
    }
    return LM_OK;
}

/* kind 0: checkpoint-STEP; 1: .checkpoint-STEP.tmp (being written); 2: .checkpoint-STEP.del
 * (being deleted). */
static char *checkpoint_path(const char *dir, int64_t step, int kind) {
    char name[64];
    snprintf(name, sizeof name,
             kind == 1 ? ".checkpoint-%lld.tmp" : kind == 2 ? ".checkpoint-%lld.del" : "checkpoint-%lld",
             (long long)step);
    return lmi_path_join(dir, name);
}

/* Deletes a checkpoint folder: renamed out of the way first (one atomic step), so a deletion cut
 * short never leaves a checkpoint-STEP folder that is not whole. */
static lm_status remove_checkpoint(const char *dir, int64_t step) {
    char *from = checkpoint_path(dir, step, 0), *to = checkpoint_path(dir, step, 2);
    lm_status s = LM_OK;
    if (from == NULL || to == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory");
    } else if (lmi_dir_exists(from)) {
        s = lmi_dir_remove(to, NULL);
        if (s == LM_OK && rename(from, to) != 0) {
            int err = errno;
            s = lmi_error(lmi_status_from_errno(err), "cannot rename %s to %s: %s", from, to,
                          strerror(err));
        }
        if (s == LM_OK) {
            s = lmi_dir_remove(to, STATE_FILE);
        }
    }
    lmi_free(from);
    lmi_free(to);
    return s;
}

lm_status lmi_checkpoint_find(const char *dir, char **path_out) {
    char *state = lmi_path_join(dir, STATE_FILE);
    int64_t *steps = NULL;
    size_t n = 0;
    lm_status s;
    *path_out = NULL;
    if (state == NULL) {
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    if (lmi_file_exists(state)) {
        lmi_free(state);
        *path_out = lmi_strdup(dir);
        return *path_out != NULL ? LM_OK : lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    lmi_free(state);
    if (!lmi_dir_exists(dir)) {
        return lmi_error(LM_ERR_NOT_FOUND, "%s: no such folder to resume from", dir);
    }
    s = list_checkpoints(dir, &steps, &n);
    if (s != LM_OK) {
        return s;
    }
    if (n == 0) {
        s = lmi_error(LM_ERR_NOT_FOUND,
                      "%s holds no complete checkpoint to resume from (a checkpoint-STEP folder "
                      "with " STATE_FILE ")",
                      dir);
    } else if ((*path_out = checkpoint_path(dir, steps[0], 0)) == NULL) {
        s = lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    lmi_free(steps);
    return s;
}

int lmi_checkpoint_dir_has_run(const char *dir, char *what, size_t what_cap) {
    static const char *const files[] = {"metrics.csv", STATE_FILE, "model.safetensors",
                                        "config.json", "best"};
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    size_t i;
    if (d == NULL) {
        return 0;
    }
    while (!found && (e = readdir(d)) != NULL) {
        found = checkpoint_step(e->d_name) >= 0;
        for (i = 0; !found && i < sizeof files / sizeof *files; i++) {
            found = strcmp(e->d_name, files[i]) == 0;
        }
        if (found) {
            snprintf(what, what_cap, "%s", e->d_name);
        }
    }
    closedir(d);
    return found;
}

/* 1 for the name of a temporary file of an atomic write that was cut short ("NAME.tmp.XXXXXX"). */
static int stale_temporary(const char *name) {
    size_t len = strlen(name);
    return len > 11 && strncmp(name + len - 11, ".tmp.", 5) == 0;
}

/* Removes the stale temporary files of an atomic write in dir (a run killed while writing). */
static lm_status remove_stale(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    lm_status s = LM_OK;
    if (d == NULL) {
        return LM_OK;
    }
    while (s == LM_OK && (e = readdir(d)) != NULL) {
        if (stale_temporary(e->d_name)) {
            char *p = lmi_path_join(dir, e->d_name);
            if (p == NULL) {
                s = lmi_error(LM_ERR_NOMEM, "out of memory");
            } else if (unlink(p) != 0 && errno != ENOENT) {
                int err = errno;
                s = lmi_error(lmi_status_from_errno(err), "cannot remove %s: %s", p,
                              strerror(err));
            }
            lmi_free(p);
        }
    }
    closedir(d);
    return s;
}

lm_status lmi_checkpoint_clean(const char *dir, int tmp_only) {
    DIR *d = opendir(dir);
    struct dirent *e;
    lm_status s = LM_OK;
    char *best;
    if (d == NULL) {
        return LM_OK;
    }
    while (s == LM_OK && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int tmp = strncmp(e->d_name, ".checkpoint-", 12) == 0 && len > 16 &&
                  (strcmp(e->d_name + len - 4, ".tmp") == 0 ||
                   strcmp(e->d_name + len - 4, ".del") == 0);
        if (tmp || (!tmp_only && (checkpoint_step(e->d_name) >= 0 ||
                                  strcmp(e->d_name, "best") == 0))) {
            char *p = lmi_path_join(dir, e->d_name);
            s = p != NULL ? lmi_dir_remove(p, STATE_FILE) : lmi_error(LM_ERR_NOMEM, "out of memory");
            lmi_free(p);
        }
    }
    closedir(d);
    if (s == LM_OK) {
        s = remove_stale(dir);
    }
    best = s == LM_OK ? lmi_path_join(dir, "best") : NULL;
    if (s == LM_OK) {
        s = best != NULL ? remove_stale(best) : lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    lmi_free(best);
    return s;
}

/* Removes a failed checkpoint's temporary folder, keeping the error that made it fail. */
static lm_status fail_cleanup(const char *tmp, lm_status s) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", lmi_last_error());
    (void)lmi_dir_remove(tmp, NULL);
    return lmi_error(s, "%s", msg);
}

lm_status lmi_checkpoint_save(const char *out_dir, const lmi_bert *m, const lm_tokenizer_t *tok,
                              const lm_trainer_t *t, const lmi_fit_state *st, int keep,
                              char **path_out) {
    char *tmp = checkpoint_path(out_dir, st->step, 1), *final = checkpoint_path(out_dir, st->step, 0);
    char *state = NULL, *json = NULL;
    int64_t *steps = NULL;
    size_t n = 0, i;
    lm_status s;
    if (path_out != NULL) {
        *path_out = NULL;
    }
    if (tmp == NULL || final == NULL) {
        lmi_free(tmp);
        lmi_free(final);
        return lmi_error(LM_ERR_NOMEM, "out of memory");
    }
    s = lmi_dir_remove(tmp, NULL); /* a leftover of a run killed while saving */
    if (s == LM_OK) {
        s = lmi_dir_make(tmp);
    }
    if (s != LM_OK) {
        goto done;
    }
    s = lmi_model_dir_save(m, tok, tmp);
    if (s == LM_OK) {
        s = write_optimizer(tmp, t);
    }
    if (s == LM_OK) {
        json = state_json(st);
        state = lmi_path_join(tmp, STATE_FILE);
        s = json == NULL || state == NULL
                ? lmi_error(LM_ERR_NOMEM, "out of memory writing the trainer state")
                : lmi_file_write_atomic(state, json, strlen(json));
    }
    if (s == LM_OK) {
        s = lmi_dir_sync(tmp);
    }
    if (s == LM_OK) {
        s = remove_checkpoint(out_dir, st->step); /* the same step saved again after a resume */
    }
    if (s == LM_OK && rename(tmp, final) != 0) {
        int err = errno;
        s = lmi_error(lmi_status_from_errno(err), "cannot rename %s to %s: %s", tmp, final,
                      strerror(err));
    }
    if (s != LM_OK) {
        s = fail_cleanup(tmp, s);
        goto done;
    }
    s = lmi_dir_sync(out_dir);
    if (s == LM_OK) {
        s = list_checkpoints(out_dir, &steps, &n);
    }
    /* keep the newest, and drop any later step (left by a run resumed from an earlier one) */
    for (i = 0, keep = keep > 0 ? keep : 1; s == LM_OK && i < n; i++) {
        if (steps[i] <= st->step && keep-- > 0) {
            continue;
        }
        s = remove_checkpoint(out_dir, steps[i]);
    }
    if (s == LM_OK && path_out != NULL) {
        *path_out = final;
        final = NULL;
    }
done:
    if (json != NULL) {
        cJSON_free(json);
    }
    lmi_free(steps);
    lmi_free(state);
    lmi_free(tmp);
    lmi_free(final);
    return s;
}
