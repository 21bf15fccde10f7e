/* Fuzz target: the data set readers on arbitrary bytes, then features, a batch epoch, QA
 * post-processing and the metrics on whatever loaded. The first byte picks the options:
 * bits 0-2 the format (TSV, CSV, JSON Lines, CoNLL, SQuAD, text), bits 3-4 the header mode,
 * bit 5 regression labels, bit 6 a fixed label map (dev data), bit 7 a 64-byte line limit.
 * A second byte picks the feature options (max_length, stride, label_all_tokens, MLM). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/batch.h"
#include "data/dataset.h"
#include "data/features.h"
#include "data/metrics.h"
#include "lm.h"
#include "text/tokenizer.h"

static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n,\n!\nun\n"
                            "##aff\n##able\ncafe\n##ing\nplay\n\xe4\xb8\xad\ni\na\n##a\nthe\n.\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
    if (!ok) {
        abort();
    }
}

static void exercise(const lmi_dataset *ds, lm_tokenizer_t *tok, uint8_t b) {
    lmi_feature_options fo;
    lmi_features *f = NULL;
    lmi_batcher_options bo;
    lmi_batcher *bt = NULL;
    lmi_batch x;
    size_t i;
    lmi_feature_options_init(&fo);
    fo.max_length = 3 + (b & 15);
    fo.doc_stride = (size_t)((b >> 4) & 3);
    fo.label_all_tokens = (b >> 6) & 1;
    fo.mlm = ds->task == LMI_TASK_TEXT && ((b >> 7) & 1);
    fo.mlm_group = (b >> 6) & 1;
    fo.mlm_group_lines = 3;
    fo.threads = 1;
    if (lmi_features_build(ds, tok, &fo, &f) != LM_OK) {
        check(f == NULL);
        return;
    }
    for (i = 0; i < f->n; i++) {
        check(f->start[i] <= f->start[i + 1] && f->start[i + 1] <= f->total);
        check(f->example[i] < ds->n);
        check(lmi_features_len(f, i) <= fo.max_length);
    }
    lmi_batcher_options_init(&bo);
    bo.batch_size = 1 + (b & 3);
    bo.seed = b;
    bo.group_by_length = (b >> 5) & 1;
    bo.order = (lmi_order)(b % 3);
    if (lmi_batcher_create(f, tok, &bo, &bt) == LM_OK) {
        size_t seen = 0;
        while (lmi_batcher_next(bt, &x)) {
            seen += x.B;
            check(x.T <= f->max_len);
        }
        check(seen == f->n);
        lmi_batcher_free(bt);
    }
    if (ds->task == LMI_TASK_QA) {
        float *logits = calloc(f->total ? f->total : 1, sizeof *logits);
        lmi_span *spans = malloc(ds->n * sizeof *spans);
        for (i = 0; i < f->total; i++) {
            logits[i] = (float)(f->ids[i] % 7);
        }
        if (lmi_qa_postprocess(ds, f, logits, logits, 5, 4, spans) == LM_OK) {
            for (i = 0; i < ds->n; i++) {
                double em, f1;
                const lmi_example *e = &ds->examples[i];
                const char *gold = e->count ? ds->answers[e->first].text : "";
                size_t gl = strlen(gold);
                check(spans[i].start <= spans[i].end && spans[i].end <= (int64_t)e->pair_len);
                if (spans[i].start >= 0) {
                    (void)lmi_metric_squad(e->pair + spans[i].start,
                                           (size_t)(spans[i].end - spans[i].start), &gold, &gl, 1,
                                           &em, &f1);
                }
            }
        }
        free(logits);
        free(spans);
    }
    if (ds->task == LMI_TASK_TOKENS && ds->labels.n > 0) {
        lmi_seqeval r;
        int32_t *pred = malloc((f->total ? f->total : 1) * sizeof *pred);
        for (i = 0; i < f->total; i++) {
            pred[i] = (int32_t)(f->ids[i] % (int32_t)ds->labels.n);
        }
        check(lmi_metric_seqeval(f->token_labels, pred, f->start, f->n,
                                 (const char *const *)ds->labels.names, ds->labels.n, &r) == LM_OK);
        free(pred);
    }
    lmi_features_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static lm_tokenizer_t *tok;
    static lmi_label_map map;
    static const lmi_format formats[8] = {LMI_FORMAT_TSV,   LMI_FORMAT_CSV,  LMI_FORMAT_JSONL,
                                          LMI_FORMAT_CONLL, LMI_FORMAT_SQUAD, LMI_FORMAT_TEXT,
                                          LMI_FORMAT_TSV,   LMI_FORMAT_CONLL};
    lmi_load_options o;
    lmi_dataset *ds = NULL;
    uint8_t a, b;
    if (tok == NULL) {
        static const char *const names[3] = {"O", "B-PER", "I-PER"};
        if (lmi_tokenizer_vocab_from_memory(vocab, sizeof vocab - 1, NULL, &tok) != LM_OK ||
            lmi_label_map_init(&map, names, 3) != LM_OK) {
            abort();
        }
    }
    if (size < 2) {
        return 0;
    }
    a = data[0];
    b = data[1];
    lmi_load_options_init(&o);
    o.format = formats[a & 7];
    o.header = ((a >> 3) & 3) % 3 - 1;
    o.label_kind = (a >> 5) & 1 ? LMI_LABELS_REGRESSION : LMI_LABELS_AUTO;
    o.labels = (a >> 6) & 1 ? &map : NULL;
    o.max_line_bytes = (a >> 7) & 1 ? 64 : 1 << 20;
    o.max_labels = 50;
    if (lmi_dataset_load_memory((const char *)data + 2, size - 2, "fuzz", &o, &ds) != LM_OK) {
        check(ds == NULL);
        return 0;
    }
    check(ds->n > 0);
    exercise(ds, tok, b);
    lmi_dataset_free(ds);
    return 0;
}
