package lm

import (
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"example.invalid/liblm/go/lm/internal/craw"
)

func TestEmbedEqualsCAndReference(t *testing.T) {
	r := reference(t).Embed
	m := model(t, r.Model)
	got, err := m.Embed(r.Texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	flat := []float32{}
	for _, row := range got {
		flat = append(flat, row...)
	}
	if want := craw.EmbedTexts(m.Handle(), r.Texts); !reflect.DeepEqual(flat, want) {
		t.Fatal("embeddings differ from the C API")
	}
	for i, row := range got {
		var dot, na, nb float64
		for j, v := range row {
			w := r.Embeddings[i][j]
			dot += float64(v) * w
			na += float64(v) * float64(v)
			nb += w * w
		}
		if c := dot / math.Sqrt(na) / math.Sqrt(nb); c < 0.99999 {
			t.Fatalf("row %d: cosine %v", i, c)
		}
	}
	normed, err := m.Embed(r.Texts[:3], &TextOptions{Normalize: On})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range normed {
		var n float64
		for _, v := range row {
			n += float64(v) * float64(v)
		}
		if math.Abs(math.Sqrt(n)-1) > 1e-5 {
			t.Fatal(n)
		}
	}
	if e, err := m.Embed(nil, nil); err != nil || len(e) != 0 {
		t.Fatal(err)
	}
}

var scoreFunctions = map[string]ScoreFunction{"default": ScoreDefault, "sigmoid": ScoreSigmoid, "softmax": ScoreSoftmax, "none": ScoreNone}

func TestClassifyEqualsReference(t *testing.T) {
	for _, c := range reference(t).Classification {
		m := model(t, c.Model)
		opts := &TextOptions{TopK: -1, FunctionToApply: scoreFunctions[c.FunctionToApply]}
		check := func(got [][]LabelScore, want [][][2]float64) {
			if len(got) != len(want) {
				t.Fatal(len(got), len(want))
			}
			for i := range want {
				if len(got[i]) != len(want[i]) {
					t.Fatal(c.Model, i, len(got[i]))
				}
				for j, w := range want[i] {
					if got[i][j].Label != int(w[0]) {
						t.Fatal(c.Model, i, j, got[i][j], w)
					}
					near(t, got[i][j].Score, w[1], c.Model)
				}
			}
		}
		got, err := m.Classify(c.Texts, opts)
		if err != nil {
			t.Fatal(err)
		}
		check(got, c.Results)
		a, b := []string{}, []string{}
		for _, p := range c.Pairs {
			a, b = append(a, p[0]), append(b, p[1])
		}
		got, err = m.ClassifyPairs(a, b, opts)
		if err != nil {
			t.Fatal(err)
		}
		check(got, c.PairResults)
	}
}

func TestClassifyEqualsC(t *testing.T) {
	m := model(t, "seqcls")
	texts := []string{"a good film", "a bad one , really", "", "ok"}
	got, err := m.Classify(texts, &TextOptions{TopK: -1})
	if err != nil {
		t.Fatal(err)
	}
	labels, scores, k := craw.ClassifyTexts(m.Handle(), texts, -1)
	if k != 3 {
		t.Fatal(k)
	}
	for i, row := range got {
		for j, x := range row {
			if int32(x.Label) != labels[i*k+j] || x.Score != scores[i*k+j] {
				t.Fatal(i, j, x)
			}
		}
	}
	best, _ := m.Classify(texts, nil)
	if len(best[0]) != 1 || best[0][0] != got[0][0] {
		t.Fatal(best[0])
	}
	if !reflect.DeepEqual(m.Labels(), []string{"negative", "neutral", "positive"}) {
		t.Fatal(m.Labels())
	}
}

func TestForwardPassesEqualC(t *testing.T) {
	m := model(t, "seqcls")
	encs, err := m.Tokenizer().EncodeBatch([]string{"a good film", "a bad one , really"}, &EncodeOptions{Padding: PadLongest}, 1)
	if err != nil {
		t.Fatal(err)
	}
	seq := encs[0].Len()
	in := &Inputs{IDs: append(append([]int32{}, encs[0].IDs...), encs[1].IDs...),
		AttentionMask: append(append([]int32{}, encs[0].AttentionMask...), encs[1].AttentionMask...), SeqLen: seq}
	logits, err := m.ClassifyIDs(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := craw.ModelClassify(m.Handle(), in.IDs, in.AttentionMask, seq); !reflect.DeepEqual(logits, want) {
		t.Fatal(logits, want)
	}
	best, _ := m.Classify([]string{"a good film", "a bad one , really"}, nil)
	for i := 0; i < 2; i++ {
		row, arg := logits[3*i:3*i+3], 0
		for j := range row {
			if row[j] > row[arg] {
				arg = j
			}
		}
		if best[i][0].Label != arg {
			t.Fatal(i, arg, best[i])
		}
	}
	hidden, pooled, err := m.HiddenStates(in, true)
	if err != nil || len(hidden) != 2*seq*m.HiddenSize() || len(pooled) != 2*m.HiddenSize() {
		t.Fatal(err)
	}
	if e, err := m.EmbedIDs(in, PoolingMean, On); err != nil || len(e) != 2*m.HiddenSize() {
		t.Fatal(err)
	}
	if l, err := model(t, "tagger").TokenLogits(in); err != nil || len(l) != 2*seq*5 {
		t.Fatal(err)
	}
	mlm := model(t, "mlm")
	if l, err := mlm.MLMLogits(in, []int{1, seq + 2}); err != nil || len(l) != 2*mlm.VocabSize() {
		t.Fatal(err)
	}
	start, end, err := model(t, "qa").QALogits(in)
	if err != nil || len(start) != 2*seq || len(end) != 2*seq {
		t.Fatal(err)
	}
	span, err := QABestSpan(start[:seq], end[:seq], nil, 5)
	if err != nil || span.Start > span.End || span.End >= span.Start+5 {
		t.Fatal(span, err)
	}
	// arrays shorter than the shape are refused before C reads them
	if _, err := m.ClassifyIDs(&Inputs{IDs: in.IDs, AttentionMask: in.AttentionMask[1:], SeqLen: seq}); !isStatus(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := m.ClassifyIDs(&Inputs{IDs: in.IDs[1:], SeqLen: seq}); !isStatus(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
}

func TestFillMaskEqualsReference(t *testing.T) {
	m := model(t, "mlm")
	for _, c := range reference(t).FillMask {
		got, err := m.FillMask(c.Texts, &TextOptions{TopK: c.TopK})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.Texts) {
			t.Fatal(len(got))
		}
		for i, want := range c.Results {
			if len(got[i]) != len(want) {
				t.Fatal(i, len(got[i]), len(want))
			}
			for j, w := range want {
				if len(got[i][j]) != len(w) {
					t.Fatal(i, j)
				}
				for k, x := range w {
					if got[i][j][k].TokenID != int32(x[0]) {
						t.Fatal(i, j, k, got[i][j][k], x)
					}
					near(t, got[i][j][k].Score, x[1], "fill-mask")
				}
			}
		}
	}
	three, err := m.FillMask([]string{"[MASK] is a [MASK] , [MASK] film !"}, nil)
	if err != nil || len(three[0]) != 3 || len(three[0][2]) != 5 {
		t.Fatal(err)
	}
}

var aggregations = map[string]Aggregation{"none": AggregateNone, "simple": AggregateSimple, "first": AggregateFirst, "average": AggregateAverage, "max": AggregateMax}

func TestTagEqualsReference(t *testing.T) {
	for _, c := range reference(t).Tagging {
		m := model(t, c.Model)
		got, err := m.Tag(c.Texts, &TextOptions{Aggregation: aggregations[c.Aggregation]})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.Results {
			if len(got[i]) != len(want) {
				t.Fatal(c.Model, c.Aggregation, i, len(got[i]), len(want))
			}
			for j, w := range want {
				g := got[i][j]
				name := m.LabelName(g.Label)
				if c.Aggregation != "none" {
					name = strings.TrimPrefix(strings.TrimPrefix(name, "B-"), "I-")
				}
				if name != w.Entity || g.Start != w.Start || g.End != w.End || g.Token != w.Index {
					t.Fatal(c.Model, c.Aggregation, i, j, g, w)
				}
				near(t, g.Score, w.Score, "tag")
			}
		}
	}
}

func TestAnswerEqualsReference(t *testing.T) {
	m := model(t, "qa")
	for _, c := range reference(t).QA {
		num := func(k string) int {
			if v, ok := c.Options[k].(float64); ok {
				return int(v)
			}
			return 0
		}
		impossible, _ := c.Options["handle_impossible_answer"].(bool)
		opts := &TextOptions{TopK: num("top_k"), MaxLength: num("max_seq_len"), DocStride: num("doc_stride"),
			MaxAnswerLength: num("max_answer_len"), HandleImpossibleAnswer: impossible}
		got, err := m.Answer(c.Questions, c.Contexts, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.Results {
			if len(got[i]) != len(want) {
				t.Fatal(i, len(got[i]), len(want))
			}
			for j, w := range want {
				a := got[i][j]
				if a.Start != int(w[1]) || a.End != int(w[2]) {
					t.Fatal(i, j, a, w)
				}
				near(t, a.Score, w[0], "qa")
				runes := []rune(c.Contexts[i])
				if a.Text(c.Contexts[i]) != string(runes[a.Start:a.End]) {
					t.Fatal("byte and character spans disagree")
				}
			}
		}
	}
}

func TestOneModelManyGoroutines(t *testing.T) {
	m := model(t, "mlm")
	texts := []string{}
	for i := 0; i < 24; i++ {
		texts = append(texts, "text number "+strings.Repeat("x", i)+" is [MASK] good")
	}
	whole, err := m.Embed(texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	masks, _ := m.FillMask(texts, nil)
	var wg sync.WaitGroup
	bad := make(chan int, len(texts))
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(texts); i += 4 {
				e, err1 := m.Embed(texts[i:i+1], nil)
				f, err2 := m.FillMask(texts[i:i+1], nil)
				if err1 != nil || err2 != nil || f[0][0][0].TokenID != masks[i][0][0].TokenID {
					bad <- i
					continue
				}
				for j, v := range e[0] {
					if math.Abs(float64(v-whole[i][j])) > 1e-5 {
						bad <- i
						break
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(bad)
	for i := range bad {
		t.Fatal("row", i, "differs")
	}
}

func TestInt8OptionReachesTheLibrary(t *testing.T) {
	r := reference(t).Embed
	want, err := model(t, r.Model).Embed(r.Texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(modelDir(r.Model), &ModelOptions{Threads: 1, Int8: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got, err := m.Embed(r.Texts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(got, want) {
		t.Fatal("int8 gave float32's bits")
	}
	for i := range got {
		var dot, na, nb float64
		for j := range got[i] {
			dot += float64(got[i][j]) * float64(want[i][j])
			na += float64(got[i][j]) * float64(got[i][j])
			nb += float64(want[i][j]) * float64(want[i][j])
		}
		if c := dot / math.Sqrt(na*nb); c < 0.98 {
			t.Fatalf("row %d: cosine %.4f to float32", i, c)
		}
	}
}
