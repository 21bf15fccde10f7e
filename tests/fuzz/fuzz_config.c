/* Fuzz target: the BERT config.json parser over arbitrary bytes; a config that parses must write
 * back to JSON that parses to the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm.h"
#include "model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lmi_bert_config c;
    lmi_bert_config d;
    char *json = NULL;
    int64_t i;
    if (lmi_bert_config_parse((const char *)data, size, "fuzz", &c) != LM_OK) {
        if (c.id2label != NULL || c.architecture != NULL) {
            abort();
        }
        return 0;
    }
    if (lmi_bert_config_to_json(&c, &json) != LM_OK) {
        abort();
    }
    if (lmi_bert_config_parse(json, strlen(json), "fuzz-again", &d) != LM_OK) {
        abort();
    }
    if (d.hidden_size != c.hidden_size || d.num_labels != c.num_labels ||
        d.hidden_act != c.hidden_act || d.problem_type != c.problem_type ||
        d.layer_norm_eps != c.layer_norm_eps || d.vocab_size != c.vocab_size) {
        abort();
    }
    for (i = 0; i < c.num_labels; i++) {
        if (strcmp(c.id2label[i], d.id2label[i]) != 0) {
            abort();
        }
    }
    lm_free(json);
    lmi_bert_config_free(&d);
    lmi_bert_config_free(&c);
    return 0;
}
