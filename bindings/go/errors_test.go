package lm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func isStatus(err error, s Status) bool { return errors.Is(err, s) }

func TestMissingFolderIsNotFoundWithTheSentence(t *testing.T) {
	dir := modelDir("no-such-model")
	_, err := Load(dir, nil)
	var e *Error
	if !errors.As(err, &e) || e.Status != ErrNotFound || !strings.Contains(e.Message, "no-such-model") {
		t.Fatal(err)
	}
	if err.Error() != "LM_ERR_NOT_FOUND: "+e.Message {
		t.Fatal(err.Error())
	}
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrFormat) {
		t.Fatal("errors.Is")
	}
	if ErrNotFound.Error() != "file or item not found" || ErrNotFound.Name() != "LM_ERR_NOT_FOUND" {
		t.Fatal(ErrNotFound.Error())
	}
	if _, err := LoadTokenizer(dir, nil); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestCorruptFilesAreFormatErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte("{ not json"), 0o644)
	os.WriteFile(filepath.Join(dir, "model.safetensors"), make([]byte, 16), 0o644)
	if _, err := Load(dir, nil); !isStatus(err, ErrFormat) {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "vocab.txt"), []byte("a\nb\n"), 0o644)
	if _, err := LoadVocab(filepath.Join(dir, "vocab.txt"), nil); !isStatus(err, ErrFormat) {
		t.Fatal(err)
	}
}

func TestNulBytesAndLengthsAreRefusedByTheBinding(t *testing.T) {
	_, err := Load("tests/no\x00such", nil)
	if !isStatus(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "NUL") {
		t.Fatal(err)
	}
	if _, err := Load(modelDir("mlm"), &ModelOptions{Head: HeadSequenceClassification, LabelNames: []string{"a\x00b"}}); !isStatus(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := model(t, "qa").Answer([]string{"q1", "q2"}, []string{"one context"}, nil); !isStatus(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
}

func TestInvalidUTF8NamesTheInput(t *testing.T) {
	m := model(t, "seqcls")
	_, err := m.Classify([]string{"fine", "bad \xff byte"}, nil)
	if !isStatus(err, ErrUTF8) || !strings.Contains(err.Error(), "text 1:") {
		t.Fatal(err)
	}
	if r, err := m.Classify([]string{"fine", "bad \xff byte"}, &TextOptions{ReplaceInvalidUTF8: true}); err != nil || len(r) != 2 {
		t.Fatal(err)
	}
}

func TestWrongHeadStateAndRange(t *testing.T) {
	if _, err := model(t, "seqcls").FillMask([]string{"a [MASK]"}, nil); !isStatus(err, ErrState) {
		t.Fatal(err)
	}
	if _, err := model(t, "mlm").FillMask([]string{"no mask here"}, nil); !isStatus(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := model(t, "seqcls").Classify([]string{"a"}, &TextOptions{TopK: -7}); !isStatus(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	config := `{"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
	            "intermediate_size": 8, "max_position_embeddings": 16}`
	created, err := Create(config, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if created.Tokenizer() != nil {
		t.Fatal("a created model has no tokenizer")
	}
	if _, err := created.Embed([]string{"no tokenizer"}, nil); !isStatus(err, ErrState) {
		t.Fatal(err)
	}
	if _, _, err := created.HiddenStates(&Inputs{IDs: []int32{1, 2, 99}, SeqLen: 3}, false); !isStatus(err, ErrRange) {
		t.Fatal(err)
	}
	long := make([]int32, 17)
	if _, _, err := created.HiddenStates(&Inputs{IDs: long, SeqLen: 17}, false); !isStatus(err, ErrRange) {
		t.Fatal(err)
	}
	if _, err := Create("{", 0, nil); !isStatus(err, ErrFormat) {
		t.Fatal(err)
	}
	// closed: every call is an error, not a crash; closing twice is fine
	created.Close()
	if _, _, err := created.HiddenStates(&Inputs{IDs: []int32{1}, SeqLen: 1}, false); !isStatus(err, ErrState) {
		t.Fatal(err)
	}
	if created.HiddenSize() != 0 || created.Close() != nil {
		t.Fatal("closed model")
	}
}

func TestSaveErrors(t *testing.T) {
	err := model(t, "seqcls").Save(filepath.Join(t.TempDir(), "missing-parent", "child"))
	if !isStatus(err, ErrNotFound) && !isStatus(err, ErrIO) {
		t.Fatal(err)
	}
}

// lm_last_error() is per OS thread and goroutines move between threads: each goroutine's error
// must name its own input, however the scheduler moves them.
func TestErrorsArePerGoroutine(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	m := model(t, "seqcls")
	var wg sync.WaitGroup
	wrong := make(chan string, 16)
	for i := 1; i <= 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			texts := make([]string, i, i+1)
			for j := range texts {
				texts[j] = "ok"
			}
			texts = append(texts, "\xff")
			want := fmt.Sprintf("text %d:", i)
			for k := 0; k < 100; k++ {
				_, err := m.Classify(texts, nil)
				if !isStatus(err, ErrUTF8) || !strings.Contains(err.Error(), want) {
					wrong <- fmt.Sprintf("goroutine %d got %v", i, err)
					return
				}
				runtime.Gosched()
			}
		}(i)
	}
	wg.Wait()
	close(wrong)
	for w := range wrong {
		t.Fatal(w)
	}
}
