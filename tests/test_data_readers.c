/* The data set readers (src/data/): TSV, CSV, JSON Lines, CoNLL, SQuAD and plain text, good and
 * bad input, each bad case with its "file:line: ..." message; label maps; allocation failures. */
#include "test_util.h"

#include "test_data_util.h"

#include "data/dataset.h"

static lmi_dataset *ok_load(const char *text, const char *name, const lmi_load_options *o) {
    lmi_dataset *ds = NULL;
    lm_status st = lmi_dataset_load_memory(text, strlen(text), name, o, &ds);
    if (st != LM_OK) {
        print_error("%s: %s %s\n", name, lm_status_string(st), lm_last_error());
        fail();
    }
    return ds;
}

/* Loads text and asserts the status and that the message contains `msg`. */
static void bad(const char *text, size_t len, const char *name, const lmi_load_options *o,
                lm_status want, const char *msg) {
    lmi_dataset *ds = (lmi_dataset *)1;
    lm_status st = lmi_dataset_load_memory(text, len, name, o, &ds);
    assert_null(ds);
    if (st != want || strstr(lm_last_error(), msg) == NULL) {
        print_error("%s: got %s \"%s\", want %s with \"%s\"\n", name, lm_status_string(st),
                    lm_last_error(), lm_status_string(want), msg);
        fail();
    }
}

#define BAD(text, name, o, want, msg) bad(text, sizeof(text) - 1, name, o, want, msg)

static void test_tsv(void **state) {
    lmi_dataset *ds;
    lmi_load_options o;
    (void)state;
    /* header by name, labels sorted numerically */
    ds = ok_load("sentence\tlabel\nhello\t10\nbye\t9\nagain\t10\n", "x.tsv", NULL);
    assert_int_equal(ds->task, LMI_TASK_CLASSIFICATION);
    assert_int_equal(ds->n, 3);
    assert_int_equal(ds->labels.n, 2);
    assert_string_equal(ds->labels.names[0], "9");
    assert_string_equal(ds->labels.names[1], "10");
    assert_string_equal(ds->examples[0].text, "hello");
    assert_int_equal(ds->examples[0].label, 1);
    assert_int_equal(ds->examples[0].line, 2);
    assert_null(ds->examples[0].pair);
    lmi_dataset_free(ds);
    /* a header detected by its label cell (a name among numbers) */
    ds = ok_load("txt\tlab\nhi\t1\nyo\t0\n", "x.tsv", NULL);
    assert_int_equal(ds->n, 2);
    lmi_dataset_free(ds);
    /* no header */
    ds = ok_load("hi there\t1\nyo\t0\n", "x.tsv", NULL);
    assert_int_equal(ds->n, 2);
    assert_int_equal(ds->examples[0].line, 1);
    lmi_dataset_free(ds);
    /* string labels without header; the repeated value says row 1 is data */
    ds = ok_load("good\tpos\nbad\tneg\nfine\tpos\n", "x.tsv", NULL);
    assert_int_equal(ds->n, 3);
    assert_string_equal(ds->labels.names[0], "neg");
    assert_int_equal(ds->examples[0].label, 1);
    lmi_dataset_free(ds);
    /* string labels under an unknown header: a name seen once */
    ds = ok_load("txt\tlab\nhi there\tpos\nyo yo\tneg\n", "x.tsv", NULL);
    assert_int_equal(ds->n, 2);
    lmi_dataset_free(ds);
    /* header forced off */
    lmi_load_options_init(&o);
    o.header = 0;
    ds = ok_load("txt\tlab\nhi\tpos\n", "x.tsv", &o);
    assert_int_equal(ds->n, 2);
    lmi_dataset_free(ds);
    /* first-seen order */
    o.label_order = LMI_LABEL_ORDER_FIRST_SEEN;
    ds = ok_load("a\tz\nb\ty\nc\tz\n", "x.tsv", &o);
    assert_string_equal(ds->labels.names[0], "z");
    assert_string_equal(ds->labels.names[1], "y");
    lmi_dataset_free(ds);
    /* GLUE RTE layout: index, sentence1, sentence2, label; CRLF and a byte-order mark */
    ds = ok_load("\xEF\xBB\xBFindex\tsentence1\tsentence2\tlabel\r\n0\tA b.\tC d.\tentailment\r\n"
                 "1\tE f.\tG.\tnot_entailment\r\n", "rte.tsv", NULL);
    assert_int_equal(ds->n, 2);
    assert_string_equal(ds->examples[1].text, "E f.");
    assert_string_equal(ds->examples[1].pair, "G.");
    assert_int_equal(ds->examples[1].label, 1);
    lmi_dataset_free(ds);
    /* regression (STS-B): numbers with a fraction */
    ds = ok_load("sentence1\tsentence2\tscore\na\tb\t5.000\nc\td\t3.8\ne\tf\t1\n", "x.tsv", NULL);
    assert_int_equal(ds->task, LMI_TASK_REGRESSION);
    assert_true(ds->examples[1].value == 3.8f);
    assert_true(ds->examples[2].value == 1.0f);
    assert_int_equal(ds->labels.n, 0);
    lmi_dataset_free(ds);
    /* columns by name and index */
    lmi_load_options_init(&o);
    o.text.name = "b";
    o.label.name = "a";
    ds = ok_load("a\tb\tc\nx\ty\tz\n", "x.tsv", &o);
    assert_string_equal(ds->examples[0].text, "y");
    assert_string_equal(ds->labels.names[0], "x");
    lmi_dataset_free(ds);
    lmi_load_options_init(&o);
    o.text.index = 2;
    o.label.index = LMI_COLUMN_NONE;
    ds = ok_load("a\tb\tc\nx\ty\tz\n", "x.tsv", &o);
    assert_int_equal(ds->task, LMI_TASK_TEXT);
    assert_int_equal(ds->n, 2);
    assert_string_equal(ds->examples[1].text, "z");
    lmi_dataset_free(ds);
    /* blank lines are skipped */
    ds = ok_load("a\t1\n\n  \nb\t0\n", "x.tsv", NULL);
    assert_int_equal(ds->n, 2);
    assert_int_equal(ds->examples[1].line, 4);
    lmi_dataset_free(ds);
}

static void test_tsv_errors(void **state) {
    lmi_load_options o;
    lmi_dataset *train;
    (void)state;
    BAD("sentence\tlabel\nhello\t1\nbye\n", "x.tsv", NULL, LM_ERR_FORMAT,
        "x.tsv:3: 1 column, expected 2 (as the header on line 1)");
    BAD("sentence\tlabel\nhello\t1\nbye\t0\tmore\n", "x.tsv", NULL, LM_ERR_FORMAT,
        "x.tsv:3: 3 columns, expected 2");
    BAD("sentence\tlabel\nhel\xC3\x28lo\t1\n", "x.tsv", NULL, LM_ERR_UTF8,
        "x.tsv:2: invalid UTF-8 at byte 4 of the line");
    BAD("sentence\tlabel\nab\0c\t1\n", "x.tsv", NULL, LM_ERR_FORMAT, "x.tsv:2: NUL byte");
    BAD("sentence\tlabel\n\t1\n", "x.tsv", NULL, LM_ERR_FORMAT, "x.tsv:2: empty text");
    BAD("sentence\tlabel\nhi\t1\nyo\t\n", "x.tsv", NULL, LM_ERR_FORMAT, "x.tsv:3: empty label");
    BAD("", "x.tsv", NULL, LM_ERR_FORMAT, "x.tsv: no examples");
    BAD("sentence\tlabel\n", "x.tsv", NULL, LM_ERR_FORMAT, "x.tsv: no examples");
    lmi_load_options_init(&o);
    o.empty_line_error = 1;
    BAD("a\t1\n\nb\t0\n", "x.tsv", &o, LM_ERR_FORMAT, "x.tsv:2: blank line");
    lmi_load_options_init(&o);
    o.max_line_bytes = 16;
    BAD("a\t1\nthis line is too long\t0\n", "x.tsv", &o, LM_ERR_RANGE,
        "x.tsv:2: line longer than 16 bytes");
    lmi_load_options_init(&o);
    o.text.name = "sentence";
    o.header = 0;
    BAD("sentence\tlabel\nhi\t1\n", "x.tsv", &o, LM_ERR_INVALID_ARGUMENT, "has no header");
    o.header = -1;
    o.text.name = "text";
    BAD("sentence\tlabel\nhi\t1\n", "x.tsv", &o, LM_ERR_FORMAT, "no column named \"text\"");
    lmi_load_options_init(&o);
    o.text.index = 5;
    BAD("sentence\tlabel\nhi\t1\n", "x.tsv", &o, LM_ERR_FORMAT, "the text column 5 does not exist");
    lmi_load_options_init(&o);
    o.label_kind = LMI_LABELS_REGRESSION;
    BAD("s\tscore\na\t1.5\nb\thigh\n", "x.tsv", &o, LM_ERR_FORMAT,
        "x.tsv:3: label \"high\" is not a number");
    BAD("s\tscore\na\t1.5\nb\t1e999\n", "x.tsv", &o, LM_ERR_RANGE, "x.tsv:3: label 1e999");
    /* the training map applied to dev */
    train = ok_load("sentence\tlabel\na\tpos\nb\tneg\n", "train.tsv", NULL);
    lmi_load_options_init(&o);
    o.labels = &train->labels;
    {
        lmi_dataset *dev = ok_load("sentence\tlabel\nc\tneg\n", "dev.tsv", &o);
        assert_int_equal(dev->examples[0].label, 0);
        assert_int_equal(dev->labels.n, 2);
        lmi_dataset_free(dev);
    }
    BAD("sentence\tlabel\nc\tneg\nd\tmaybe\n", "dev.tsv", &o, LM_ERR_FORMAT,
        "dev.tsv:3: label \"maybe\" is not one of the 2 labels of the training data "
        "(\"neg\", \"pos\")");
    lmi_dataset_free(train);
}

static void test_many_labels(void **state) {
    size_t n = 1200, i, used = 0;
    char *text = malloc(n * 32 + 32);
    lmi_load_options o;
    lmi_dataset *ds;
    lm_status st;
    (void)state;
    used += (size_t)sprintf(text, "sentence\tlabel\n");
    for (i = 0; i < n; i++) {
        used += (size_t)sprintf(text + used, "s%zu\t%zu\n", i, i * 7);
    }
    bad(text, used, "ids.tsv", NULL, LM_ERR_RANGE,
        "ids.tsv:1002: more than 1000 distinct values in the label column: is it really a label "
        "column?");
    /* as regression they are fine */
    lmi_load_options_init(&o);
    o.label_kind = LMI_LABELS_REGRESSION;
    st = lmi_dataset_load_memory(text, used, "ids.tsv", &o, &ds);
    assert_int_equal(st, LM_OK);
    assert_int_equal(ds->task, LMI_TASK_REGRESSION);
    assert_true(ds->examples[5].value == 35.0f);
    lmi_dataset_free(ds);
    /* and with a higher limit as classes */
    lmi_load_options_init(&o);
    o.max_labels = 5000;
    assert_int_equal(lmi_dataset_load_memory(text, used, "ids.tsv", &o, &ds), LM_OK);
    assert_int_equal(ds->labels.n, n);
    assert_string_equal(ds->labels.names[1], "7"); /* numeric order */
    lmi_dataset_free(ds);
    free(text);
}

static void test_long_line(void **state) {
    size_t n = 5u << 20, i;
    char *text = malloc(n + 64);
    lmi_dataset *ds;
    (void)state;
    memcpy(text, "sentence\tlabel\n", 15);
    for (i = 15; i < n; i++) {
        text[i] = (char)(i % 7 == 0 ? ' ' : 'a' + (char)(i % 26));
    }
    memcpy(text + n, "\t1\nshort\t0\n", 11);
    assert_int_equal(lmi_dataset_load_memory(text, n + 11, "long.tsv", NULL, &ds), LM_OK);
    assert_int_equal(ds->n, 2);
    assert_int_equal(ds->examples[0].text_len, n - 15);
    lmi_dataset_free(ds);
    free(text);
}

static void test_csv(void **state) {
    lmi_dataset *ds;
    lmi_load_options o;
    (void)state;
    ds = ok_load("sentence,label\r\n\"a, b\",1\r\n\"say \"\"hi\"\"\",0\r\n\"two\nlines\",1\r\n"
                 "plain \"quote\" inside,0\r\nlast,1", "x.csv", NULL);
    assert_int_equal(ds->n, 5);
    assert_string_equal(ds->examples[0].text, "a, b");
    assert_string_equal(ds->examples[1].text, "say \"hi\"");
    assert_string_equal(ds->examples[2].text, "two\nlines");
    assert_int_equal(ds->examples[2].line, 4);
    assert_string_equal(ds->examples[3].text, "plain \"quote\" inside");
    assert_int_equal(ds->examples[3].line, 6);
    assert_int_equal(ds->examples[4].label, 1);
    lmi_dataset_free(ds);
    BAD("sentence,label\n\"never closed,1\nnext,0\n", "x.csv", NULL, LM_ERR_FORMAT,
        "x.csv:2: a quoted field is never closed");
    BAD("sentence,label\n\"ab\"x,1\n", "x.csv", NULL, LM_ERR_FORMAT,
        "x.csv:2: unexpected character 'x' after the closing quote");
    BAD("sentence,label\n\"a\nb\",1\nc,1,2\n", "x.csv", NULL, LM_ERR_FORMAT,
        "x.csv:4: 3 columns, expected 2");
    lmi_load_options_init(&o);
    o.max_line_bytes = 20;
    BAD("sentence,label\n\"a\nbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",1\n", "x.csv", &o, LM_ERR_RANGE,
        "x.csv:2: line longer than 20 bytes");
}

static void test_jsonl(void **state) {
    lmi_dataset *ds;
    lmi_load_options o;
    (void)state;
    ds = ok_load("{\"text\": \"good\", \"label\": 1}\n\n{\"text\": \"bad\", \"label\": 0, \"x\": [1]}\n",
                 "x.jsonl", NULL);
    assert_int_equal(ds->n, 2);
    assert_int_equal(ds->task, LMI_TASK_CLASSIFICATION);
    assert_string_equal(ds->labels.names[1], "1");
    assert_int_equal(ds->examples[1].line, 3);
    lmi_dataset_free(ds);
    ds = ok_load("{\"sentence1\": \"a\", \"sentence2\": \"b\", \"score\": 4.5}\n"
                 "{\"score\": 1.25, \"sentence2\": \"d\", \"sentence1\": \"c\"}\n", "x.jsonl", NULL);
    assert_int_equal(ds->task, LMI_TASK_REGRESSION);
    assert_string_equal(ds->examples[1].text, "c");
    assert_string_equal(ds->examples[1].pair, "d");
    assert_true(ds->examples[1].value == 1.25f);
    lmi_dataset_free(ds);
    /* only a text key: unlabeled */
    ds = ok_load("{\"text\": \"a\"}\n", "x.jsonl", NULL);
    assert_int_equal(ds->task, LMI_TASK_TEXT);
    lmi_dataset_free(ds);
    BAD("{\"text\": \"a\", \"label\": 1}\n[1, 2]\n", "x.jsonl", NULL, LM_ERR_FORMAT,
        "x.jsonl:2: not a JSON object");
    BAD("{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \n", "x.jsonl", NULL, LM_ERR_FORMAT,
        "x.jsonl:2: malformed JSON");
    BAD("{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\"}\n", "x.jsonl", NULL, LM_ERR_FORMAT,
        "x.jsonl:2: no key \"label\"");
    BAD("{\"text\": \"a\", \"label\": 1}\n{\"text\": 5, \"label\": 1}\n", "x.jsonl", NULL,
        LM_ERR_FORMAT, "x.jsonl:2: key \"text\" (the text column) is not a string");
    lmi_load_options_init(&o);
    o.header = 1;
    BAD("{\"text\": \"a\"}\n", "x.jsonl", &o, LM_ERR_INVALID_ARGUMENT, "no header row");
}

static void test_conll(void **state) {
    lmi_dataset *ds, *dev;
    lmi_load_options o;
    (void)state;
    ds = ok_load("-DOCSTART-\tO\n\nJohn\tB-PER\nlives\tO\nin\tO\nNew\tB-LOC\nYork\tI-LOC\n\n\n"
                 "Hi\tO\n", "x.conll", NULL);
    assert_int_equal(ds->task, LMI_TASK_TOKENS);
    assert_int_equal(ds->n, 2);
    assert_int_equal(ds->n_words, 6);
    assert_int_equal(ds->examples[0].count, 5);
    assert_int_equal(ds->examples[0].line, 3);
    assert_int_equal(ds->examples[1].first, 5);
    assert_int_equal(ds->labels.n, 4); /* B-LOC B-PER I-LOC O */
    assert_string_equal(ds->labels.names[0], "B-LOC");
    assert_string_equal(ds->words[4].text, "York");
    assert_int_equal(ds->words[4].label, 2);
    /* the dev file with the training map */
    lmi_load_options_init(&o);
    o.labels = &ds->labels;
    dev = ok_load("Paris\tB-LOC\n", "dev.conll", &o);
    assert_int_equal(dev->words[0].label, 0);
    lmi_dataset_free(dev);
    BAD("Paris\tB-LOC\nRome\tB-CITY\n", "dev.conll", &o, LM_ERR_FORMAT,
        "dev.conll:2: label \"B-CITY\" is not one of the 4 labels");
    lmi_dataset_free(ds);
    /* CoNLL-2003: four space-separated columns, the tag last */
    ds = ok_load("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n", "x.conll", NULL);
    assert_int_equal(ds->n, 1);
    assert_string_equal(ds->labels.names[ds->words[0].label], "B-ORG");
    lmi_dataset_free(ds);
    /* integer tags sort as text, as run_ner's string tags do */
    ds = ok_load("a\t10\nb\t9\n", "x.conll", NULL);
    assert_string_equal(ds->labels.names[0], "10");
    lmi_dataset_free(ds);
    /* tokens only */
    ds = ok_load("a\nb\n\nc\n", "x.conll", NULL);
    assert_int_equal(ds->n, 2);
    assert_int_equal(ds->words[0].label, -1);
    lmi_dataset_free(ds);
    BAD("a\tO\nb\tO\n\nc\n", "x.conll", NULL, LM_ERR_FORMAT, "x.conll:4: 1 column, no tag column 2");
    BAD("a\tO\n\tO\n", "x.conll", NULL, LM_ERR_FORMAT, "x.conll:2: empty token");
    BAD("a\tO\nb\t\n", "x.conll", NULL, LM_ERR_FORMAT, "x.conll:2: empty label");
    BAD("a\tO\nb\xFF\tO\n", "x.conll", NULL, LM_ERR_UTF8, "x.conll:2: invalid UTF-8");
    lmi_load_options_init(&o);
    o.tag.name = "ner";
    BAD("a\tO\n", "x.conll", &o, LM_ERR_INVALID_ARGUMENT, "CoNLL columns have no names");
}

static void test_squad(void **state) {
    lmi_dataset *ds;
    const char *good =
        "{\"version\": \"1.1\", \"data\": [{\"title\": \"t\", \"paragraphs\": [{\"context\": "
        "\"Der Ba\\u00e4r sa\\u00df im Wald.\", \"qas\": [{\"id\": \"q1\", \"question\": \" Wo?\", "
        "\"answers\": [{\"text\": \"im Wald\", \"answer_start\": 13}, {\"text\": \"Wald\", "
        "\"answer_start\": 16}]}, {\"id\": \"q2\", \"question\": \"Wer?\", \"answers\": []}]}]}]}";
    (void)state;
    ds = ok_load(good, "x.json", NULL);
    assert_int_equal(ds->task, LMI_TASK_QA);
    assert_int_equal(ds->n, 2);
    assert_string_equal(ds->examples[0].id, "q1");
    assert_string_equal(ds->examples[0].text, " Wo?");
    assert_int_equal(ds->examples[0].count, 2);
    assert_int_equal(ds->answers[0].start_char, 13);
    assert_int_equal(ds->answers[0].start, 15); /* two 2-byte letters before it */
    assert_int_equal(ds->answers[0].end, 22);
    assert_int_equal(ds->examples[1].count, 0);
    lmi_dataset_free(ds);
    BAD("{\"data\": [{\"paragraphs\": [{\"context\": \"abc\", \"qas\": [{\"id\": \"a\", \"question\": "
        "\"q\", \"answers\": [{\"text\": \"c\", \"answer_start\": 2}, {\"text\": \"cd\", "
        "\"answer_start\": 2}]}]}]}]}", "x.json", NULL, LM_ERR_FORMAT,
        "x.json: data[0].paragraphs[0].qas[0].answers[1]: the answer (characters 2 to 4) runs past "
        "the end of the context (3 characters)");
    BAD("{\"data\": [{\"paragraphs\": [{\"context\": \"abc\", \"qas\": [{\"id\": \"a\", "
        "\"answers\": []}]}]}]}", "x.json", NULL, LM_ERR_FORMAT,
        "x.json: data[0].paragraphs[0].qas[0]: \"question\" is missing or not a string");
    BAD("{\"data\": [{\"paragraphs\": [{\"context\": \"abc\", \"qas\": [{\"id\": \"a\", \"question\": "
        "\"q\", \"answers\": [{\"text\": \"c\", \"answer_start\": -1}]}]}]}]}", "x.json", NULL,
        LM_ERR_RANGE, "answer_start");
    BAD("{\"data\": [{\"title\": \"x\"}]}", "x.json", NULL, LM_ERR_FORMAT,
        "x.json: data[0]: no \"paragraphs\" array");
    BAD("{\"version\": \"2\"}", "x.json", NULL, LM_ERR_FORMAT, "no \"data\" array");
    BAD("{\"data\": [", "x.json", NULL, LM_ERR_FORMAT, "x.json: malformed JSON");
    BAD("{\"data\": []}", "x.json", NULL, LM_ERR_FORMAT, "x.json: no examples");
}

static void test_text_and_files(void **state) {
    lmi_dataset *ds;
    lmi_load_options o;
    (void)state;
    ds = ok_load("first line\n\n   \nsecond\r\n", "x.txt", NULL);
    assert_int_equal(ds->task, LMI_TASK_TEXT);
    assert_int_equal(ds->n, 2);
    assert_string_equal(ds->examples[1].text, "second");
    assert_int_equal(ds->examples[1].line, 4);
    lmi_dataset_free(ds);
    /* the committed samples, from their files */
    assert_int_equal(lmi_dataset_load(DATA_DIR "/sst2.tsv", NULL, &ds), LM_OK);
    assert_int_equal(ds->n, 40);
    lmi_dataset_free(ds);
    assert_int_equal(lmi_dataset_load(DATA_DIR "/rte.tsv", NULL, &ds), LM_OK);
    assert_int_equal(ds->n, 12);
    assert_non_null(ds->examples[0].pair);
    lmi_dataset_free(ds);
    assert_int_equal(lmi_dataset_load(DATA_DIR "/wnut17.conll", NULL, &ds), LM_OK);
    assert_int_equal(ds->n, 50);
    lmi_dataset_free(ds);
    assert_int_equal(lmi_dataset_load(DATA_DIR "/squad.json", NULL, &ds), LM_OK);
    assert_int_equal(ds->n, 30);
    lmi_dataset_free(ds);
    assert_int_equal(lmi_dataset_load(DATA_DIR "/missing.tsv", NULL, &ds), LM_ERR_NOT_FOUND);
    assert_null(ds);
    assert_non_null(strstr(lm_last_error(), "missing.tsv"));
    assert_int_equal(lmi_dataset_load(DATA_DIR "/sst2.unknown", NULL, &ds), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "cannot tell the format"));
    lmi_load_options_init(&o);
    o.format = LMI_FORMAT_JSONL;
    assert_int_equal(lmi_dataset_load(DATA_DIR "/sst2.csv", &o, &ds), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "sst2.csv:1: malformed JSON"));
    lmi_load_options_init(&o);
    o.max_file_bytes = 100;
    assert_int_equal(lmi_dataset_load(DATA_DIR "/squad.json", &o, &ds), LM_ERR_RANGE);
    assert_int_equal(lmi_format_from_path("a/b.JSONL"), LMI_FORMAT_JSONL);
}

static void test_label_map(void **state) {
    const char *names[3] = {"NEG", "POS", "MIX"};
    const char *dup[2] = {"a", "a"};
    lmi_label_map m, c;
    (void)state;
    assert_int_equal(lmi_label_map_init(&m, names, 3), LM_OK);
    assert_int_equal(lmi_label_map_find(&m, "POS", 3), 1);
    assert_int_equal(lmi_label_map_find(&m, "PO", 2), -1);
    assert_string_equal(lmi_label_map_name(&m, 2), "MIX");
    assert_null(lmi_label_map_name(&m, 3));
    assert_int_equal(lmi_label_map_copy(&c, &m), LM_OK);
    lmi_label_map_clear(&m);
    assert_int_equal(lmi_label_map_find(&c, "MIX", 3), 2);
    lmi_label_map_clear(&c);
    assert_int_equal(lmi_label_map_init(&m, dup, 2), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "appears twice"));
}

static lm_status load_body(void *arg) {
    const char *text = arg;
    lmi_dataset *ds = NULL;
    const char *name = text[0] == '{' ? "x.json" : strchr(text, ',') ? "x.csv" : "x.tsv";
    lm_status st;
    if (strncmp(text, "-DOC", 4) == 0) {
        name = "x.conll";
    }
    st = lmi_dataset_load_memory(text, strlen(text), name, NULL, &ds);
    lmi_dataset_free(ds);
    return st;
}

static void test_allocation_failures(void **state) {
    (void)state;
    TEST_EVERY_ALLOCATION_FAILURE(load_body, "sentence\tlabel\nhello there\tpos\nbye\tneg\n");
    TEST_EVERY_ALLOCATION_FAILURE(load_body, "a,b,label\n\"x\ny\",z,1.5\nc,d,2\n");
    TEST_EVERY_ALLOCATION_FAILURE(load_body, "-DOCSTART-\tO\n\nJohn\tB-PER\nsays\tO\n\nhi\tO\n");
    TEST_EVERY_ALLOCATION_FAILURE(
        load_body, "{\"data\": [{\"paragraphs\": [{\"context\": \"abc\", \"qas\": [{\"id\": \"a\", "
                   "\"question\": \"q\", \"answers\": [{\"text\": \"c\", \"answer_start\": 2}]}]}]}]}");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsv),
        cmocka_unit_test(test_tsv_errors),
        cmocka_unit_test(test_many_labels),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_conll),
        cmocka_unit_test(test_squad),
        cmocka_unit_test(test_text_and_files),
        cmocka_unit_test(test_label_map),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
