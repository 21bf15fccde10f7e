package lm

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// repo is the repository: LM_SOURCE_DIR, else two folders above this package.
func repo() string {
	if d := os.Getenv("LM_SOURCE_DIR"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../..")
	return d
}

func modelDir(name string) string { return filepath.Join(repo(), "tests/data/pipeline/models", name) }

var (
	cacheMu sync.Mutex
	cache   = map[string]*Model{}
)

// model is a model of tests/data/pipeline/models loaded once per test program, one thread (the
// models are tiny: one is fastest).
func model(t testing.TB, name string) *Model {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if m, ok := cache[name]; ok {
		return m
	}
	m, err := Load(modelDir(name), &ModelOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	cache[name] = m
	return m
}

// tinyRef is tests/data/pipeline/tiny.json.gz: the reference pipelines' numbers.
type tinyRef struct {
	Classification []struct {
		Model           string
		FunctionToApply string `json:"function_to_apply"`
		Texts           []string
		Results         [][][2]float64
		Pairs           [][2]string
		PairResults     [][][2]float64 `json:"pair_results"`
	}
	FillMask []struct {
		TopK    int `json:"top_k"`
		Texts   []string
		Results [][][][2]float64
	} `json:"fill_mask"`
	Tagging []struct {
		Model       string
		Aggregation string
		Texts       []string
		Results     [][]struct {
			Entity     string
			Score      float64
			Index      int
			Start, End int
		}
	}
	QA []struct {
		Options   map[string]interface{}
		Questions []string
		Contexts  []string
		Results   [][][3]float64
	}
	Embed struct {
		Model      string
		Texts      []string
		Embeddings [][]float64
	}
}

var (
	refOnce sync.Once
	ref     tinyRef
)

func reference(t testing.TB) *tinyRef {
	refOnce.Do(func() {
		f, err := os.Open(filepath.Join(repo(), "tests/data/pipeline/tiny.json.gz"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.NewDecoder(z).Decode(&ref); err != nil {
			t.Fatal(err)
		}
	})
	return &ref
}

func near(t testing.TB, got float32, want float64, what string) {
	t.Helper()
	d := float64(got) - want
	if d < -1e-4 || d > 1e-4 {
		t.Fatalf("%s: %v != %v", what, got, want)
	}
}
