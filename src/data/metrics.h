/* Internal (data): evaluation metrics. Pure functions over caller arrays: no I/O, no state,
 * allocation only for scratch space (freed before return). Each follows a named reference:
 *
 *   accuracy, confusion matrix, binary and macro F1   scikit-learn (zero_division -> 0)
 *   Pearson, Spearman                                 scipy.stats (ties get average ranks)
 *   entity precision / recall / F1, token accuracy    seqeval's default (conlleval) mode, as
 *                                                     run_ner's compute_metrics calls it
 *   exact match and F1 of answers                     SQuAD v1.1's evaluate-v1.1.py
 *   perplexity                                        run_mlm: exp(mean cross-entropy)
 */
#ifndef LM_DATA_METRICS_H
#define LM_DATA_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"

/* Share of i with pred[i] == gold[i]; 0 when n is 0. */
double lmi_metric_accuracy(const int32_t *pred, const int32_t *gold, size_t n);

/* matrix[g * k + p] counts examples of gold class g predicted as p (sklearn's layout: rows are
 * the truth). Classes outside [0, k) are not counted. */
void lmi_metric_confusion(const int32_t *pred, const int32_t *gold, size_t n, size_t k,
                          size_t *matrix /* [k * k] */);

/* F1 of class `positive` (sklearn f1_score(average="binary", pos_label=positive)). */
double lmi_metric_f1_binary(const int32_t *pred, const int32_t *gold, size_t n, int32_t positive);

/* Mean F1 over the classes in [0, k) that occur in gold or pred (sklearn average="macro"). */
lm_status lmi_metric_f1_macro(const int32_t *pred, const int32_t *gold, size_t n, size_t k,
                              double *out);

/* Pearson's r as scipy.stats.pearsonr (in double); NaN when n < 2 or either input is constant. */
double lmi_metric_pearson(const double *x, const double *y, size_t n);

/* Spearman's rho as scipy.stats.spearmanr: Pearson's r of the ranks, ties averaged. */
lm_status lmi_metric_spearman(const double *x, const double *y, size_t n, double *out);

/* Entity-level scores of BIO/IOBES tags. */
typedef struct lmi_seqeval {
    double precision, recall, f1; /* micro averages over entity types (0 when undefined) */
    double accuracy;              /* token-level accuracy */
    size_t n_true, n_pred, n_correct, n_tokens;
} lmi_seqeval;

/* Scores tag sequences as seqeval's default mode (the conlleval chunk rules: an I- after O or
 * after another type starts an entity; entities are (type, first, last) and must match
 * exactly). Sequence s holds tokens start[s] .. start[s + 1] - 1 of gold / pred (class ids whose
 * names are names[id]); tokens whose gold is -100 are left out first (run_ner's
 * compute_metrics), so these arrays can be the features' token_labels and the argmax of the
 * logits. A pred id outside [0, n_names) is LM_ERR_RANGE. */
lm_status lmi_metric_seqeval(const int32_t *gold, const int32_t *pred, const size_t *start,
                             size_t n_seq, const char *const *names, size_t n_names,
                             lmi_seqeval *out);

/* SQuAD v1.1's normalize_answer: lower-case (Python's str.lower), drop ASCII punctuation, drop
 * the words a / an / the, collapse whitespace (Python's str.split). *out is NUL-terminated; free
 * with lm_free. */
lm_status lmi_squad_normalize(const char *s, size_t len, char **out, size_t *out_len);

/* Exact match (0 or 1) and F1 of a prediction, each the maximum over the gold answers. */
lm_status lmi_metric_squad(const char *pred, size_t pred_len, const char *const *golds,
                           const size_t *gold_lens, size_t n_gold, double *em, double *f1);

/* exp(mean_ce); +inf when it overflows. */
double lmi_metric_perplexity(double mean_ce);

/* Python's str.isspace() for one code point (str.split and str.strip use it). */
int lmi_py_isspace(uint32_t cp);

#endif
