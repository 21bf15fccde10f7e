// Tests of include/lm.hpp, the C++17 layer: every owner frees its handle (run under ASan or
// valgrind by make check-asan / check-valgrind), errors carry the status and the library's
// sentence, and every text-level call gives exactly the C API's numbers.
// Usage: test_hpp SOURCE_DIR   (prints "N passed, M failed"; exit status 1 on a failure)
#include <lm.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

static int passed = 0, failed = 0;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            std::fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);                \
        }                                                                                          \
    } while (0)

static std::string models;

static std::vector<std::string> sample_texts() {
    return {"gives us a reason to care about them", "a", "",
            "John Smith moved from Paris to New York in 2019.",
            "Unaffable UNAFFABLE unaffable, naïve café — “quotes”!"};
}

static void test_errors() {
    try {
        lm::model m = lm::model::load(models + "/no-such-model");
        EXPECT(false);
    } catch (const lm::error &e) {
        EXPECT(e.status() == LM_ERR_NOT_FOUND);
        EXPECT(std::string(e.name()) == "LM_ERR_NOT_FOUND");
        EXPECT(e.message().find("no-such-model") != std::string::npos);
        EXPECT(std::string(e.what()).rfind("LM_ERR_NOT_FOUND: ", 0) == 0);
    }
    lm::result<lm::model> r = lm::try_load(models + "/no-such-model");
    EXPECT(!r.ok());
    EXPECT(r.status() == LM_ERR_NOT_FOUND);
    EXPECT(!r.message().empty());
    lm::result<lm::model> good = lm::try_load(models + "/seqcls");
    EXPECT(good.ok());
    EXPECT(good->num_labels() == 3);
    // invalid UTF-8 is LM_ERR_UTF8, and with the option it is replaced
    lm::model m = std::move(good).value();
    const char bad[] = {'a', ' ', '\xff', ' ', 'b'};
    try {
        m.classify({std::string_view(bad, sizeof bad)});
        EXPECT(false);
    } catch (const lm::error &e) {
        EXPECT(e.status() == LM_ERR_UTF8);
    }
    lm_text_options o = lm::text_options();
    o.replace_invalid_utf8 = 1;
    EXPECT(m.classify({std::string_view(bad, sizeof bad)}, &o).size() == 1);
    // a head the model lacks is LM_ERR_STATE
    try {
        m.fill_mask({"a [MASK] b"});
        EXPECT(false);
    } catch (const lm::error &e) {
        EXPECT(e.status() == LM_ERR_STATE);
    }
    // pairs of unequal length are refused before the library is called
    try {
        m.classify({"a", "b"}, {"c"});
        EXPECT(false);
    } catch (const lm::error &e) {
        EXPECT(e.status() == LM_ERR_INVALID_ARGUMENT);
    }
}

static void test_tokenizer() {
    lm::tokenizer tok = lm::tokenizer::load(models + "/seqcls");
    EXPECT(tok.vocab_size() > 100);
    lm::encoding e = tok.encode("Gives us a reason");
    EXPECT(e.size() >= 4);
    EXPECT(e.ids()[0] == tok.special_id(LM_SPECIAL_CLS));
    EXPECT(e.ids()[e.size() - 1] == tok.special_id(LM_SPECIAL_SEP));
    EXPECT(tok.decode(e.ids(), true) == "gives us a reason");
    EXPECT(tok.id_to_token(e.ids()[0]).value() == "[CLS]");
    EXPECT(!tok.id_to_token(-5).has_value());
    // the same ids as the C call
    lm_encoding_t *raw = nullptr;
    EXPECT(lm_tokenizer_encode(tok.get(), "Gives us a reason", 17, nullptr, &raw) == LM_OK);
    EXPECT(lm_encoding_length(raw) == e.size());
    EXPECT(std::memcmp(lm_encoding_ids(raw), e.ids().data(), e.size() * 4) == 0);
    lm_encoding_free(raw);
    auto pair = tok.encode("a question", "a context");
    EXPECT(pair.type_ids()[pair.size() - 1] == 1);
    std::vector<std::string> in = sample_texts();
    std::vector<lm::encoding> batch = tok.encode_batch(in);
    EXPECT(batch.size() == in.size());
    EXPECT(batch[1].size() == 3);
    auto off = batch[0].offsets(1);
    EXPECT(off.first == 0 && off.second == 5);
    lm::tokenizer moved = std::move(tok);
    EXPECT(moved.vocab_size() > 100);
}

static void test_embed() {
    lm::model m = lm::model::load(models + "/mlm");
    std::vector<std::string> in = sample_texts();
    lm::matrix e = m.embed(in);
    EXPECT(e.rows == in.size() && e.cols == m.hidden_size());
    std::vector<const char *> p;
    for (auto &s : in) {
        p.push_back(s.c_str());
    }
    std::vector<float> c(in.size() * m.hidden_size());
    EXPECT(lm_embed_texts(m.get(), in.size(), p.data(), nullptr, nullptr, c.data(), c.size()) ==
           LM_OK);
    EXPECT(std::memcmp(c.data(), e.data.data(), c.size() * sizeof(float)) == 0);
    // a row alone is the same row (batch independence, through the wrapper)
    lm::matrix one = m.embed({in[3]});
    EXPECT(std::memcmp(one[0].data(), e[3].data(), e.cols * sizeof(float)) == 0);
    lm_text_options o = lm::text_options();
    o.normalize = 1;
    lm::matrix n = m.embed(in, &o);
    double norm = 0;
    for (float v : n[0]) {
        norm += double(v) * v;
    }
    EXPECT(std::fabs(norm - 1.0) < 1e-5);
    EXPECT(m.embed(lm::texts()).rows == 0);
    // hidden states on ids, as the C call
    lm::encoding enc = m.tokenizer().encode(in[0]);
    lm::matrix h = m.hidden_states(enc.ids(), {}, {}, 1);
    EXPECT(h.rows == enc.size() && h.cols == m.hidden_size());
    std::vector<float> hc(h.data.size());
    EXPECT(lm_model_hidden_states(m.get(), enc.ids().data(), nullptr, nullptr, 1, enc.size(),
                                  hc.data(), nullptr) == LM_OK);
    EXPECT(std::memcmp(hc.data(), h.data.data(), hc.size() * sizeof(float)) == 0);
}

static void test_classify() {
    lm::model m = lm::model::load(models + "/seqcls");
    std::vector<std::string> in = sample_texts();
    lm_text_options o = lm::text_options();
    o.top_k = -1;
    auto r = m.classify(in, &o);
    EXPECT(r.size() == in.size());
    EXPECT(r[0].size() == 3);
    std::vector<lm_label_score> c(in.size() * 3);
    size_t k = 0;
    std::vector<const char *> p;
    for (auto &s : in) {
        p.push_back(s.c_str());
    }
    EXPECT(lm_classify_texts(m.get(), in.size(), p.data(), nullptr, nullptr, nullptr, &o,
                             c.data(), c.size(), &k) == LM_OK);
    EXPECT(k == 3);
    bool same = true;
    for (size_t i = 0; i < in.size(); i++) {
        for (size_t j = 0; j < 3; j++) {
            same = same && r[i][j].id == c[i * 3 + j].label && r[i][j].score == c[i * 3 + j].score;
        }
    }
    EXPECT(same);
    EXPECT(r[0][0].name == "negative" || r[0][0].name == "neutral" || r[0][0].name == "positive");
    auto best = m.classify({"a man is playing a guitar ."});
    EXPECT(best.size() == 1 && best[0].size() == 1);
    auto pairs = m.classify({"a man is dancing .", "a woman cuts an onion ."},
                            {"a man dances .", ""});
    EXPECT(pairs.size() == 2);
    // an empty second text is a single text, as in the pipeline
    EXPECT(std::fabs(pairs[1][0].score - m.classify({"a woman cuts an onion ."})[0][0].score) < 1e-6);
    lm::matrix logits = m.logits(m.tokenizer().encode("a").ids(), {}, {}, 1);
    EXPECT(logits.rows == 1 && logits.cols == 3);
}

static void test_fill_mask() {
    lm::model m = lm::model::load(models + "/mlm");
    std::vector<std::string> in = {"the [MASK] is good .", "[MASK] and [MASK] again", "a [MASK]"};
    auto r = m.fill_mask(in);
    EXPECT(r.size() == 3);
    EXPECT(r[0].size() == 1 && r[1].size() == 2 && r[2].size() == 1);
    EXPECT(r[1][1].size() == 5);
    std::vector<const char *> p;
    for (auto &s : in) {
        p.push_back(s.c_str());
    }
    std::vector<lm_token_score> c(20);
    size_t n = 0;
    EXPECT(lm_fill_mask(m.get(), 3, p.data(), nullptr, nullptr, c.data(), c.size(), &n,
                        nullptr) == LM_OK);
    EXPECT(n == 20);
    EXPECT(r[1][0][0].id == c[5].token_id && r[1][0][0].score == c[5].score);
    EXPECT(r[2][0][4].id == c[19].token_id && r[2][0][4].score == c[19].score);
    EXPECT(r[0][0][0].token == m.tokenizer().id_to_token(c[0].token_id).value());
    try {
        m.fill_mask({"no mask here"});
        EXPECT(false);
    } catch (const lm::error &e) {
        EXPECT(e.status() == LM_ERR_INVALID_ARGUMENT);
    }
}

static void test_qa_and_tag() {
    lm::model qa = lm::model::load(models + "/qa");
    lm_text_options o = lm::text_options();
    o.top_k = 2;
    std::string ctx = "The Eiffel tower is in Paris. It was built in 1889 by Gustave Eiffel.";
    auto a = qa.answer_questions({"Where is the tower?", "When was it built?"}, {ctx, ctx}, &o);
    EXPECT(a.size() == 2 && a[0].size() == 2);
    EXPECT(a[0][0].score >= a[0][1].score);
    EXPECT(a[0][0].text == ctx.substr(size_t(a[0][0].byte_start),
                                      size_t(a[0][0].byte_end - a[0][0].byte_start)));
    std::vector<lm_answer> c(2);
    const char *q = "Where is the tower?";
    const char *cp = ctx.c_str();
    EXPECT(lm_answer_questions(qa.get(), 1, &q, nullptr, &cp, nullptr, &o, c.data(), 2) == LM_OK);
    EXPECT(c[1].start == a[0][1].start && c[1].score == a[0][1].score);

    lm::model tagger = lm::model::load(models + "/tagger");
    std::vector<std::string> in = sample_texts();
    for (int32_t agg = LM_AGGREGATE_NONE; agg <= LM_AGGREGATE_MAX; agg++) {
        lm_text_options t = lm::text_options();
        t.aggregation = agg;
        auto r = tagger.tag(in, &t);
        std::vector<const char *> p;
        for (auto &s : in) {
            p.push_back(s.c_str());
        }
        std::vector<lm_entity> raw(1000);
        size_t n = 0;
        EXPECT(lm_tag_texts(tagger.get(), in.size(), p.data(), nullptr, &t, raw.data(), raw.size(),
                            &n) == LM_OK);
        size_t total = 0, at = 0;
        bool same = true;
        for (size_t i = 0; i < r.size(); i++) {
            total += r[i].size();
            for (const lm::entity &e : r[i]) {
                same = same && raw[at].text == int32_t(i) && raw[at].label == e.label &&
                       raw[at].score == e.score && raw[at].start == e.start;
                same = same && e.word == in[i].substr(size_t(e.byte_start),
                                                      size_t(e.byte_end - e.byte_start));
                at++;
            }
        }
        EXPECT(n > 0 && total == n && same);
    }
}

static void test_create_save() {
    const char *config = "{\"vocab_size\": 120, \"hidden_size\": 16, \"num_hidden_layers\": 1, "
                         "\"num_attention_heads\": 2, \"intermediate_size\": 20, "
                         "\"max_position_embeddings\": 32, \"architectures\": [\"BertModel\"]}";
    lm::model m = lm::model::create(config, 7);
    EXPECT(m.hidden_size() == 16 && m.num_layers() == 1);
    EXPECT(m.config_json().find("\"hidden_size\"") != std::string::npos);
    try {
        (void)m.tokenizer();
        EXPECT(false);
    } catch (const lm::error &e) {
        EXPECT(e.status() == LM_ERR_STATE);
    }
    try {
        (void)m.embed({"a"});
        EXPECT(false);
    } catch (const lm::error &e) {
        EXPECT(e.status() == LM_ERR_STATE);
    }
    EXPECT(lm::version_matches());
    EXPECT(lm::version() == LM_VERSION_STRING);
}

#ifdef LM_TRAINER_H
static void test_trainer() {
    lm::model m = lm::model::load(models + "/seqcls");
    std::vector<std::string> in = {"a good film", "a bad film", "great acting", "awful plot"};
    lm::batch b = lm::batch::from(m.tokenizer().encode_batch(in));
    b.labels = {2, 0, 2, 0};
    lm_trainer_options o = lm::trainer_options();
    o.schedule = LM_SCHEDULE_CONSTANT;
    o.learning_rate = 1e-3;
    lm::trainer t(m, &o);
    float first = t.evaluate(b), last = first;
    for (int i = 0; i < 10; i++) {
        last = t.step(b);
    }
    EXPECT(t.steps() == 10 && t.grad_norm() > 0);
    EXPECT(t.evaluate(b) < first);
    auto r = t.evaluate(b, b.rows * m.num_labels());
    lm::matrix logits = m.logits(b.ids, b.type_ids, b.attention_mask, b.rows);
    bool close = true;
    for (size_t i = 0; i < logits.data.size(); i++) {
        close = close && std::fabs(logits.data[i] - r.second[i]) < 1e-5f;
    }
    EXPECT(close);
    (void)last;
    b.labels = {0, 9, 0, 0}; // label 9 of 3
    try {
        t.step(b);
        EXPECT(false);
    } catch (const lm::error &e) {
        EXPECT(e.status() == LM_ERR_RANGE);
    }
    lm_model_options mo = lm::model_options();
    mo.head = LM_HEAD_BASE;
    lm::model base = lm::model::load(models + "/mlm", &mo);
    try {
        lm::trainer bt(base, &o);
        EXPECT(false);
    } catch (const lm::error &e) {
        EXPECT(e.status() == LM_ERR_STATE);
    }
}
#endif

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: test_hpp SOURCE_DIR\n");
        return 2;
    }
    models = std::string(argv[1]) + "/tests/data/pipeline/models";
    try {
        test_errors();
        test_tokenizer();
        test_embed();
        test_classify();
        test_fill_mask();
        test_qa_and_tag();
        test_create_save();
#ifdef LM_TRAINER_H
        test_trainer();
#endif
    } catch (const std::exception &e) {
        std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        failed++;
    }
    std::printf("lm.hpp: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
