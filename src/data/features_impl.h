/* Internal (data, private to features.c and qa.c): the row builder the feature makers share. */
#ifndef LM_DATA_FEATURES_IMPL_H
#define LM_DATA_FEATURES_IMPL_H

#include "features.h"

/* Appends a row of n tokens for dataset example `example`; *base is the index of its first
 * token in the flat arrays (which the caller fills). Grows the arrays the task needs. */
lm_status lmi_features_add_row(lmi_features *f, size_t n, size_t example, size_t *base);

/* Appends a row copied from an encoding (ids, type ids, special mask). */
lm_status lmi_features_add_encoding(lmi_features *f, const lm_encoding_t *e, size_t example);

/* "file:line" or "file: question \"id\"" for example i. */
void lmi_features_where(const lmi_dataset *ds, size_t i, char *out, size_t cap);

/* QA rows (qa.c). o has its defaults filled in. */
lm_status lmi_features_build_qa(const lmi_dataset *ds, const lm_tokenizer_t *tok,
                                const lmi_feature_options *o, lmi_features *f);

#endif
