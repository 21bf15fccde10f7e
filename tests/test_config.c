/* Tests of the BERT config.json parser/writer: defaults, real configs, label maps, unsupported
 * settings, bad values, round trip, allocation failures. */
#include <math.h>

#include "test_util.h"

#include "model/config.h"

static lm_status parse(const char *json, lmi_bert_config *c) {
    return lmi_bert_config_parse(json, strlen(json), "cfg.json", c);
}

static lm_status parse_only(const char *json) {
    lmi_bert_config c;
    lm_status s = parse(json, &c);
    if (s == LM_OK) {
        lmi_bert_config_free(&c);
    } else {
        assert_null(c.id2label);
        assert_null(c.architecture);
        assert_non_null(strstr(lm_last_error(), "cfg.json"));
    }
    return s;
}

static const char *minilm =
    "{\n  \"_name_or_path\": \"nreimers/MiniLM-L6-H384-uncased\",\n"
    "  \"architectures\": [\"BertModel\"],\n  \"attention_probs_dropout_prob\": 0.1,\n"
    "  \"gradient_checkpointing\": false,\n  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.1,\n  \"hidden_size\": 384,\n  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 1536,\n  \"layer_norm_eps\": 1e-12,\n"
    "  \"max_position_embeddings\": 512,\n  \"model_type\": \"bert\",\n"
    "  \"num_attention_heads\": 12,\n  \"num_hidden_layers\": 6,\n  \"pad_token_id\": 0,\n"
    "  \"position_embedding_type\": \"absolute\",\n  \"transformers_version\": \"4.8.2\",\n"
    "  \"type_vocab_size\": 2,\n  \"use_cache\": true,\n  \"vocab_size\": 30522\n}\n";

static void test_defaults(void **state) {
    lmi_bert_config c;
    (void)state;
    assert_int_equal(lmi_bert_config_default(&c), LM_OK);
    assert_int_equal(c.vocab_size, 30522);
    assert_int_equal(c.hidden_size, 768);
    assert_int_equal(c.num_labels, 2);
    assert_string_equal(lmi_bert_config_label(&c, 1), "LABEL_1");
    assert_null(lmi_bert_config_label(&c, 2));
    assert_null(lmi_bert_config_label(&c, -1));
    assert_true(c.layer_norm_eps == 1e-12);
    assert_int_equal(lmi_bert_config_validate(&c, NULL), LM_OK);
    lmi_bert_config_free(&c);
    lmi_bert_config_free(&c); /* idempotent */
    lmi_bert_config_free(NULL);
    assert_int_equal(parse("{}", &c), LM_OK);
    assert_int_equal(c.num_hidden_layers, 12);
    assert_int_equal(c.problem_type, LM_PROBLEM_AUTO);
    assert_true(c.classifier_dropout == -1.0);
    lmi_bert_config_free(&c);
}

static void test_minilm(void **state) {
    lmi_bert_config c;
    (void)state;
    assert_int_equal(parse(minilm, &c), LM_OK);
    assert_int_equal(c.hidden_size, 384);
    assert_int_equal(c.num_hidden_layers, 6);
    assert_int_equal(c.intermediate_size, 1536);
    assert_int_equal(c.hidden_act, LM_ACT_GELU);
    assert_int_equal(c.tie_word_embeddings, 1);
    assert_string_equal(c.architecture, "BertModel");
    assert_int_equal(c.num_labels, 2);
    lmi_bert_config_free(&c);
}

/* Issue 7, item 16: transformers reads config.json with Python's json, where a repeated key keeps
 * its last value; liblm must build the same model (BertConfig.from_json_file on this text gives
 * hidden_size 768, hidden_act gelu, id2label {0: 'NEG', 1: 'pos'}). */
static void test_repeated_keys(void **state) {
    lmi_bert_config c;
    (void)state;
    assert_int_equal(parse("{\"hidden_size\": 384, \"num_attention_heads\": 12, "
                           "\"intermediate_size\": 1536, \"num_hidden_layers\": 2, "
                           "\"id2label\": {\"0\": \"neg\", \"1\": \"pos\", \"0\": \"NEG\"}, "
                           "\"label2id\": {\"NEG\": 0, \"pos\": 1}, "
                           "\"hidden_act\": \"relu\", \"hidden_size\": 768, \"hidden_act\": \"gelu\"}",
                           &c),
                     LM_OK);
    assert_int_equal(c.hidden_size, 768);
    assert_int_equal(c.hidden_act, LM_ACT_GELU);
    assert_int_equal(c.num_labels, 2);
    assert_string_equal(c.id2label[0], "NEG");
    assert_string_equal(c.id2label[1], "pos");
    lmi_bert_config_free(&c);
    /* a key cut at \u0000 by cJSON would shadow the real one: refused */
    assert_int_equal(parse_only("{\"hidden_size\": 384, \"hidden_size\\u0000x\": 768}"),
                     LM_ERR_FORMAT);
}

static void test_labels(void **state) {
    lmi_bert_config c;
    (void)state;
    assert_int_equal(parse("{\"id2label\":{\"0\":\"NEG\",\"1\":\"NEU\",\"2\":\"POS\"},"
                           "\"label2id\":{\"NEG\":0,\"NEU\":1,\"POS\":2},"
                           "\"problem_type\":\"single_label_classification\","
                           "\"architectures\":[\"BertForSequenceClassification\"]}",
                           &c),
                     LM_OK);
    assert_int_equal(c.num_labels, 3);
    assert_string_equal(c.id2label[2], "POS");
    assert_int_equal(c.problem_type, LM_PROBLEM_SINGLE_LABEL);
    lmi_bert_config_free(&c);
    /* keys in any order */
    assert_int_equal(parse("{\"id2label\":{\"1\":\"b\",\"0\":\"a\"}}", &c), LM_OK);
    assert_string_equal(c.id2label[0], "a");
    lmi_bert_config_free(&c);
    /* num_labels alone, label2id alone */
    assert_int_equal(parse("{\"num_labels\":1,\"problem_type\":\"regression\"}", &c), LM_OK);
    assert_int_equal(c.num_labels, 1);
    assert_string_equal(c.id2label[0], "LABEL_0");
    assert_int_equal(c.problem_type, LM_PROBLEM_REGRESSION);
    lmi_bert_config_free(&c);
    assert_int_equal(parse("{\"label2id\":{\"x\":1,\"y\":0,\"z\":2}}", &c), LM_OK);
    assert_string_equal(c.id2label[0], "y");
    assert_int_equal(c.num_labels, 3);
    lmi_bert_config_free(&c);
    /* disagreements */
    assert_int_equal(parse_only("{\"num_labels\":3,\"id2label\":{\"0\":\"a\",\"1\":\"b\"}}"),
                     LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "num_labels"));
    assert_int_equal(parse_only("{\"id2label\":{\"0\":\"a\",\"1\":\"b\"},\"label2id\":{\"a\":1,"
                                "\"b\":0}}"),
                     LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"id2label\":{\"0\":\"a\",\"1\":\"b\"},\"label2id\":{\"a\":0}}"),
                     LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"id2label\":{\"0\":\"a\",\"2\":\"b\"}}"), LM_ERR_FORMAT);
    /* a repeated key keeps its last value, as in Python (see test_repeated_keys) */
    assert_int_equal(parse("{\"id2label\":{\"0\":\"a\",\"0\":\"b\"}}", &c), LM_OK);
    assert_int_equal(c.num_labels, 1);
    assert_string_equal(c.id2label[0], "b");
    lmi_bert_config_free(&c);
    assert_int_equal(parse_only("{\"id2label\":{\"0\":\"a\",\"x\":\"b\"}}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"id2label\":{\"0\":\"a\",\"1\":\"a\"}}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"id2label\":{\"0\":1}}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"id2label\":{}}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"id2label\":[\"a\"]}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"label2id\":{\"a\":0,\"b\":0}}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"label2id\":{\"a\":0.5}}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"num_labels\":0}"), LM_ERR_RANGE);
    /* set_labels */
    assert_int_equal(lmi_bert_config_default(&c), LM_OK);
    {
        const char *names[] = {"neg", "pos", "mixed"};
        assert_int_equal(lmi_bert_config_set_labels(&c, 3, names), LM_OK);
        assert_string_equal(lmi_bert_config_label(&c, 2), "mixed");
        assert_int_equal(lmi_bert_config_set_labels(&c, 0, NULL), LM_ERR_INVALID_ARGUMENT);
        assert_int_equal(c.num_labels, 3);
        assert_int_equal(lmi_bert_config_set_labels(&c, 4, NULL), LM_OK);
        assert_string_equal(lmi_bert_config_label(&c, 3), "LABEL_3");
    }
    lmi_bert_config_free(&c);
}

static void test_unsupported(void **state) {
    (void)state;
    assert_int_equal(parse_only("{\"model_type\":\"roberta\"}"), LM_ERR_UNSUPPORTED);
    assert_non_null(strstr(lm_last_error(), "model_type"));
    assert_int_equal(parse_only("{\"position_embedding_type\":\"relative_key\"}"),
                     LM_ERR_UNSUPPORTED);
    assert_non_null(strstr(lm_last_error(), "position_embedding_type"));
    assert_int_equal(parse_only("{\"is_decoder\":true}"), LM_ERR_UNSUPPORTED);
    assert_int_equal(parse_only("{\"add_cross_attention\":true}"), LM_ERR_UNSUPPORTED);
    assert_int_equal(parse_only("{\"chunk_size_feed_forward\":64}"), LM_ERR_UNSUPPORTED);
    assert_int_equal(parse_only("{\"hidden_act\":\"swish\"}"), LM_ERR_UNSUPPORTED);
    assert_non_null(strstr(lm_last_error(), "hidden_act"));
    assert_int_equal(parse_only("{\"hidden_size\":100,\"num_attention_heads\":3}"),
                     LM_ERR_UNSUPPORTED);
    assert_int_equal(parse_only("{\"problem_type\":\"ranking\"}"), LM_ERR_UNSUPPORTED);
    assert_int_equal(parse_only("{\"is_decoder\":false,\"add_cross_attention\":false,"
                                "\"chunk_size_feed_forward\":0,\"model_type\":\"bert\"}"),
                     LM_OK);
}

static void test_activations(void **state) {
    lmi_bert_config c;
    (void)state;
    assert_int_equal(parse("{\"hidden_act\":\"gelu_new\"}", &c), LM_OK);
    assert_int_equal(c.hidden_act, LM_ACT_GELU_TANH);
    lmi_bert_config_free(&c);
    assert_int_equal(parse("{\"hidden_act\":\"gelu_pytorch_tanh\"}", &c), LM_OK);
    assert_int_equal(c.hidden_act, LM_ACT_GELU_TANH);
    lmi_bert_config_free(&c);
    assert_int_equal(parse("{\"hidden_act\":\"relu\"}", &c), LM_OK);
    assert_int_equal(c.hidden_act, LM_ACT_RELU);
    lmi_bert_config_free(&c);
}

static void test_bad_values(void **state) {
    (void)state;
    assert_int_equal(parse_only(""), LM_ERR_FORMAT);
    assert_int_equal(parse_only("[]"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"hidden_size\":\"768\"}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"hidden_size\":768.5}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"hidden_size\":-768}"), LM_ERR_RANGE);
    assert_int_equal(parse_only("{\"hidden_size\":0}"), LM_ERR_RANGE);
    assert_int_equal(parse_only("{\"hidden_size\":1e300}"), LM_ERR_RANGE);
    assert_int_equal(parse_only("{\"num_hidden_layers\":100000}"), LM_ERR_RANGE);
    assert_int_equal(parse_only("{\"vocab_size\":10,\"pad_token_id\":10}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"hidden_dropout_prob\":1.0}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"attention_probs_dropout_prob\":-0.1}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"classifier_dropout\":2}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"layer_norm_eps\":0}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"initializer_range\":-1}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"is_decoder\":1}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"architectures\":\"BertModel\"}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"architectures\":[1]}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"model_type\":1}"), LM_ERR_FORMAT);
    assert_int_equal(parse_only("{\"hidden_act\":\"gelu\xff\"}"), LM_ERR_UTF8);
    assert_int_equal(parse_only("{\"hidden_size\":768} trailing"), LM_ERR_FORMAT);
    /* nulls mean "absent" like in transformers' JSON */
    assert_int_equal(parse_only("{\"classifier_dropout\":null,\"problem_type\":null,"
                                "\"architectures\":null,\"id2label\":null}"),
                     LM_OK);
    assert_int_equal(lmi_bert_config_parse(NULL, 1, "x", NULL), LM_ERR_INVALID_ARGUMENT);
}

static void test_roundtrip_and_file(void **state) {
    lmi_bert_config c;
    lmi_bert_config d;
    char *json = NULL;
    char *dir = test_make_temp_dir();
    char path[4200];
    (void)state;
    assert_int_equal(parse("{\"id2label\":{\"0\":\"NEG \\\"x\\\"\",\"1\":\"POS\"},"
                           "\"hidden_act\":\"gelu_pytorch_tanh\",\"hidden_size\":32,"
                           "\"num_attention_heads\":4,\"intermediate_size\":37,"
                           "\"classifier_dropout\":0.25,\"problem_type\":\"multi_label_classification\","
                           "\"architectures\":[\"BertForSequenceClassification\"],"
                           "\"layer_norm_eps\":1e-7,\"vocab_size\":99,\"tie_word_embeddings\":false}",
                           &c),
                     LM_OK);
    assert_int_equal(lmi_bert_config_to_json(&c, &json), LM_OK);
    assert_non_null(strstr(json, "\"model_type\":\t\"bert\""));
    assert_non_null(strstr(json, "gelu_pytorch_tanh"));
    snprintf(path, sizeof path, "%s/config.json", dir);
    test_write_file(path, json, strlen(json));
    lm_free(json);
    assert_int_equal(lmi_bert_config_load(path, &d), LM_OK);
    assert_int_equal(d.hidden_size, 32);
    assert_int_equal(d.intermediate_size, 37);
    assert_int_equal(d.vocab_size, 99);
    assert_int_equal(d.tie_word_embeddings, 0);
    assert_int_equal(d.hidden_act, LM_ACT_GELU_TANH);
    assert_true(d.classifier_dropout == 0.25);
    assert_true(d.layer_norm_eps == 1e-7);
    assert_int_equal(d.problem_type, LM_PROBLEM_MULTI_LABEL);
    assert_string_equal(d.id2label[0], "NEG \"x\"");
    assert_string_equal(d.architecture, "BertForSequenceClassification");
    lmi_bert_config_free(&d);
    assert_int_equal(lmi_bert_config_copy(&d, &c), LM_OK);
    assert_string_equal(d.id2label[1], "POS");
    assert_true(d.id2label != c.id2label);
    lmi_bert_config_free(&d);
    lmi_bert_config_free(&c);
    /* a config built in code with a bad field is refused by the writer */
    assert_int_equal(lmi_bert_config_default(&c), LM_OK);
    c.num_attention_heads = 7;
    assert_int_equal(lmi_bert_config_to_json(&c, &json), LM_ERR_UNSUPPORTED);
    assert_null(json);
    lmi_bert_config_free(&c);
    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(lmi_bert_config_load(path, &d), LM_ERR_NOT_FOUND);
    assert_null(d.id2label);
    test_remove_tree(dir);
    free(dir);
}

static lm_status parse_write_copy(void *arg) {
    lmi_bert_config c;
    lmi_bert_config d;
    char *json;
    lm_status s;
    (void)arg;
    s = parse("{\"id2label\":{\"0\":\"a\",\"1\":\"b\",\"2\":\"c\"},\"hidden_act\":\"relu\","
              "\"architectures\":[\"BertForTokenClassification\"]}",
              &c);
    if (s != LM_OK) {
        assert_null(c.id2label);
        return s;
    }
    s = lmi_bert_config_to_json(&c, &json);
    if (s == LM_OK) {
        lm_free(json);
        s = lmi_bert_config_copy(&d, &c);
        if (s == LM_OK) {
            lmi_bert_config_free(&d);
        }
    }
    if (s == LM_OK) {
        s = lmi_bert_config_set_labels(&c, 5, NULL);
    }
    lmi_bert_config_free(&c);
    if (s == LM_OK) {
        s = lmi_bert_config_default(&c);
        lmi_bert_config_free(&c);
    }
    return s;
}

static void test_allocation_failures(void **state) {
    (void)state;
    TEST_EVERY_ALLOCATION_FAILURE(parse_write_copy, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),         cmocka_unit_test(test_minilm),
        cmocka_unit_test(test_repeated_keys),
        cmocka_unit_test(test_labels),           cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_activations),      cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_roundtrip_and_file), cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
