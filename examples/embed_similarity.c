/* Embeds three sentences with a sentence-transformers model (all-MiniLM-L6-v2: its folder from
 * argv[1], else from the LM_MINILM_DIR environment variable) and prints their pairwise cosine
 * similarities, as sentence-transformers' encode + cos_sim would.
 *   cc embed_similarity.c $(pkg-config --cflags --libs lm) -o embed_similarity
 *   ./embed_similarity /path/to/all-MiniLM-L6-v2 */
#include <lm.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *texts[] = {"A man is eating food.", "A man is eating a piece of bread.",
                              "The stock market fell sharply today."};

static double cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : getenv("LM_MINILM_DIR");
    lm_model_t *model = NULL;
    float *emb = NULL;
    lm_status s = dir == NULL ? LM_ERR_INVALID_ARGUMENT : lm_model_load(dir, NULL, &model);
    size_t C = s == LM_OK ? lm_model_hidden_size(model) : 0;
    if (s == LM_OK && (emb = malloc(3 * C * sizeof *emb)) != NULL)
        s = lm_embed_texts(model, 3, texts, NULL, NULL, emb, 3 * C);
    for (int i = 0; s == LM_OK && emb != NULL && i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            printf("%.4f  %s / %s\n", cosine(emb + i * C, emb + j * C, C), texts[i], texts[j]);
    if (s != LM_OK || emb == NULL)
        fprintf(stderr, "usage: %s MODEL_DIR (or LM_MINILM_DIR): %s\n", argv[0], lm_last_error());
    free(emb), lm_model_free(model);
    return s != LM_OK || emb == NULL;
}
