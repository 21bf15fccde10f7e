package lm

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

const leakCalls = 10000
const leakMargin = 3 << 20 // bytes: a leak of 300 bytes a call shows

func rss(t *testing.T) int {
	// handles left to finalizers: a GC queues them, the finalizer goroutine frees them
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
	}
	pages, _ := strconv.Atoi(strings.Fields(string(b))[1])
	return pages * os.Getpagesize()
}

func grows(t *testing.T, what string, f func(i int)) {
	for i := 0; i < 500; i++ {
		f(i)
	}
	before := rss(t)
	for i := 0; i < leakCalls; i++ {
		f(i)
	}
	grown := rss(t) - before
	t.Logf("%s: RSS grew %d bytes over %d calls", what, grown, leakCalls)
	if grown > leakMargin {
		t.Fatalf("%s: RSS grew %d bytes over %d calls", what, grown, leakCalls)
	}
}

// No leak over many calls, successful and failing, nor from handles left to the finalizers.
func TestNoLeakOverManyCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	mlm, seqcls, tagger, qa := model(t, "mlm"), model(t, "seqcls"), model(t, "tagger"), model(t, "qa")
	all := &TextOptions{TopK: -1}
	simple := &TextOptions{Aggregation: AggregateSimple}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	grows(t, "text calls", func(i int) {
		s := fmt.Sprintf("John Smith %d moved to [MASK] Paris", i)
		switch i % 5 {
		case 0:
			_, err := mlm.Embed([]string{"a short text", s}, nil)
			must(err)
		case 1:
			_, err := seqcls.Classify([]string{s}, all)
			must(err)
		case 2:
			_, err := mlm.FillMask([]string{s}, nil)
			must(err)
		case 3:
			_, err := tagger.Tag([]string{s}, simple)
			must(err)
		default:
			_, err := qa.Answer([]string{"who moved?"}, []string{s}, nil)
			must(err)
		}
	})
	tok, err := LoadTokenizer(modelDir("seqcls"), nil)
	must(err)
	defer tok.Close()
	grows(t, "tokenizer calls", func(i int) {
		e, err := tok.EncodePair(fmt.Sprintf("text %d", i), "its pair", nil)
		must(err)
		_, err = tok.Decode(e.IDs, true)
		must(err)
	})
	grows(t, "failing calls", func(i int) {
		if _, err := seqcls.Classify([]string{"fine", "bad \xff"}, nil); err == nil {
			t.Fatal("no error")
		}
		if _, err := Load(fmt.Sprintf("/nonexistent/model-%d", i%7), nil); err == nil {
			t.Fatal("no error")
		}
	})
	dir := modelDir("tagger")
	grows(t, "load and Close", func(i int) {
		if i%10 == 0 { // a load maps files: every tenth call, to keep the test short
			m, err := Load(dir, nil)
			must(err)
			if m.NumLabels() != 5 {
				t.Fatal(m.NumLabels())
			}
			m.Close()
		}
	})
}

// Handles never closed are freed by their finalizers (a safety net: the Go collector does not
// see the C memory behind a handle, so it runs them late; Close frees at once). The package
// counts open handles; after a collection the unclosed ones are gone.
func TestFinalizersFreeUnclosedHandles(t *testing.T) {
	base := openHandles.Load()
	for i := 0; i < 100; i++ {
		m, err := Load(modelDir("tagger"), nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := LoadTokenizer(modelDir("tagger"), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = m.HiddenSize(), tok.VocabSize()
	}
	if n := openHandles.Load() - base; n != 200 {
		t.Fatal(n, "open handles")
	}
	deadline := time.Now().Add(10 * time.Second)
	for openHandles.Load() > base && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := openHandles.Load() - base; n != 0 {
		t.Fatal(n, "handles left open after collections")
	}
}
