// Package craw calls liblm's C API directly, for the tests of package lm to compare against
// (cgo is not allowed in _test.go files). Handles come from lm's Handle methods.
package craw

/*
#cgo pkg-config: lm
#include <stdlib.h>
#include <string.h>
#include <lm.h>

static lm_status craw_train(lm_model_t *model, const int32_t *ids, const int32_t *mask,
                            const int32_t *labels, size_t batch, size_t seq_len, double lr,
                            uint64_t seed, int32_t threads, int steps, float *losses) {
    lm_trainer_options o;
    lm_trainer_options_init(&o, sizeof o);
    o.learning_rate = lr;
    o.schedule = LM_SCHEDULE_CONSTANT;
    o.seed = seed;
    o.threads = threads;
    lm_trainer_t *tr = NULL;
    lm_status s = lm_trainer_create(model, &o, &tr);
    if (s != LM_OK) return s;
    lm_batch b;
    lm_batch_init(&b, sizeof b);
    b.batch = batch;
    b.seq_len = seq_len;
    b.ids = ids;
    b.attention_mask = mask;
    b.labels = labels;
    for (int i = 0; i < steps && s == LM_OK; i++) s = lm_trainer_step(tr, &b, &losses[i]);
    lm_trainer_free(tr);
    return s;
}

typedef struct craw_losses { double loss[256]; int n; } craw_losses;

static int craw_record(const lm_fit_progress *p, void *user) {
    craw_losses *l = user;
    if (p->event == LM_FIT_STEP && l->n < 256) l->loss[l->n++] = p->loss;
    return 0;
}

static lm_status craw_fit(const char *dir, const char *train, const char *dev, const char *out,
                          int64_t max_steps, int32_t batch, int32_t eval_batch, double lr,
                          int32_t threads, craw_losses *losses) {
    lm_fit_options o;
    lm_trainer_options t;
    lm_fit_options_init(&o, sizeof o);
    lm_trainer_options_init(&t, sizeof t);
    o.train_path = train;
    o.dev_path = dev;
    o.out_dir = out;
    o.max_steps = max_steps;
    o.batch_size = batch;
    o.eval_batch_size = eval_batch;
    o.log_every = 1;
    o.callback = craw_record;
    o.user_data = losses;
    t.learning_rate = lr;
    t.threads = threads;
    return lm_fit(dir, &o, &t, NULL);
}
*/
import "C"

import (
	"unsafe"
)

func cstrings(texts []string) ([]*C.char, []C.size_t, func()) {
	ptrs := make([]*C.char, len(texts))
	lens := make([]C.size_t, len(texts))
	for i, t := range texts {
		ptrs[i] = C.CString(t)
		lens[i] = C.size_t(len(t))
	}
	return ptrs, lens, func() {
		for _, p := range ptrs {
			C.free(unsafe.Pointer(p))
		}
	}
}

// Encode gives every array of lm_tokenizer_encode(text): ids, type ids, attention mask, special
// tokens mask, word ids, sequence ids, offsets, byte offsets (flat).
func Encode(tok unsafe.Pointer, text string) [][]int64 {
	c := C.CString(text)
	defer C.free(unsafe.Pointer(c))
	var enc *C.lm_encoding_t
	if C.lm_tokenizer_encode((*C.lm_tokenizer_t)(tok), c, C.size_t(len(text)), nil, &enc) != C.LM_OK {
		return nil
	}
	defer C.lm_encoding_free(enc)
	n := int(C.lm_encoding_length(enc))
	ints := func(p *C.int32_t) []int64 {
		s := unsafe.Slice((*int32)(unsafe.Pointer(p)), n)
		out := make([]int64, n)
		for i, v := range s {
			out[i] = int64(v)
		}
		return out
	}
	sizes := func(p *C.size_t) []int64 {
		s := unsafe.Slice(p, 2*n)
		out := make([]int64, 2*n)
		for i, v := range s {
			out[i] = int64(v)
		}
		return out
	}
	return [][]int64{
		ints(C.lm_encoding_ids(enc)), ints(C.lm_encoding_type_ids(enc)),
		ints(C.lm_encoding_attention_mask(enc)), ints(C.lm_encoding_special_tokens_mask(enc)),
		ints(C.lm_encoding_word_ids(enc)), ints(C.lm_encoding_sequence_ids(enc)),
		sizes(C.lm_encoding_offsets(enc)), sizes(C.lm_encoding_byte_offsets(enc)),
	}
}

// EmbedTexts is lm_embed_texts with the default options: n * hidden floats.
func EmbedTexts(model unsafe.Pointer, texts []string) []float32 {
	m := (*C.lm_model_t)(model)
	ptrs, lens, free := cstrings(texts)
	defer free()
	out := make([]float32, len(texts)*int(C.lm_model_hidden_size(m)))
	if C.lm_embed_texts(m, C.size_t(len(texts)), &ptrs[0], &lens[0], nil, (*C.float)(&out[0]), C.size_t(len(out))) != C.LM_OK {
		return nil
	}
	return out
}

// ClassifyTexts is lm_classify_texts with top_k: labels and scores (k per text) and k.
func ClassifyTexts(model unsafe.Pointer, texts []string, topK int) ([]int32, []float32, int) {
	m := (*C.lm_model_t)(model)
	ptrs, lens, free := cstrings(texts)
	defer free()
	var o C.lm_text_options
	C.lm_text_options_init(&o, C.size_t(unsafe.Sizeof(o)))
	o.top_k = C.int32_t(topK)
	res := make([]C.lm_label_score, len(texts)*int(C.lm_model_num_labels(m)))
	var k C.size_t
	if C.lm_classify_texts(m, C.size_t(len(texts)), &ptrs[0], &lens[0], nil, nil, &o, &res[0], C.size_t(len(res)), &k) != C.LM_OK {
		return nil, nil, 0
	}
	labels := make([]int32, len(texts)*int(k))
	scores := make([]float32, len(labels))
	for i := range labels {
		labels[i], scores[i] = int32(res[i].label), float32(res[i].score)
	}
	return labels, scores, int(k)
}

// ModelClassify is lm_model_classify: batch * num_labels logits.
func ModelClassify(model unsafe.Pointer, ids, mask []int32, seqLen int) []float32 {
	m := (*C.lm_model_t)(model)
	b := len(ids) / seqLen
	out := make([]float32, b*int(C.lm_model_num_labels(m)))
	cids := C.CBytes(int32Bytes(ids))
	cmask := C.CBytes(int32Bytes(mask))
	defer C.free(cids)
	defer C.free(cmask)
	if C.lm_model_classify(m, (*C.int32_t)(cids), nil, (*C.int32_t)(cmask), C.size_t(b), C.size_t(seqLen), (*C.float)(&out[0])) != C.LM_OK {
		return nil
	}
	return out
}

// Train runs `steps` steps of lm_trainer_step on one batch with a constant learning rate and
// returns the losses.
func Train(model unsafe.Pointer, ids, mask, labels []int32, seqLen int, lr float64, seed uint64, threads, steps int) []float32 {
	b := len(ids) / seqLen
	cids, cmask, clab := C.CBytes(int32Bytes(ids)), C.CBytes(int32Bytes(mask)), C.CBytes(int32Bytes(labels))
	defer C.free(cids)
	defer C.free(cmask)
	defer C.free(clab)
	losses := make([]float32, steps)
	if C.craw_train((*C.lm_model_t)(model), (*C.int32_t)(cids), (*C.int32_t)(cmask), (*C.int32_t)(clab), C.size_t(b),
		C.size_t(seqLen), C.double(lr), C.uint64_t(seed), C.int32_t(threads), C.int(steps), (*C.float)(&losses[0])) != C.LM_OK {
		return nil
	}
	return losses
}

func int32Bytes(s []int32) []byte {
	if len(s) == 0 {
		return []byte{0}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}

// Fit runs lm_fit with a C callback and returns the loss of each step (LogEvery 1).
func Fit(dir, train, dev, out string, maxSteps int64, batch, evalBatch int, lr float64, threads int) []float64 {
	cs := []*C.char{C.CString(dir), C.CString(train), C.CString(dev), C.CString(out)}
	defer func() {
		for _, c := range cs {
			C.free(unsafe.Pointer(c))
		}
	}()
	losses := (*C.craw_losses)(C.calloc(1, C.sizeof_craw_losses))
	defer C.free(unsafe.Pointer(losses))
	if C.craw_fit(cs[0], cs[1], cs[2], cs[3], C.int64_t(maxSteps), C.int32_t(batch), C.int32_t(evalBatch),
		C.double(lr), C.int32_t(threads), losses) != C.LM_OK {
		return nil
	}
	got := make([]float64, int(losses.n))
	for i := range got {
		got[i] = float64(losses.loss[i])
	}
	return got
}
