/* lm serve: an HTTP server over one model, on libmicrohttpd (one thread per connection).
 *
 * Endpoints: OpenAI-compatible POST /v1/embeddings; Hugging Face text-embeddings-inference
 * (TEI) compatible POST /embed and POST /predict (classification); GET /health; GET /metrics
 * (Prometheus text). Loopback (127.0.0.1) unless --host says otherwise.
 *
 * Batching: a connection thread parses and checks its request, then puts it on one queue and
 * waits; a single worker thread takes the first request waiting with every other one of the
 * same kind and options (up to --max-batch texts) and answers them all with one lm_embed_texts
 * or lm_classify_texts call. Requests that arrive while the model runs are thus merged.
 *
 * Bounds: a body over --max-body bytes (413), more than --max-inputs inputs (413), invalid
 * UTF-8 or JSON (400) are refused before any work; at most --max-connections connections
 * (libmicrohttpd refuses more) and --max-queue texts waiting (503 beyond). Memory therefore
 * stays below about connections x (max-body + the answer of max-inputs embeddings).
 * Uses only lm.h of liblm, plus libmicrohttpd and cJSON. */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"

#ifndef LM_HAVE_MHD

#include <stdio.h>

int cmd_serve(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "lm serve: this lm was built without libmicrohttpd (install "
                    "libmicrohttpd-dev, then run make again)\n");
    return 1;
}

#else

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "args.h"
#include "io.h"
#include "lm.h"
#include "model_common.h"

/* ---- options -------------------------------------------------------------------------------- */

typedef struct serve_opts {
    const char *host;
    long long port, max_body, max_inputs, max_batch, max_connections, max_queue, timeout;
    long long forward_batch; /* texts per forward pass */
    const char *name; /* the model's name in answers (default: the folder's last part) */
} serve_opts;

static const tool_option options[] = {
    {"--host", "ADDR", "address to listen on, IPv4 or IPv6 (default 127.0.0.1: this machine "
                       "only; 0.0.0.0 or :: opens the server to the network)"},
    {"--port", "N", "TCP port, 0 to 65535 (default 8080; 0: any free port, printed at start)"},
    {"--max-body", "BYTES", "largest request body, 1 to 1073741824 (default 1048576); larger "
                            "is 413"},
    {"--max-inputs", "N", "most inputs in one request, 1 to 65536 (default 256); more is 413"},
    {"--max-batch", "N", "most texts merged into one model call, 1 to 65536 (default 256)"},
    {"--max-connections", "N", "open connections, 1 to 4096 (default 128): one thread each"},
    {"--max-queue", "N", "texts waiting for the model, 1 to 1048576 (default 8192); a request "
                         "beyond is 503"},
    {"--timeout", "S", "seconds an idle connection is kept, 1 to 3600 (default 30)"},
    {"--served-name", "NAME", "model name in OpenAI answers (default: the folder's name)"},
    {"--batch-size", "N", "texts per forward pass inside a model call, 1 to 1024 (default 1: "
                          "a forward pass costs its longest text times its size, and texts of "
                          "a server's requests differ in length)"},
    {NULL, NULL, NULL},
};

static int handle_opt(const tool_command *cmd, void *state, int index, const char *value) {
    serve_opts *o = state;
    switch (index) {
    case 0: o->host = value; return 0;
    case 1: return tool_parse_int(cmd, "--port", value, 0, 65535, &o->port);
    case 2: return tool_parse_int(cmd, "--max-body", value, 1, 1LL << 30, &o->max_body);
    case 3: return tool_parse_int(cmd, "--max-inputs", value, 1, 65536, &o->max_inputs);
    case 4: return tool_parse_int(cmd, "--max-batch", value, 1, 65536, &o->max_batch);
    case 5: return tool_parse_int(cmd, "--max-connections", value, 1, 4096, &o->max_connections);
    case 6: return tool_parse_int(cmd, "--max-queue", value, 1, 1 << 20, &o->max_queue);
    case 7: return tool_parse_int(cmd, "--timeout", value, 1, 3600, &o->timeout);
    case 8: o->name = value; return 0;
    default: return tool_parse_int(cmd, "--batch-size", value, 1, 1024, &o->forward_batch);
    }
}

static const tool_command serve_cmd = {
    "serve", "--model DIR [--host ADDR] [--port N] [OPTIONS]",
    "Serves the model over HTTP until SIGINT or SIGTERM:\n"
    "  POST /v1/embeddings  OpenAI: {\"input\": text or [texts], \"model\": name,\n"
    "                       \"encoding_format\": \"float\" or \"base64\"}\n"
    "  POST /embed          text-embeddings-inference: {\"inputs\": text or [texts],\n"
    "                       \"normalize\": true}\n"
    "  POST /predict        text-embeddings-inference: {\"inputs\": text, [text, pair] or a\n"
    "                       list of them, \"raw_scores\": false} (classification models)\n"
    "  GET /health, GET /metrics (Prometheus: requests, latency, tokens, batches)\n"
    "Requests that arrive together are answered by one model call. Errors are JSON with\n"
    "status 400 (invalid JSON, UTF-8 or fields), 404, 405, 413 (body or inputs over the\n"
    "limits) or 503 (queue full).\n",
    TOOL_MODEL | TOOL_THREADS | TOOL_MAX_LENGTH | TOOL_VERBOSE, options, handle_opt,
};

/* ---- metrics -------------------------------------------------------------------------------- */

enum { EP_EMBEDDINGS, EP_EMBED, EP_PREDICT, EP_HEALTH, EP_METRICS, EP_OTHER, N_EP };
static const char *const ep_names[N_EP] = {"/v1/embeddings", "/embed", "/predict", "/health",
                                           "/metrics", "other"};
static const unsigned codes[] = {200, 400, 404, 405, 413, 500, 503};
#define N_CODES (sizeof codes / sizeof codes[0])
static const double lat_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25,  0.5,    1,     2.5,  5,     10};
#define N_LAT (sizeof lat_bounds / sizeof lat_bounds[0])
static const double batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
#define N_BATCH (sizeof batch_bounds / sizeof batch_bounds[0])

typedef struct metrics {
    pthread_mutex_t lock;
    uint64_t requests[N_EP][N_CODES];
    uint64_t lat_bucket[N_EP][N_LAT + 1]; /* last: +Inf */
    double lat_sum[N_EP];
    uint64_t lat_count[N_EP];
    uint64_t tokens, inputs, batches;
    uint64_t batch_bucket[N_BATCH + 1];
    double batch_sum, busy_seconds;
} metrics;

/* ---- the queue of requests and the worker ----------------------------------------------------- */

enum { JOB_EMBED, JOB_CLASSIFY };

typedef struct job {
    int kind, key;      /* key: embed normalize (-1, 0, 1); classify function_to_apply */
    size_t n;           /* inputs */
    const char **a;     /* [n] texts (into the parsed JSON) */
    size_t *alen;       /* [n] */
    const char **b;     /* [n] second texts of classify ("" for a single text), else NULL */
    size_t *blen;       /* [n] */
    float *emb;         /* [n * C] embed answers */
    lm_label_score *ls; /* [n * L] classify answers, all labels best first */
    lm_status status;
    char error[512];
    int done;
    struct job *next;
} job;

typedef struct server {
    serve_opts o;
    lm_model_t *model;
    const lm_tokenizer_t *tok;
    lm_text_options to;
    size_t C, L;      /* hidden size; labels (0: not a classifier) */
    size_t count_max; /* token count limit used for the usage figures */
    const char *name;
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    job *head;
    size_t queued; /* texts waiting */
    int stopping;
    pthread_t worker;
    /* the worker's buffers */
    const char **wa, **wb;
    size_t *walen, *wblen, wcap;
    float *wemb;
    size_t wemb_cap;
    lm_label_score *wls;
    size_t wls_cap;
    metrics m;
} server;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void record(server *s, int ep, unsigned code, double seconds) {
    size_t c, b;
    metrics *m = &s->m;
    for (c = 0; c < N_CODES - 1 && codes[c] != code; c++) {
    }
    if (codes[c] != code) { /* other codes count as 500: there are none today */
        c = 5;
    }
    for (b = 0; b < N_LAT && seconds > lat_bounds[b]; b++) {
    }
    pthread_mutex_lock(&m->lock);
    m->requests[ep][c]++;
    m->lat_bucket[ep][b]++;
    m->lat_sum[ep] += seconds;
    m->lat_count[ep]++;
    pthread_mutex_unlock(&m->lock);
}

static int grow(void **p, size_t *cap, size_t n, size_t size) {
    return tool_reserve(p, cap, n, size) == LM_OK ? 0 : -1;
}

/* Runs jobs [list] (all of one kind and key) as one library call. Returns the status; on
 * failure lm_last_error() explains it. */
static lm_status run_call(server *s, job **list, size_t count, size_t total) {
    size_t i, k, at = 0;
    lm_text_options o = s->to;
    lm_status st;
    if (grow((void **)&s->wa, &s->wcap, total, sizeof *s->wa) != 0) {
        return LM_ERR_NOMEM;
    }
    /* wa's capacity is the capacity of the other three */
    if ((s->walen = realloc(s->walen, s->wcap * sizeof *s->walen)) == NULL ||
        (s->wb = realloc(s->wb, s->wcap * sizeof *s->wb)) == NULL ||
        (s->wblen = realloc(s->wblen, s->wcap * sizeof *s->wblen)) == NULL) {
        return LM_ERR_NOMEM;
    }
    for (i = 0; i < count; i++) {
        for (k = 0; k < list[i]->n; k++, at++) {
            s->wa[at] = list[i]->a[k];
            s->walen[at] = list[i]->alen[k];
            if (list[i]->b != NULL) {
                s->wb[at] = list[i]->b[k];
                s->wblen[at] = list[i]->blen[k];
            }
        }
    }
    if (list[0]->kind == JOB_EMBED) {
        if (grow((void **)&s->wemb, &s->wemb_cap, total * s->C, sizeof *s->wemb) != 0) {
            return LM_ERR_NOMEM;
        }
        o.normalize = list[0]->key;
        st = lm_embed_texts(s->model, total, s->wa, s->walen, &o, s->wemb, total * s->C);
        for (i = 0, at = 0; st == LM_OK && i < count; at += list[i]->n, i++) {
            memcpy(list[i]->emb, s->wemb + at * s->C, list[i]->n * s->C * sizeof *s->wemb);
        }
        return st;
    }
    if (grow((void **)&s->wls, &s->wls_cap, total * s->L, sizeof *s->wls) != 0) {
        return LM_ERR_NOMEM;
    }
    o.top_k = -1;
    o.function_to_apply = list[0]->key;
    st = lm_classify_texts(s->model, total, s->wa, s->walen, s->wb, s->wblen, &o, s->wls,
                           total * s->L, NULL);
    for (i = 0, at = 0; st == LM_OK && i < count; at += list[i]->n, i++) {
        memcpy(list[i]->ls, s->wls + at * s->L, list[i]->n * s->L * sizeof *s->wls);
    }
    return st;
}

static void finish_job(job *j, lm_status st) {
    j->status = st;
    if (st != LM_OK) {
        snprintf(j->error, sizeof j->error, "%s", lm_last_error());
    }
}

static void *worker_main(void *arg) {
    server *s = arg;
    job **list = NULL;
    size_t list_cap = 0;
    for (;;) {
        job *j, **pp;
        size_t count = 0, total = 0, i;
        double t0;
        lm_status st;
        pthread_mutex_lock(&s->lock);
        while (s->head == NULL && !s->stopping) {
            pthread_cond_wait(&s->work, &s->lock);
        }
        if (s->head == NULL) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        /* the first request, and every later one of the same kind and key that still fits */
        for (pp = &s->head; (j = *pp) != NULL;) {
            int fits = count == 0 || (j->kind == list[0]->kind && j->key == list[0]->key &&
                                      total + j->n <= (size_t)s->o.max_batch);
            if (fits && grow((void **)&list, &list_cap, count + 1, sizeof *list) == 0) {
                list[count++] = j;
                total += j->n;
                *pp = j->next;
            } else {
                pp = &j->next;
            }
        }
        pthread_mutex_unlock(&s->lock);

        t0 = now();
        st = run_call(s, list, count, total);
        if (st == LM_OK || count == 1) {
            for (i = 0; i < count; i++) {
                finish_job(list[i], st);
            }
        } else { /* one request may be at fault: each alone tells which */
            for (i = 0; i < count; i++) {
                finish_job(list[i], run_call(s, list + i, 1, list[i]->n));
            }
        }
        pthread_mutex_lock(&s->m.lock);
        s->m.batches++;
        s->m.batch_sum += (double)total;
        s->m.busy_seconds += now() - t0;
        for (i = 0; i < N_BATCH && (double)total > batch_bounds[i]; i++) {
        }
        s->m.batch_bucket[i]++;
        pthread_mutex_unlock(&s->m.lock);

        pthread_mutex_lock(&s->lock);
        for (i = 0; i < count; i++) {
            list[i]->done = 1;
        }
        s->queued -= total;
        pthread_cond_broadcast(&s->done);
        pthread_mutex_unlock(&s->lock);
    }
    free(list);
    return NULL;
}

/* Queues a job and waits for its answer. Returns 0, or -1 when the queue is full. */
static int submit(server *s, job *j) {
    pthread_mutex_lock(&s->lock);
    if (s->queued + j->n > (size_t)s->o.max_queue) {
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    j->next = NULL;
    if (s->head == NULL) {
        s->head = j;
    } else {
        job *t = s->head;
        while (t->next != NULL) {
            t = t->next;
        }
        t->next = j;
    }
    s->queued += j->n;
    pthread_cond_signal(&s->work);
    while (!j->done) {
        pthread_cond_wait(&s->done, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* ---- requests ------------------------------------------------------------------------------- */

/* One connection's request, kept between the calls of the access handler. */
typedef struct request {
    double start;
    int ep;
    char *body;
    size_t len, cap;
    int too_large;
} request;

/* A response body being written (open_memstream). */
typedef struct out {
    FILE *f;
    char *buf;
    size_t len;
} out;

static int out_open(out *o) {
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    return o->f != NULL ? 0 : -1;
}

static enum MHD_Result send_text(server *s, struct MHD_Connection *c, request *r, unsigned code,
                                 char *body, size_t len, const char *type) {
    struct MHD_Response *resp;
    enum MHD_Result ret;
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                r->ep == EP_HEALTH || r->ep == EP_METRICS ? "GET, HEAD" : "POST");
    }
    if (code == MHD_HTTP_SERVICE_UNAVAILABLE) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    }
    ret = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    record(s, r->ep, code, now() - r->start);
    return ret;
}

/* Sends an out stream (closed here) as JSON. */
static enum MHD_Result send_out(server *s, struct MHD_Connection *c, request *r, unsigned code,
                                out *o) {
    if (fclose(o->f) != 0) {
        free(o->buf);
        return MHD_NO;
    }
    return send_text(s, c, r, code, o->buf, o->len, "application/json");
}

/* A JSON error in the endpoint's habit: OpenAI {"error":{"message","type","param","code"}},
 * text-embeddings-inference {"error","error_type"}. */
static enum MHD_Result send_error(server *s, struct MHD_Connection *c, request *r, unsigned code,
                                  const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static enum MHD_Result send_error(server *s, struct MHD_Connection *c, request *r, unsigned code,
                                  const char *fmt, ...) {
    char msg[768];
    va_list ap;
    out o;
    const char *type = code == 503   ? "overloaded"
                       : code == 500 ? "backend"
                       : code == 404 ? "not_found"
                                     : "validation";
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (out_open(&o) != 0) {
        return MHD_NO;
    }
    if (r->ep == EP_EMBEDDINGS) {
        fputs("{\"error\":{\"message\":", o.f);
        tool_json_string(o.f, msg, strlen(msg));
        fprintf(o.f, ",\"type\":\"%s\",\"param\":null,\"code\":%u}}",
                code >= 500 ? "server_error" : "invalid_request_error", code);
    } else {
        fputs("{\"error\":", o.f);
        tool_json_string(o.f, msg, strlen(msg));
        fprintf(o.f, ",\"error_type\":\"%s\"}", type);
    }
    return send_out(s, c, r, code, &o);
}

/* The HTTP status of a library failure: the request's fault or the server's. */
static unsigned status_code(lm_status st) {
    switch (st) {
    case LM_ERR_INVALID_ARGUMENT:
    case LM_ERR_UTF8:
    case LM_ERR_RANGE: return 400;
    case LM_ERR_NOMEM: return 503;
    default: return 500;
    }
}

/* Texts of a JSON value: a string (n = 1, *single = 1) or an array of strings. Returns NULL
 * (message in err) when it is neither, empty or too long. The texts point into the JSON. */
static const char **texts_of(const cJSON *v, const char *field, size_t max, size_t *n,
                             int *single, char *err, size_t err_size, unsigned *code) {
    const char **t;
    const cJSON *x;
    size_t i = 0;
    *code = 400;
    *single = cJSON_IsString(v);
    if (*single) {
        *n = 1;
    } else if (cJSON_IsArray(v)) {
        *n = (size_t)cJSON_GetArraySize(v);
    } else {
        snprintf(err, err_size, "\"%s\" must be a string or an array of strings", field);
        return NULL;
    }
    if (*n == 0) {
        snprintf(err, err_size, "\"%s\" is empty", field);
        return NULL;
    }
    if (*n > max) {
        *code = 413;
        snprintf(err, err_size, "\"%s\" holds %zu inputs; the most is %zu (--max-inputs)", field,
                 *n, max);
        return NULL;
    }
    t = malloc(*n * sizeof *t);
    if (t == NULL) {
        *code = 503;
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (*single) {
        t[0] = v->valuestring;
        return t;
    }
    cJSON_ArrayForEach(x, v) {
        if (!cJSON_IsString(x)) {
            snprintf(err, err_size, "\"%s\"[%zu] is not a string%s", field, i,
                     cJSON_IsNumber(x) ? " (token ids are not accepted)" : "");
            free(t);
            return NULL;
        }
        t[i++] = x->valuestring;
    }
    return t;
}

/* Tokens the model sees for each input (truncated as the model truncates), summed, for the
 * usage figures and the metrics. */
static uint64_t count_tokens(server *s, size_t n, const char **a, const size_t *alen,
                             const char **b, const size_t *blen) {
    lm_encode_options eo;
    uint64_t total = 0;
    size_t i;
    lm_encode_options_init(&eo, sizeof eo);
    eo.max_length = s->count_max;
    for (i = 0; i < n; i++) {
        lm_encoding_t *e = NULL;
        lm_status st = b != NULL && blen[i] > 0
                           ? lm_tokenizer_encode_pair(s->tok, a[i], alen[i], b[i], blen[i], &eo,
                                                      &e)
                           : lm_tokenizer_encode(s->tok, a[i], alen[i], &eo, &e);
        if (st == LM_OK) {
            total += lm_encoding_length(e);
        }
        lm_encoding_free(e);
    }
    return total;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of the little-endian float32 bytes of x[0..n), as OpenAI's encoding_format base64. */
static void put_base64(FILE *f, const float *x, size_t n) {
    size_t i, len = n * 4;
    unsigned char q[3];
    const unsigned char *p = (const unsigned char *)x;
    const uint16_t one = 1;
    int little = *(const unsigned char *)&one == 1;
    for (i = 0; i < len; i += 3) {
        size_t k, m = len - i < 3 ? len - i : 3;
        for (k = 0; k < 3; k++) {
            size_t at = i + k;
            q[k] = k < m ? p[little ? at : (at / 4) * 4 + 3 - at % 4] : 0;
        }
        fputc(b64[q[0] >> 2], f);
        fputc(b64[((q[0] & 3) << 4) | (q[1] >> 4)], f);
        fputc(m > 1 ? b64[((q[1] & 15) << 2) | (q[2] >> 6)] : '=', f);
        fputc(m > 2 ? b64[q[2] & 63] : '=', f);
    }
}

static void put_floats(FILE *f, const float *x, size_t n) {
    size_t k;
    fputc('[', f);
    for (k = 0; k < n; k++) {
        if (k > 0) {
            fputc(',', f);
        }
        tool_json_float(f, x[k], 9);
    }
    fputc(']', f);
}

static enum MHD_Result do_embed(server *s, struct MHD_Connection *c, request *r,
                                const cJSON *doc) {
    const int openai = r->ep == EP_EMBEDDINGS;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(doc, openai ? "input" : "inputs");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(doc, "encoding_format");
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(doc, "dimensions");
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(doc, "normalize");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
    char err[256];
    unsigned code;
    int single, base64 = 0;
    size_t n, i;
    uint64_t tokens;
    job j;
    out o;
    enum MHD_Result ret;
    memset(&j, 0, sizeof j);
    if (in == NULL) {
        return send_error(s, c, r, 400, "\"%s\" is missing", openai ? "input" : "inputs");
    }
    if (fmt != NULL && !cJSON_IsNull(fmt)) {
        if (!cJSON_IsString(fmt) || (strcmp(fmt->valuestring, "float") != 0 &&
                                     strcmp(fmt->valuestring, "base64") != 0)) {
            return send_error(s, c, r, 400,
                              "\"encoding_format\" must be \"float\" or \"base64\"");
        }
        base64 = strcmp(fmt->valuestring, "base64") == 0;
    }
    if (dims != NULL && !cJSON_IsNull(dims) &&
        (!cJSON_IsNumber(dims) || dims->valuedouble != (double)s->C)) {
        return send_error(s, c, r, 400, "\"dimensions\" must be %zu (the model's size)", s->C);
    }
    if (model != NULL && !cJSON_IsNull(model) && !cJSON_IsString(model)) {
        return send_error(s, c, r, 400, "\"model\" must be a string");
    }
    if (norm != NULL && !cJSON_IsBool(norm)) {
        return send_error(s, c, r, 400, "\"normalize\" must be true or false");
    }
    j.a = texts_of(in, openai ? "input" : "inputs", (size_t)s->o.max_inputs, &n, &single, err,
                   sizeof err, &code);
    if (j.a == NULL) {
        return send_error(s, c, r, code, "%s", err);
    }
    j.kind = JOB_EMBED;
    /* OpenAI: the model's own normalisation; TEI: "normalize" (default true) */
    j.key = openai ? -1 : (norm == NULL || cJSON_IsTrue(norm)) ? 1 : 0;
    j.n = n;
    j.alen = malloc(n * sizeof *j.alen);
    j.emb = malloc(n * s->C * sizeof *j.emb);
    if (j.alen == NULL || j.emb == NULL) {
        ret = send_error(s, c, r, 503, "out of memory for %zu inputs", n);
        goto done;
    }
    for (i = 0; i < n; i++) {
        j.alen[i] = strlen(j.a[i]);
    }
    tokens = count_tokens(s, n, j.a, j.alen, NULL, NULL);
    if (submit(s, &j) != 0) {
        ret = send_error(s, c, r, 503, "the server is busy: more than %lld texts are waiting",
                         s->o.max_queue);
        goto done;
    }
    if (j.status != LM_OK) {
        ret = send_error(s, c, r, status_code(j.status), "%s", j.error);
        goto done;
    }
    pthread_mutex_lock(&s->m.lock);
    s->m.tokens += tokens;
    s->m.inputs += n;
    pthread_mutex_unlock(&s->m.lock);
    if (out_open(&o) != 0) {
        ret = MHD_NO;
        goto done;
    }
    if (openai) {
        fputs("{\"object\":\"list\",\"data\":[", o.f);
    } else {
        fputc('[', o.f);
    }
    for (i = 0; i < n; i++) {
        fputs(i > 0 ? "," : "", o.f);
        if (openai) {
            fprintf(o.f, "{\"object\":\"embedding\",\"index\":%zu,\"embedding\":", i);
        }
        if (base64) {
            fputc('"', o.f);
            put_base64(o.f, j.emb + i * s->C, s->C);
            fputc('"', o.f);
        } else {
            put_floats(o.f, j.emb + i * s->C, s->C);
        }
        if (openai) {
            fputc('}', o.f);
        }
    }
    if (openai) {
        const char *name = model != NULL && cJSON_IsString(model) ? model->valuestring : s->name;
        fputs("],\"model\":", o.f);
        tool_json_string(o.f, name, strlen(name));
        fprintf(o.f, ",\"usage\":{\"prompt_tokens\":%llu,\"total_tokens\":%llu}}",
                (unsigned long long)tokens, (unsigned long long)tokens);
    } else {
        fputc(']', o.f);
    }
    ret = send_out(s, c, r, 200, &o);
done:
    free(j.a);
    free(j.alen);
    free(j.emb);
    return ret;
}

/* One /predict input: a string, or [text, pair]. Returns 0, or -1 with a message. */
static int predict_input(const cJSON *x, const char **a, const char **b, char *err, size_t size,
                         size_t index, int batch) {
    char where[32] = "";
    if (batch) {
        snprintf(where, sizeof where, "[%zu]", index);
    }
    if (cJSON_IsString(x)) {
        *a = x->valuestring;
        *b = "";
        return 0;
    }
    if (cJSON_IsArray(x) && cJSON_GetArraySize(x) == 2 && cJSON_IsString(x->child) &&
        cJSON_IsString(x->child->next)) {
        *a = x->child->valuestring;
        *b = x->child->next->valuestring;
        return 0;
    }
    snprintf(err, size, "\"inputs\"%s must be a text or a [text, text_pair] array", where);
    return -1;
}

static enum MHD_Result do_predict(server *s, struct MHD_Connection *c, request *r,
                                  const cJSON *doc) {
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(doc, "inputs");
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(doc, "raw_scores");
    const cJSON *x;
    char err[256];
    size_t n, i, k;
    int single;
    uint64_t tokens;
    job j;
    out o;
    enum MHD_Result ret;
    memset(&j, 0, sizeof j);
    if (s->L == 0) {
        return send_error(s, c, r, 400, "the model is a %s model, not a sequence-classification "
                                        "one: /predict is not available",
                          tool_head_name(lm_model_head(s->model)));
    }
    if (in == NULL) {
        return send_error(s, c, r, 400, "\"inputs\" is missing");
    }
    if (raw != NULL && !cJSON_IsBool(raw)) {
        return send_error(s, c, r, 400, "\"raw_scores\" must be true or false");
    }
    /* as text-embeddings-inference: a text or a [text, pair] is one input, else a list */
    single = cJSON_IsString(in) ||
             (cJSON_IsArray(in) && cJSON_GetArraySize(in) == 2 && cJSON_IsString(in->child) &&
              cJSON_IsString(in->child->next));
    if (!single && !cJSON_IsArray(in)) {
        return send_error(s, c, r, 400, "\"inputs\" must be a text, a [text, text_pair] array "
                                        "or a list of them");
    }
    n = single ? 1 : (size_t)cJSON_GetArraySize(in);
    if (n == 0) {
        return send_error(s, c, r, 400, "\"inputs\" is empty");
    }
    if (n > (size_t)s->o.max_inputs) {
        return send_error(s, c, r, 413, "\"inputs\" holds %zu inputs; the most is %lld "
                                        "(--max-inputs)", n, s->o.max_inputs);
    }
    j.kind = JOB_CLASSIFY;
    j.key = raw != NULL && cJSON_IsTrue(raw) ? LM_SCORE_NONE : LM_SCORE_DEFAULT;
    j.n = n;
    j.a = malloc(n * sizeof *j.a);
    j.b = malloc(n * sizeof *j.b);
    j.alen = malloc(n * sizeof *j.alen);
    j.blen = malloc(n * sizeof *j.blen);
    j.ls = malloc(n * s->L * sizeof *j.ls);
    if (j.a == NULL || j.b == NULL || j.alen == NULL || j.blen == NULL || j.ls == NULL) {
        ret = send_error(s, c, r, 503, "out of memory for %zu inputs", n);
        goto done;
    }
    if (single) {
        if (predict_input(in, &j.a[0], &j.b[0], err, sizeof err, 0, 0) != 0) {
            ret = send_error(s, c, r, 400, "%s", err);
            goto done;
        }
    } else {
        i = 0;
        cJSON_ArrayForEach(x, in) {
            if (predict_input(x, &j.a[i], &j.b[i], err, sizeof err, i, 1) != 0) {
                ret = send_error(s, c, r, 400, "%s", err);
                goto done;
            }
            i++;
        }
    }
    for (i = 0; i < n; i++) {
        j.alen[i] = strlen(j.a[i]);
        j.blen[i] = strlen(j.b[i]);
    }
    tokens = count_tokens(s, n, j.a, j.alen, j.b, j.blen);
    if (submit(s, &j) != 0) {
        ret = send_error(s, c, r, 503, "the server is busy: more than %lld texts are waiting",
                         s->o.max_queue);
        goto done;
    }
    if (j.status != LM_OK) {
        ret = send_error(s, c, r, status_code(j.status), "%s", j.error);
        goto done;
    }
    pthread_mutex_lock(&s->m.lock);
    s->m.tokens += tokens;
    s->m.inputs += n;
    pthread_mutex_unlock(&s->m.lock);
    if (out_open(&o) != 0) {
        ret = MHD_NO;
        goto done;
    }
    fputs(single ? "" : "[", o.f);
    for (i = 0; i < n; i++) {
        fputs(i > 0 ? ",[" : "[", o.f);
        for (k = 0; k < s->L; k++) {
            const lm_label_score *q = &j.ls[i * s->L + k];
            const char *label = lm_model_label_name(s->model, (size_t)q->label);
            fputs(k > 0 ? ",{\"score\":" : "{\"score\":", o.f);
            tool_json_float(o.f, q->score, 9);
            fputs(",\"label\":", o.f);
            tool_json_string(o.f, label != NULL ? label : "", label != NULL ? strlen(label) : 0);
            fputc('}', o.f);
        }
        fputc(']', o.f);
    }
    fputs(single ? "" : "]", o.f);
    ret = send_out(s, c, r, 200, &o);
done:
    free(j.a);
    free(j.b);
    free(j.alen);
    free(j.blen);
    free(j.ls);
    return ret;
}

static enum MHD_Result do_metrics(server *s, struct MHD_Connection *c, request *r) {
    metrics *m = &s->m;
    size_t e, k;
    out o;
    size_t queued;
    if (out_open(&o) != 0) {
        return MHD_NO;
    }
    pthread_mutex_lock(&s->lock);
    queued = s->queued;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&m->lock);
    fputs("# HELP lm_requests_total HTTP requests answered, by endpoint and status code.\n"
          "# TYPE lm_requests_total counter\n", o.f);
    for (e = 0; e < N_EP; e++) {
        for (k = 0; k < N_CODES; k++) {
            if (m->requests[e][k] > 0 || (e <= EP_PREDICT && codes[k] == 200)) {
                fprintf(o.f, "lm_requests_total{endpoint=\"%s\",code=\"%u\"} %llu\n", ep_names[e],
                        codes[k], (unsigned long long)m->requests[e][k]);
            }
        }
    }
    fputs("# HELP lm_request_duration_seconds Time from a request's arrival to its answer.\n"
          "# TYPE lm_request_duration_seconds histogram\n", o.f);
    for (e = 0; e < N_EP; e++) {
        uint64_t cum = 0;
        if (m->lat_count[e] == 0 && e > EP_PREDICT) {
            continue;
        }
        for (k = 0; k <= N_LAT; k++) {
            cum += m->lat_bucket[e][k];
            if (k < N_LAT) {
                fprintf(o.f, "lm_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                        ep_names[e], lat_bounds[k], (unsigned long long)cum);
            } else {
                fprintf(o.f, "lm_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} "
                             "%llu\n", ep_names[e], (unsigned long long)cum);
            }
        }
        fprintf(o.f, "lm_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n", ep_names[e],
                m->lat_sum[e]);
        fprintf(o.f, "lm_request_duration_seconds_count{endpoint=\"%s\"} %llu\n", ep_names[e],
                (unsigned long long)m->lat_count[e]);
    }
    fprintf(o.f,
            "# HELP lm_tokens_total Tokens of the inputs answered (special tokens included, "
            "after truncation).\n# TYPE lm_tokens_total counter\nlm_tokens_total %llu\n"
            "# HELP lm_inputs_total Texts (or pairs) answered.\n# TYPE lm_inputs_total counter\n"
            "lm_inputs_total %llu\n"
            "# HELP lm_batch_inputs Inputs per model call (requests merged).\n"
            "# TYPE lm_batch_inputs histogram\n",
            (unsigned long long)m->tokens, (unsigned long long)m->inputs);
    {
        uint64_t cum = 0;
        for (k = 0; k <= N_BATCH; k++) {
            cum += m->batch_bucket[k];
            if (k < N_BATCH) {
                fprintf(o.f, "lm_batch_inputs_bucket{le=\"%g\"} %llu\n", batch_bounds[k],
                        (unsigned long long)cum);
            } else {
                fprintf(o.f, "lm_batch_inputs_bucket{le=\"+Inf\"} %llu\n",
                        (unsigned long long)cum);
            }
        }
    }
    fprintf(o.f,
            "lm_batch_inputs_sum %.0f\nlm_batch_inputs_count %llu\n"
            "# HELP lm_model_seconds_total Time the model spent answering.\n"
            "# TYPE lm_model_seconds_total counter\nlm_model_seconds_total %.6f\n"
            "# HELP lm_queue_inputs Texts waiting for the model.\n# TYPE lm_queue_inputs gauge\n"
            "lm_queue_inputs %zu\n",
            m->batch_sum, (unsigned long long)m->batches, m->busy_seconds, queued);
    pthread_mutex_unlock(&m->lock);
    if (fclose(o.f) != 0) {
        free(o.buf);
        return MHD_NO;
    }
    return send_text(s, c, r, 200, o.buf, o.len, "text/plain; version=0.0.4; charset=utf-8");
}

static int endpoint_of(const char *url) {
    int e;
    for (e = 0; e < EP_OTHER; e++) {
        if (strcmp(url, ep_names[e]) == 0) {
            return e;
        }
    }
    return strcmp(url, "/embeddings") == 0 ? EP_EMBEDDINGS : EP_OTHER;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
    server *s = cls;
    request *r = *con_cls;
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    cJSON *doc;
    size_t i;
    enum MHD_Result ret;
    (void)version;
    if (r == NULL) { /* the headers have arrived */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        r = calloc(1, sizeof *r);
        if (r == NULL) {
            return MHD_NO;
        }
        r->start = now();
        r->ep = endpoint_of(url);
        *con_cls = r;
        if (cl != NULL && strtoull(cl, NULL, 10) > (unsigned long long)s->o.max_body) {
            r->too_large = 1; /* refused at once: the body is not read */
            return send_error(s, c, r, 413, "the body has %s bytes; the most is %lld (--max-body)",
                              cl, s->o.max_body);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) { /* a piece of the body */
        if (!r->too_large && r->len + *upload_size > (size_t)s->o.max_body) {
            r->too_large = 1;
            free(r->body);
            r->body = NULL;
        }
        if (!r->too_large) {
            if (grow((void **)&r->body, &r->cap, r->len + *upload_size + 1, 1) != 0) {
                return MHD_NO;
            }
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    /* the whole request is here */
    if (r->ep == EP_OTHER) {
        return send_error(s, c, r, 404, "no endpoint %s (POST /v1/embeddings, /embed, /predict; "
                                        "GET /health, /metrics)", url);
    }
    if (r->ep == EP_HEALTH || r->ep == EP_METRICS) {
        if (!get) {
            return send_error(s, c, r, 405, "%s takes GET, not %s", url, method);
        }
        if (r->ep == EP_METRICS) {
            return do_metrics(s, c, r);
        }
        {
            static const char ok[] = "{\"status\":\"ok\"}";
            char *body = malloc(sizeof ok - 1);
            if (body == NULL) {
                return MHD_NO;
            }
            memcpy(body, ok, sizeof ok - 1);
            return send_text(s, c, r, 200, body, sizeof ok - 1, "application/json");
        }
    }
    if (!post) {
        return send_error(s, c, r, 405, "%s takes POST, not %s", url, method);
    }
    if (r->too_large) {
        return send_error(s, c, r, 413, "the body is larger than %lld bytes (--max-body)",
                          s->o.max_body);
    }
    for (i = 0; i < r->len;) {
        size_t k = tool_utf8_valid((const unsigned char *)r->body + i, r->len - i);
        if (k == 0) {
            return send_error(s, c, r, 400, "the body is not valid UTF-8 (byte %zu)", i);
        }
        i += k;
    }
    if (r->len == 0) {
        return send_error(s, c, r, 400, "the body is empty: a JSON object is expected");
    }
    {
        /* cJSON sets `end` where it stopped, also on an error (its global error pointer is
         * shared by the connection threads) */
        const char *end = r->body;
        doc = cJSON_ParseWithLengthOpts(r->body, r->len, &end, 0);
        if (doc == NULL) {
            size_t at = end >= r->body && end <= r->body + r->len ? (size_t)(end - r->body) : 0;
            return send_error(s, c, r, 400, "the body is not valid JSON (near byte %zu)", at);
        }
        while (end < r->body + r->len &&
               (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) {
            end++;
        }
        if (end != r->body + r->len) { /* something after the value */
            cJSON_Delete(doc);
            return send_error(s, c, r, 400, "the body is not valid JSON (more after the value, "
                                            "at byte %zu)", (size_t)(end - r->body));
        }
        if (!cJSON_IsObject(doc)) {
            cJSON_Delete(doc);
            return send_error(s, c, r, 400, "the body must be a JSON object");
        }
    }
    ret = r->ep == EP_PREDICT ? do_predict(s, c, r, doc) : do_embed(s, c, r, doc);
    cJSON_Delete(doc);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode why) {
    request *r = *con_cls;
    (void)cls, (void)c, (void)why;
    if (r != NULL) {
        free(r->body);
        free(r);
        *con_cls = NULL;
    }
}

/* libmicrohttpd's own messages (socket errors), on stderr with --verbose. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    if (*(const int *)cls) {
        fputs("lm serve: libmicrohttpd: ", stderr);
        vfprintf(stderr, fmt, ap);
    }
}

/* The folder's last part: the served model's default name. */
static const char *base_name(const char *dir) {
    size_t n = strlen(dir);
    const char *p;
    while (n > 1 && dir[n - 1] == '/') {
        n--;
    }
    for (p = dir + n; p > dir && p[-1] != '/'; p--) {
    }
    return p;
}

int cmd_serve(int argc, char **argv) {
    static server srv; /* one per process; the signal wait ends it */
    server *s = &srv;
    tool_ctx c;
    struct MHD_Daemon *d;
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    const union MHD_DaemonInfo *info;
    sigset_t sigs;
    char name_buf[256];
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    int code, sig, v6 = 0, verbose;
    const char *host;
    memset(s, 0, sizeof *s);
    s->o.port = 8080;
    s->o.max_body = 1 << 20;
    s->o.max_inputs = 256;
    s->o.max_batch = 256;
    s->o.max_connections = 128;
    s->o.max_queue = 8192;
    s->o.timeout = 30;
    s->o.forward_batch = 1;
    tool_ctx_init(&c, &serve_cmd);
    if ((code = tool_parse_args(&serve_cmd, &c.o, argc, argv, &s->o)) >= 0) {
        return code;
    }
    host = s->o.host != NULL ? s->o.host : "127.0.0.1";
    if (strcmp(host, "localhost") == 0) {
        host = "127.0.0.1";
    }
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)s->o.port);
    } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)s->o.port);
        v6 = 1;
        flags |= MHD_USE_IPv6;
    } else {
        return tool_usage_error(&serve_cmd, "--host needs an IPv4 or IPv6 address, not '%s'",
                                host);
    }
    if ((code = tool_start(&c, LM_HEAD_AUTO, LM_HEAD_AUTO, 1)) != 0) {
        tool_finish(&c, 0);
        return code;
    }
    s->model = c.model;
    s->tok = c.tok;
    s->to = c.to;
    s->to.batch_size = (int32_t)s->o.forward_batch;
    s->C = lm_model_hidden_size(s->model);
    s->L = lm_model_head(s->model) == LM_HEAD_SEQUENCE_CLASSIFICATION
               ? lm_model_num_labels(s->model)
               : 0;
    s->count_max = c.o.max_length > 0 ? (size_t)c.o.max_length : lm_model_max_length(s->model);
    snprintf(name_buf, sizeof name_buf, "%s", base_name(c.o.model_dir));
    s->name = s->o.name != NULL ? s->o.name : name_buf;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->m.lock, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->done, NULL);

    /* SIGINT and SIGTERM are taken by sigwait below, in every thread started from here on */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (pthread_create(&s->worker, NULL, worker_main, s) != 0) {
        fprintf(stderr, "lm serve: cannot start the worker thread\n");
        return tool_finish(&c, 0);
    }
    verbose = c.o.verbose;
    d = MHD_start_daemon(
        flags | MHD_USE_ERROR_LOG, (uint16_t)s->o.port, NULL, NULL, answer, s,
        MHD_OPTION_SOCK_ADDR, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)s->o.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->o.timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)256,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, &verbose, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "lm serve: cannot listen on %s port %lld: %s\n", host, s->o.port,
                strerror(errno));
        code = 1;
    } else {
        info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        fprintf(stderr, "lm serve: listening on http://%s%s%s:%u/ (model %s, %zu dimensions%s)\n",
                v6 ? "[" : "", host, v6 ? "]" : "", info != NULL ? info->port : 0, s->name, s->C,
                s->L > 0 ? ", classifier" : "");
        do {
            if (sigwait(&sigs, &sig) != 0) {
                sig = SIGTERM;
            }
        } while (sig != SIGINT && sig != SIGTERM);
        fprintf(stderr, "lm serve: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        MHD_stop_daemon(d); /* waits for the connections, which wait for the worker */
        code = 0;
    }
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->worker, NULL);
    free(s->wa);
    free(s->wb);
    free(s->walen);
    free(s->wblen);
    free(s->wemb);
    free(s->wls);
    tool_finish(&c, code == 0);
    return code;
}

#endif
