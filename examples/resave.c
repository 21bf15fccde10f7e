/* resave: loads a Hugging Face BERT folder with liblm and saves it again (config.json +
 * model.safetensors in float32, plus the tokenizer files), e.g. to turn F16/BF16 weights into
 * F32. scripts/check_liblm_save.sh uses it to check that transformers loads what liblm writes.
 *
 * usage: resave SRC_DIR DST_DIR */
#include <stdio.h>

#include <lm.h>

int main(int argc, char **argv) {
    lm_model_t *model = NULL;
    lm_status s;
    if (argc != 3) {
        fprintf(stderr, "usage: resave SRC_DIR DST_DIR\n");
        return 2;
    }
    s = lm_model_load(argv[1], NULL, &model);
    if (s == LM_OK) {
        s = lm_model_save(model, argv[2]);
    }
    lm_model_free(model);
    if (s != LM_OK) {
        fprintf(stderr, "resave: %s: %s\n", lm_status_string(s), lm_last_error());
        return 1;
    }
    return 0;
}
