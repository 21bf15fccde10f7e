// Package lm is liblm from Go: tokenize, run and fine-tune BERT-family models on the CPU.
//
// It wraps liblm's C API (include/lm.h) through cgo and pkg-config (`#cgo pkg-config: lm`):
// install liblm (`make install PREFIX=...`) and point PKG_CONFIG_PATH at PREFIX/lib/pkgconfig.
//
// Handles (Model, Tokenizer, Trainer) are freed by Close, with a finalizer as a safety net.
// Every call that can fail returns an error of type *Error carrying the C status and the
// library's sentence; errors.Is(err, lm.ErrNotFound) tests the status (and
// errors.Is(err, fs.ErrNotExist) works for a missing file).
//
// Threads: a Model and a Tokenizer may be used from many goroutines at once (lm.h: "a model may
// run inference from many threads at once; a tokenizer may encode from many threads at once").
// A Trainer is used by one goroutine at a time, and while it is open the model's other calls
// wait for its steps (they never run at the same time). lm_last_error() is per OS thread and
// goroutines move between threads, so each call that can fail runs with its goroutine locked to
// its thread until the error is read.
//
// Each call in flight holds an OS thread, and liblm runs a forward pass on an OpenMP team of
// ModelOptions.Threads threads started by that thread (and kept for its next call): 32
// goroutines calling a model of 2 threads at once keep about 64 threads. Bound the number of
// goroutines that call at once (a small worker pool) rather than the threads of each call.
package lm

/*
#cgo pkg-config: lm
#include <stdlib.h>
#include <lm.h>
*/
import "C"

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// openHandles counts the models, tokenizers and trainers this package made and has not freed
// (the tests check that the finalizers free what Close did not).
var openHandles atomic.Int64

// Version is the linked library's version, MAJOR*10000 + MINOR*100 + PATCH.
func Version() int { return int(C.lm_version()) }

// VersionString is the linked library's version, "MAJOR.MINOR.PATCH".
func VersionString() string { return C.GoString(C.lm_version_string()) }

// HeaderVersion is the version of the header this package was built with.
const HeaderVersion = C.LM_VERSION_NUMBER

// BlasInfo is one line describing the BLAS in use (library, kernel).
func BlasInfo() string {
	runtime.LockOSThread() // a thread-local string
	defer runtime.UnlockOSThread()
	return C.GoString(C.lm_blas_info())
}

// call runs f (a C call returning an lm_status) and, when it fails, reads lm_last_error() on the
// same OS thread: the goroutine stays locked to its thread between the two.
func call(f func() C.lm_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := f()
	if s == C.LM_OK {
		return nil
	}
	return &Error{Status: Status(s), Message: C.GoString(C.lm_last_error())}
}

// cTexts holds Go strings as the C arrays `const char *const *texts` and `const size_t *lens`:
// the bytes are copied into one C block (C code may not keep Go pointers), freed by free().
type cTexts struct {
	buf  unsafe.Pointer
	ptrs []*C.char
	lens []C.size_t
}

func newTexts(texts []string) *cTexts {
	total := 0
	for _, t := range texts {
		total += len(t)
	}
	c := &cTexts{buf: C.malloc(C.size_t(total + 1)), ptrs: make([]*C.char, len(texts)), lens: make([]C.size_t, len(texts))}
	if c.buf == nil {
		panic("lm: out of memory")
	}
	dst := unsafe.Slice((*byte)(c.buf), total+1)
	off := 0
	for i, t := range texts {
		copy(dst[off:], t)
		c.ptrs[i] = (*C.char)(unsafe.Add(c.buf, off))
		c.lens[i] = C.size_t(len(t))
		off += len(t)
	}
	return c
}

func (c *cTexts) texts() **C.char {
	if len(c.ptrs) == 0 {
		return nil
	}
	return &c.ptrs[0]
}

func (c *cTexts) sizes() *C.size_t {
	if len(c.lens) == 0 {
		return nil
	}
	return &c.lens[0]
}

func (c *cTexts) free() { C.free(c.buf) }

func int32Ptr(s []int32) *C.int32_t {
	if len(s) == 0 {
		return nil
	}
	return (*C.int32_t)(unsafe.Pointer(&s[0]))
}

func floatPtr(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

// takeString copies a string the library allocated for the caller and frees it with lm_free.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	C.lm_free(unsafe.Pointer(p))
	return s
}
