/*
 * lm.hpp: an optional, header-only C++17 layer over the C API of lm.h.
 *
 * - Every handle has an owner (move-only, freed in its destructor): lm::tokenizer, lm::model,
 *   lm::encoding (and lm::trainer when the library has one). lm::tokenizer_ref borrows a
 *   tokenizer (the one a model owns).
 * - A failing call throws lm::error, which carries the lm_status (status(), name()) and the
 *   sentence of lm_last_error() (what()). lm::result<T> and the try_* functions give the same
 *   without exceptions, expected-style.
 * - The text-level calls take any list of texts (std::vector<std::string>, an initializer list of
 *   string literals, lm::span<const std::string_view>, ...) and return vectors.
 *
 *   lm::model m = lm::model::load("all-MiniLM-L6-v2");
 *   lm::matrix e = m.embed({"a first sentence", "a second one"});   // e.rows x e.cols floats
 *   for (const auto &r : m.classify({"great film"})) std::cout << r[0].name << "\n";
 *
 * Only lm.h is needed to build against it; it adds no symbol to the library.
 */
#ifndef LM_HPP
#define LM_HPP

#if __cplusplus < 201703L && (!defined(_MSVC_LANG) || _MSVC_LANG < 201703L)
#error "lm.hpp needs C++17 (the C API, lm.h, builds as C++11)"
#endif

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "lm.h"

namespace lm {

/* ---- spans ---------------------------------------------------------------------------------- */

/** A view of `size()` contiguous elements (std::span's subset, for C++17). */
template <class T> class span {
  public:
    constexpr span() noexcept = default;
    constexpr span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    template <class C, class = decltype(std::declval<C &>().data()),
              class = std::enable_if_t<std::is_convertible_v<
                  std::remove_pointer_t<decltype(std::declval<C &>().data())> (*)[], T (*)[]>>>
    constexpr span(C &c) noexcept : data_(c.data()), size_(c.size()) {}
    template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
    constexpr span(std::initializer_list<U> l) noexcept : data_(l.begin()), size_(l.size()) {}
    constexpr T *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }
    constexpr T *begin() const noexcept { return data_; }
    constexpr T *end() const noexcept { return data_ + size_; }
    /** Copies the elements into a vector. */
    std::vector<std::remove_const_t<T>> to_vector() const { return {begin(), end()}; }

  private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

/* ---- errors --------------------------------------------------------------------------------- */

/** A failed liblm call: the status and the library's sentence (lm_last_error()). */
class error : public std::runtime_error {
  public:
    error(lm_status status, const std::string &message)
        : std::runtime_error(std::string(lm_status_string(status)) + ": " + message),
          status_(status), message_(message) {}
    /** The status code. */
    lm_status status() const noexcept { return status_; }
    /** Its name, e.g. "LM_ERR_NOT_FOUND". */
    const char *name() const noexcept { return lm_status_string(status_); }
    /** The library's sentence alone (what() is "NAME: sentence"). */
    const std::string &message() const noexcept { return message_; }

  private:
    lm_status status_;
    std::string message_;
};

/** Throws lm::error for a status other than LM_OK, with the calling thread's lm_last_error(). */
inline void check(lm_status s) {
    if (s != LM_OK) {
        throw error(s, lm_last_error());
    }
}

/** A value or the failure that prevented it (std::expected's subset): ok() tells which. */
template <class T> class result {
  public:
    result(T value) : v_(std::move(value)) {}
    result(const error &e) : v_(e) {}
    bool ok() const noexcept { return std::holds_alternative<T>(v_); }
    explicit operator bool() const noexcept { return ok(); }
    /** LM_OK, or the failure's status. */
    lm_status status() const noexcept { return ok() ? LM_OK : std::get<error>(v_).status(); }
    /** "" or the failure's sentence. */
    std::string message() const { return ok() ? std::string() : std::get<error>(v_).message(); }
    /** The value; throws the failure when there is none. */
    T &value() & {
        if (!ok()) {
            throw std::get<error>(v_);
        }
        return std::get<T>(v_);
    }
    /** The value, moved out; throws the failure when there is none. */
    T &&value() && {
        if (!ok()) {
            throw std::get<error>(v_);
        }
        return std::get<T>(std::move(v_));
    }
    T *operator->() { return &value(); }
    T &operator*() & { return value(); }

  private:
    std::variant<T, error> v_;
};

/** Runs `f` and returns its value, or the lm::error it threw, as a result. */
template <class F> auto try_call(F &&f) -> result<decltype(f())> {
    try {
        return f();
    } catch (const error &e) {
        return e;
    }
}

/* ---- options -------------------------------------------------------------------------------- */

namespace detail {
template <class T> T init_options(lm_status (*init)(T *, std::size_t)) {
    T o{};
    check(init(&o, sizeof o));
    return o;
}
inline std::string str(const char *s) { return s == nullptr ? std::string() : std::string(s); }
} // namespace detail

/** lm_tokenizer_options with the defaults. */
inline lm_tokenizer_options tokenizer_options() {
    return detail::init_options(lm_tokenizer_options_init);
}
/** lm_encode_options with the defaults. */
inline lm_encode_options encode_options() { return detail::init_options(lm_encode_options_init); }
/** lm_model_options with the defaults. */
inline lm_model_options model_options() { return detail::init_options(lm_model_options_init); }
/** lm_text_options with the defaults. */
inline lm_text_options text_options() { return detail::init_options(lm_text_options_init); }

/* ---- texts ---------------------------------------------------------------------------------- */

/** A list of texts as the C calls take them (pointers and byte lengths), made from any list of
 *  strings. It borrows the characters: the strings must outlive it. */
class texts {
  public:
    texts() = default;
    texts(std::initializer_list<std::string_view> l) { add_all(l); }
    texts(span<const std::string_view> l) { add_all(l); }
    texts(const std::vector<std::string_view> &l) { add_all(l); }
    texts(const std::vector<std::string> &l) { add_all(l); }
    texts(span<const std::string> l) { add_all(l); }
    texts(std::string_view one) { add(one); }
    texts(const char *one) { add(one); }
    texts(const std::string &one) { add(one); }
    void add(std::string_view s) {
        ptr_.push_back(s.data() == nullptr ? "" : s.data());
        len_.push_back(s.size());
    }
    std::size_t size() const noexcept { return ptr_.size(); }
    const char *const *data() const noexcept { return ptr_.data(); }
    const std::size_t *lens() const noexcept { return len_.data(); }
    std::string_view operator[](std::size_t i) const { return {ptr_[i], len_[i]}; }

  private:
    template <class L> void add_all(const L &l) {
        ptr_.reserve(l.size());
        len_.reserve(l.size());
        for (const auto &s : l) {
            add(std::string_view(s));
        }
    }
    std::vector<const char *> ptr_;
    std::vector<std::size_t> len_;
};

/* ---- tokenizers ----------------------------------------------------------------------------- */

namespace detail {
struct free_tokenizer {
    void operator()(lm_tokenizer_t *p) const noexcept { lm_tokenizer_free(p); }
};
struct free_encoding {
    void operator()(lm_encoding_t *p) const noexcept { lm_encoding_free(p); }
};
struct free_model {
    void operator()(lm_model_t *p) const noexcept { lm_model_free(p); }
};
struct free_buffer {
    void operator()(void *p) const noexcept { lm_free(p); }
};
} // namespace detail

/** A view of an encoding (lm_encoding_t), owned elsewhere. */
class encoding_ref {
  public:
    explicit encoding_ref(const lm_encoding_t *e) noexcept : e_(e) {}
    /** Number of tokens. */
    std::size_t size() const noexcept { return lm_encoding_length(e_); }
    span<const std::int32_t> ids() const noexcept { return {lm_encoding_ids(e_), size()}; }
    span<const std::int32_t> type_ids() const noexcept {
        return {lm_encoding_type_ids(e_), size()};
    }
    span<const std::int32_t> attention_mask() const noexcept {
        return {lm_encoding_attention_mask(e_), size()};
    }
    span<const std::int32_t> special_tokens_mask() const noexcept {
        return {lm_encoding_special_tokens_mask(e_), size()};
    }
    span<const std::int32_t> word_ids() const noexcept {
        return {lm_encoding_word_ids(e_), size()};
    }
    span<const std::int32_t> sequence_ids() const noexcept {
        return {lm_encoding_sequence_ids(e_), size()};
    }
    /** Character offsets of token i: [start, end). */
    std::pair<std::size_t, std::size_t> offsets(std::size_t i) const noexcept {
        const std::size_t *o = lm_encoding_offsets(e_);
        return {o[2 * i], o[2 * i + 1]};
    }
    /** Byte offsets of token i: [start, end). */
    std::pair<std::size_t, std::size_t> byte_offsets(std::size_t i) const noexcept {
        const std::size_t *o = lm_encoding_byte_offsets(e_);
        return {o[2 * i], o[2 * i + 1]};
    }
    /** Number of overflow windows. */
    std::size_t overflow_count() const noexcept { return lm_encoding_overflow_count(e_); }
    /** Overflow window i (owned by this encoding). */
    encoding_ref overflow(std::size_t i) const noexcept {
        return encoding_ref(lm_encoding_overflow(e_, i));
    }
    const lm_encoding_t *get() const noexcept { return e_; }

  protected:
    const lm_encoding_t *e_;
};

/** An encoding, owned (lm_encoding_free() when destroyed). */
class encoding : public encoding_ref {
  public:
    explicit encoding(lm_encoding_t *e) noexcept : encoding_ref(e), owner_(e) {}
    encoding(encoding &&o) noexcept : encoding_ref(o.e_), owner_(std::move(o.owner_)) {
        o.e_ = nullptr;
    }
    encoding &operator=(encoding &&o) noexcept {
        owner_ = std::move(o.owner_);
        e_ = o.e_;
        o.e_ = nullptr;
        return *this;
    }

  private:
    std::unique_ptr<lm_encoding_t, detail::free_encoding> owner_;
};

/** The read-only operations of a tokenizer, borrowed (the model's own) or owned (lm::tokenizer). */
class tokenizer_ref {
  public:
    explicit tokenizer_ref(const lm_tokenizer_t *t) noexcept : t_(t) {}
    std::size_t vocab_size() const noexcept { return lm_tokenizer_vocab_size(t_); }
    /** The id of a token, or -1. */
    std::int32_t token_to_id(const std::string &token) const noexcept {
        return lm_tokenizer_token_to_id(t_, token.c_str());
    }
    /** The text of an id, or nullopt when out of range. */
    std::optional<std::string> id_to_token(std::int32_t id) const {
        const char *s = lm_tokenizer_id_to_token(t_, id);
        return s == nullptr ? std::nullopt : std::optional<std::string>(s);
    }
    std::int32_t special_id(lm_special_token which) const noexcept {
        return lm_tokenizer_special_id(t_, which);
    }
    encoding encode(std::string_view text, const lm_encode_options *opts = nullptr) const {
        lm_encoding_t *e = nullptr;
        check(lm_tokenizer_encode(t_, text.data(), text.size(), opts, &e));
        return encoding(e);
    }
    encoding encode(std::string_view a, std::string_view b,
                    const lm_encode_options *opts = nullptr) const {
        lm_encoding_t *e = nullptr;
        check(lm_tokenizer_encode_pair(t_, a.data(), a.size(), b.data(), b.size(), opts, &e));
        return encoding(e);
    }
    /** Encodes every text; throws for the first that fails (the others are freed). */
    std::vector<encoding> encode_batch(const texts &in, const lm_encode_options *opts = nullptr,
                                       int threads = 0) const {
        std::vector<lm_encoding_t *> raw(in.size(), nullptr);
        lm_status s = lm_tokenizer_encode_batch(t_, in.size(), in.data(), in.lens(), nullptr,
                                                nullptr, opts, threads, raw.data(), nullptr);
        std::string why = s == LM_OK ? std::string() : std::string(lm_last_error());
        std::vector<encoding> out;
        out.reserve(raw.size());
        for (lm_encoding_t *e : raw) {
            out.emplace_back(e);
        }
        if (s != LM_OK) {
            throw error(s, why);
        }
        return out;
    }
    std::string decode(span<const std::int32_t> ids, bool skip_special_tokens = false) const {
        char *text = nullptr;
        check(lm_tokenizer_decode(t_, ids.data(), ids.size(), skip_special_tokens ? 1 : 0, &text));
        std::unique_ptr<char, detail::free_buffer> owner(text);
        return std::string(text);
    }
    /** Writes vocab.txt and tokenizer_config.json into an existing folder. */
    void save(const std::string &dir) const { check(lm_tokenizer_save_dir(t_, dir.c_str())); }
    const lm_tokenizer_t *get() const noexcept { return t_; }

  protected:
    const lm_tokenizer_t *t_;
};

/** A tokenizer, owned. */
class tokenizer : public tokenizer_ref {
  public:
    /** Takes ownership of `t` (from an lm_tokenizer_load_* call). */
    explicit tokenizer(lm_tokenizer_t *t) noexcept : tokenizer_ref(t), owner_(t) {}
    tokenizer(tokenizer &&o) noexcept : tokenizer_ref(o.t_), owner_(std::move(o.owner_)) {
        o.t_ = nullptr;
    }
    tokenizer &operator=(tokenizer &&o) noexcept {
        owner_ = std::move(o.owner_);
        t_ = o.t_;
        o.t_ = nullptr;
        return *this;
    }
    /** A model folder's tokenizer (tokenizer.json, else vocab.txt). */
    static tokenizer load(const std::string &dir, const lm_tokenizer_options *opts = nullptr) {
        lm_tokenizer_t *t = nullptr;
        check(lm_tokenizer_load_dir(dir.c_str(), opts, &t));
        return tokenizer(t);
    }
    static tokenizer load_vocab(const std::string &path,
                                const lm_tokenizer_options *opts = nullptr) {
        lm_tokenizer_t *t = nullptr;
        check(lm_tokenizer_load_vocab(path.c_str(), opts, &t));
        return tokenizer(t);
    }
    static tokenizer load_json(const std::string &path,
                               const lm_tokenizer_options *opts = nullptr) {
        lm_tokenizer_t *t = nullptr;
        check(lm_tokenizer_load_json(path.c_str(), opts, &t));
        return tokenizer(t);
    }
    lm_tokenizer_t *release() noexcept {
        t_ = nullptr;
        return owner_.release();
    }

  private:
    std::unique_ptr<lm_tokenizer_t, detail::free_tokenizer> owner_;
};

/* ---- results of the text-level calls -------------------------------------------------------- */

/** Row-major floats: rows x cols (embeddings, logits). */
struct matrix {
    std::size_t rows = 0, cols = 0;
    std::vector<float> data;
    /** Row i. */
    span<const float> operator[](std::size_t i) const { return {data.data() + i * cols, cols}; }
    span<float> operator[](std::size_t i) { return {data.data() + i * cols, cols}; }
};

/** A label and its score (lm_classify_texts()). */
struct label {
    std::int32_t id;
    std::string name;
    float score;
};

/** A candidate for a masked position (lm_fill_mask()). */
struct token_score {
    std::int32_t id;
    std::string token; /**< lm_tokenizer_id_to_token(). */
    float score;
};

/** An answer (lm_answer_questions()); `text` is the context's span. */
struct answer {
    float score;
    std::int64_t start, end, byte_start, byte_end;
    std::string text;
};

/** An entity (lm_tag_texts()); `word` is the text's span. */
struct entity {
    std::int32_t label;
    std::string name; /**< The label's name (the pipeline's "entity"; with aggregation the
                           "entity_group" is it without its B-/I- prefix: see group()). */
    float score;
    std::int32_t token;
    std::int64_t start, end, byte_start, byte_end;
    std::string word;
    /** The name without a "B-" or "I-" prefix. */
    std::string group() const {
        return name.size() > 2 && (name[0] == 'B' || name[0] == 'I') && name[1] == '-'
                   ? name.substr(2)
                   : name;
    }
};

/* ---- models --------------------------------------------------------------------------------- */

/** A model, owned. Inference calls are const: many threads may run them at once. */
class model {
  public:
    /** Takes ownership of `m` (from lm_model_load() or lm_model_create()). */
    explicit model(lm_model_t *m) noexcept : m_(m) {}
    /** Loads a Hugging Face folder. */
    static model load(const std::string &dir, const lm_model_options *opts = nullptr) {
        lm_model_t *m = nullptr;
        check(lm_model_load(dir.c_str(), opts, &m));
        return model(m);
    }
    /** A fresh model from config.json text. */
    static model create(std::string_view config_json, std::uint64_t seed,
                        const lm_model_options *opts = nullptr) {
        lm_model_t *m = nullptr;
        check(lm_model_create(config_json.data(), config_json.size(), seed, opts, &m));
        return model(m);
    }
    void save(const std::string &dir) const { check(lm_model_save(m_.get(), dir.c_str())); }

    lm_head head() const noexcept { return lm_model_head(m_.get()); }
    std::size_t hidden_size() const noexcept { return lm_model_hidden_size(m_.get()); }
    std::size_t num_layers() const noexcept { return lm_model_num_layers(m_.get()); }
    std::size_t num_heads() const noexcept { return lm_model_num_heads(m_.get()); }
    std::size_t vocab_size() const noexcept { return lm_model_vocab_size(m_.get()); }
    std::size_t max_length() const noexcept { return lm_model_max_length(m_.get()); }
    std::size_t num_labels() const noexcept { return lm_model_num_labels(m_.get()); }
    std::uint64_t parameter_count() const noexcept { return lm_model_parameter_count(m_.get()); }
    /** The name of label `id` ("" when out of range). */
    std::string label_name(std::size_t id) const {
        return detail::str(lm_model_label_name(m_.get(), id));
    }
    std::string config_json() const {
        char *s = nullptr;
        check(lm_model_config_json(m_.get(), &s));
        std::unique_ptr<char, detail::free_buffer> owner(s);
        return std::string(s);
    }
    /** The model's own tokenizer; throws LM_ERR_STATE when it has none. */
    tokenizer_ref tokenizer() const {
        const lm_tokenizer_t *t = lm_model_tokenizer(m_.get());
        if (t == nullptr) {
            throw error(LM_ERR_STATE, "the model has no tokenizer");
        }
        return tokenizer_ref(t);
    }

    /* Forward passes on token ids: batch x seq_len row-major; type_ids and mask may be empty. */

    /** Last hidden state: rows batch * seq_len, cols hidden size. */
    matrix hidden_states(span<const std::int32_t> ids, span<const std::int32_t> type_ids,
                         span<const std::int32_t> mask, std::size_t batch) const {
        std::size_t T = seq_len(ids, batch);
        matrix out{batch * T, hidden_size(), {}};
        out.data.resize(out.rows * out.cols);
        check(lm_model_hidden_states(m_.get(), ids.data(), opt(type_ids), opt(mask), batch, T,
                                     out.data.data(), nullptr));
        return out;
    }
    /** Sequence-classification logits: batch x num_labels. */
    matrix logits(span<const std::int32_t> ids, span<const std::int32_t> type_ids,
                  span<const std::int32_t> mask, std::size_t batch) const {
        std::size_t T = seq_len(ids, batch);
        matrix out{batch, num_labels(), {}};
        out.data.resize(out.rows * out.cols);
        check(lm_model_classify(m_.get(), ids.data(), opt(type_ids), opt(mask), batch, T,
                                out.data.data()));
        return out;
    }

    /* Text in, answers out (lm/text.h). */

    /** Sentence embeddings: one row per text (sentence-transformers' encode). */
    matrix embed(const texts &in, const lm_text_options *opts = nullptr) const {
        matrix out{in.size(), hidden_size(), {}};
        out.data.resize(out.rows * out.cols);
        check(lm_embed_texts(m_.get(), in.size(), in.data(), in.lens(), opts, out.data.data(),
                             out.data.size()));
        return out;
    }
    /** The top_k labels of each text, best first (the text-classification pipeline). */
    std::vector<std::vector<label>> classify(const texts &in,
                                             const lm_text_options *opts = nullptr) const {
        return classify_impl(in, nullptr, opts);
    }
    /** The same for text pairs (`second` has one text per first text). */
    std::vector<std::vector<label>> classify(const texts &first, const texts &second,
                                             const lm_text_options *opts = nullptr) const {
        if (second.size() != first.size()) {
            throw error(LM_ERR_INVALID_ARGUMENT, "classify: " + std::to_string(first.size()) +
                                                     " first texts but " +
                                                     std::to_string(second.size()) + " second");
        }
        return classify_impl(first, &second, opts);
    }
    /** For each text, for each of its [MASK] tokens, the top_k candidates, best first. */
    std::vector<std::vector<std::vector<token_score>>>
    fill_mask(const texts &in, const lm_text_options *opts = nullptr) const {
        std::size_t need = 0;
        std::vector<std::int32_t> masks(in.size());
        /* capacity 0 asks for the size: the library counts the masks before any forward pass */
        lm_status s = lm_fill_mask(m_.get(), in.size(), in.data(), in.lens(), opts, nullptr, 0,
                                   &need, masks.data());
        if (s != LM_OK && s != LM_ERR_BUFFER_TOO_SMALL) {
            check(s);
        }
        std::vector<lm_token_score> raw(need);
        check(lm_fill_mask(m_.get(), in.size(), in.data(), in.lens(), opts, raw.data(),
                           raw.size(), &need, masks.data()));
        std::size_t total = 0;
        for (std::int32_t c : masks) {
            total += static_cast<std::size_t>(c);
        }
        std::size_t k = total == 0 ? 0 : need / total;
        std::vector<std::vector<std::vector<token_score>>> out(in.size());
        tokenizer_ref tok = tokenizer();
        std::size_t at = 0;
        for (std::size_t i = 0; i < in.size(); i++) {
            out[i].resize(static_cast<std::size_t>(masks[i]));
            for (auto &cands : out[i]) {
                for (std::size_t j = 0; j < k; j++, at++) {
                    cands.push_back({raw[at].token_id,
                                     tok.id_to_token(raw[at].token_id).value_or(""),
                                     raw[at].score});
                }
            }
        }
        return out;
    }
    /** The top_k answers to each question about its context, best first. */
    std::vector<std::vector<answer>> answer_questions(const texts &questions,
                                                      const texts &contexts,
                                                      const lm_text_options *opts = nullptr) const {
        if (questions.size() != contexts.size()) {
            throw error(LM_ERR_INVALID_ARGUMENT, "answer_questions: " +
                                                     std::to_string(questions.size()) +
                                                     " questions but " +
                                                     std::to_string(contexts.size()) +
                                                     " contexts");
        }
        std::size_t k = opts != nullptr && opts->top_k > 0 ? static_cast<std::size_t>(opts->top_k)
                                                           : 1;
        std::vector<lm_answer> raw(questions.size() * k);
        check(lm_answer_questions(m_.get(), questions.size(), questions.data(), questions.lens(),
                                  contexts.data(), contexts.lens(), opts, raw.data(),
                                  raw.size()));
        std::vector<std::vector<answer>> out(questions.size());
        for (std::size_t i = 0; i < questions.size(); i++) {
            for (std::size_t j = 0; j < k; j++) {
                const lm_answer &a = raw[i * k + j];
                std::string text;
                if (a.byte_start >= 0 && a.byte_end >= a.byte_start) {
                    text = std::string(contexts[i].substr(
                        static_cast<std::size_t>(a.byte_start),
                        static_cast<std::size_t>(a.byte_end - a.byte_start)));
                }
                out[i].push_back({a.score, a.start, a.end, a.byte_start, a.byte_end, text});
            }
        }
        return out;
    }
    /** The entities of each text (the token-classification pipeline). */
    std::vector<std::vector<entity>> tag(const texts &in,
                                         const lm_text_options *opts = nullptr) const {
        /* at most one entity per token, and a text is truncated to max_length tokens */
        std::size_t per_text = opts != nullptr && opts->max_length > 0
                                   ? static_cast<std::size_t>(opts->max_length)
                                   : max_length();
        std::vector<lm_entity> raw(in.size() * per_text);
        std::size_t n = 0;
        check(lm_tag_texts(m_.get(), in.size(), in.data(), in.lens(), opts, raw.data(), raw.size(),
                           &n));
        std::vector<std::vector<entity>> out(in.size());
        for (std::size_t i = 0; i < n; i++) {
            const lm_entity &e = raw[i];
            std::string_view t = in[static_cast<std::size_t>(e.text)];
            out[static_cast<std::size_t>(e.text)].push_back(
                {e.label, label_name(static_cast<std::size_t>(e.label)), e.score, e.token,
                 e.start, e.end, e.byte_start, e.byte_end,
                 std::string(t.substr(static_cast<std::size_t>(e.byte_start),
                                      static_cast<std::size_t>(e.byte_end - e.byte_start)))});
        }
        return out;
    }

    lm_model_t *get() const noexcept { return m_.get(); }
    lm_model_t *release() noexcept { return m_.release(); }

  private:
    static std::size_t seq_len(span<const std::int32_t> ids, std::size_t batch) {
        if (batch == 0 || ids.size() % batch != 0) {
            throw error(LM_ERR_SHAPE, std::to_string(ids.size()) + " ids do not make " +
                                          std::to_string(batch) + " rows");
        }
        return ids.size() / batch;
    }
    static const std::int32_t *opt(span<const std::int32_t> s) noexcept {
        return s.empty() ? nullptr : s.data();
    }
    std::vector<std::vector<label>> classify_impl(const texts &in, const texts *second,
                                                  const lm_text_options *opts) const {
        std::size_t L = num_labels(), k = 0;
        std::vector<lm_label_score> raw(in.size() * L);
        check(lm_classify_texts(m_.get(), in.size(), in.data(), in.lens(),
                                second ? second->data() : nullptr,
                                second ? second->lens() : nullptr, opts, raw.data(), raw.size(),
                                &k));
        std::vector<std::vector<label>> out(in.size());
        for (std::size_t i = 0; i < in.size(); i++) {
            for (std::size_t j = 0; j < k; j++) {
                const lm_label_score &r = raw[i * k + j];
                out[i].push_back({r.label, label_name(static_cast<std::size_t>(r.label)),
                                  r.score});
            }
        }
        return out;
    }
    std::unique_ptr<lm_model_t, detail::free_model> m_;
};

/** Loads a model, expected-style: the model, or the failure. */
inline result<model> try_load(const std::string &dir, const lm_model_options *opts = nullptr) {
    return try_call([&] { return model::load(dir, opts); });
}

/* ---- training (when lm.h declares the trainer: lm/trainer.h) -------------------------------- */

#ifdef LM_TRAINER_H

/** lm_trainer_options with the defaults. */
inline lm_trainer_options trainer_options() {
    return detail::init_options(lm_trainer_options_init);
}

/** A batch for lm::trainer, owning its arrays (row-major rows x seq_len; empty = absent). */
struct batch {
    std::size_t rows = 0, seq_len = 0;
    std::vector<std::int32_t> ids, type_ids, attention_mask;
    std::vector<std::int32_t> labels;       /**< class ids [rows] or token labels [rows*seq_len] */
    std::vector<float> float_labels;        /**< regression / multi-label [rows * num_labels] */
    std::vector<std::int32_t> start_positions, end_positions; /**< question answering [rows] */

    /** The same texts as a padded batch of encodings (ids, type ids, mask); labels unset. */
    static batch from(const std::vector<encoding> &encs) {
        batch b;
        b.rows = encs.size();
        for (const encoding &e : encs) {
            b.seq_len = e.size() > b.seq_len ? e.size() : b.seq_len;
        }
        b.ids.assign(b.rows * b.seq_len, 0);
        b.type_ids.assign(b.rows * b.seq_len, 0);
        b.attention_mask.assign(b.rows * b.seq_len, 0);
        for (std::size_t i = 0; i < b.rows; i++) {
            for (std::size_t t = 0; t < encs[i].size(); t++) {
                b.ids[i * b.seq_len + t] = encs[i].ids()[t];
                b.type_ids[i * b.seq_len + t] = encs[i].type_ids()[t];
                b.attention_mask[i * b.seq_len + t] = encs[i].attention_mask()[t];
            }
        }
        return b;
    }
    /** The lm_batch over these arrays (valid while this batch is unchanged). */
    lm_batch view() const {
        lm_batch v = detail::init_options(lm_batch_init);
        v.batch = rows;
        v.seq_len = seq_len;
        v.ids = ptr(ids);
        v.type_ids = ptr(type_ids);
        v.attention_mask = ptr(attention_mask);
        v.labels = ptr(labels);
        v.float_labels = float_labels.empty() ? nullptr : float_labels.data();
        v.start_positions = ptr(start_positions);
        v.end_positions = ptr(end_positions);
        return v;
    }

  private:
    static const std::int32_t *ptr(const std::vector<std::int32_t> &v) {
        return v.empty() ? nullptr : v.data();
    }
};

namespace detail {
struct free_trainer {
    void operator()(lm_trainer_t *p) const noexcept { lm_trainer_free(p); }
};
} // namespace detail

/** A trainer, owned: it updates its model's weights in place (the model must outlive it). */
class trainer {
  public:
    explicit trainer(model &m, const lm_trainer_options *opts = nullptr) {
        lm_trainer_t *t = nullptr;
        check(lm_trainer_create(m.get(), opts, &t));
        t_.reset(t);
    }
    /** One training step; returns the batch's loss. */
    float step(const batch &b) {
        lm_batch v = b.view();
        float loss = 0;
        check(lm_trainer_step(t_.get(), &v, &loss));
        return loss;
    }
    /** The loss of a batch without dropout nor update. */
    float evaluate(const batch &b) {
        lm_batch v = b.view();
        float loss = 0;
        check(lm_trainer_evaluate(t_.get(), &v, &loss, nullptr, 0));
        return loss;
    }
    /** The loss and the head's outputs (`outputs` floats: see lm_trainer_evaluate()). */
    std::pair<float, std::vector<float>> evaluate(const batch &b, std::size_t outputs) {
        lm_batch v = b.view();
        std::pair<float, std::vector<float>> r(0.0f, std::vector<float>(outputs));
        check(lm_trainer_evaluate(t_.get(), &v, &r.first, r.second.data(), outputs));
        return r;
    }
    std::int64_t steps() const noexcept { return lm_trainer_steps(t_.get()); }
    double learning_rate() const noexcept { return lm_trainer_learning_rate(t_.get()); }
    double grad_norm() const noexcept { return lm_trainer_grad_norm(t_.get()); }
    lm_trainer_t *get() const noexcept { return t_.get(); }

  private:
    std::unique_ptr<lm_trainer_t, detail::free_trainer> t_;
};

#endif /* LM_TRAINER_H */

/* ---- library -------------------------------------------------------------------------------- */

/** The version of the library at run time ("0.2.0"). */
inline std::string version() { return lm_version_string(); }
/** Whether the library at run time is the version this header describes. */
inline bool version_matches() noexcept { return lm_version() == LM_VERSION_NUMBER; }

} // namespace lm

#endif /* LM_HPP */
