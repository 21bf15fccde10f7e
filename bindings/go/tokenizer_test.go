package lm

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"example.invalid/liblm/go/lm/internal/craw"
)

const text = "Unaffable naïve café — “quotes”! 元朝 x"

func arrays(e *Encoding) [][]int64 {
	ints := func(a []int32) []int64 {
		out := make([]int64, len(a))
		for i, v := range a {
			out[i] = int64(v)
		}
		return out
	}
	spans := func(a [][2]int) []int64 {
		out := []int64{}
		for _, s := range a {
			out = append(out, int64(s[0]), int64(s[1]))
		}
		return out
	}
	return [][]int64{ints(e.IDs), ints(e.TypeIDs), ints(e.AttentionMask), ints(e.SpecialTokensMask),
		ints(e.WordIDs), ints(e.SequenceIDs), spans(e.Offsets), spans(e.ByteOffsets)}
}

func TestEncodeEqualsTheCAPI(t *testing.T) {
	tok, err := LoadTokenizer(modelDir("seqcls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	enc, err := tok.Encode(text, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := craw.Encode(tok.Handle(), text); !reflect.DeepEqual(arrays(enc), want) {
		t.Fatalf("encoding differs from the C API:\n%v\n%v", arrays(enc), want)
	}
	cls, _ := tok.SpecialID(TokenCLS)
	sep, _ := tok.SpecialID(TokenSEP)
	if enc.Len() < 5 || enc.IDs[0] != cls || enc.IDs[enc.Len()-1] != sep {
		t.Fatal(enc.IDs)
	}
	for i := 1; i < enc.Len()-1; i++ {
		if s := enc.ByteOffsets[i]; text[s[0]:s[1]] == "" {
			t.Fatalf("token %d has an empty span", i)
		}
	}
	mine, err := model(t, "seqcls").Tokenizer().Encode(text, nil)
	if err != nil || !reflect.DeepEqual(mine.IDs, enc.IDs) {
		t.Fatal("the model's tokenizer differs", err)
	}
}

func TestPairsBatchesOverflow(t *testing.T) {
	tok, err := LoadTokenizer(modelDir("qa"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	pair, err := tok.EncodePair("a question", "a context", nil)
	if err != nil || pair.SequenceIDs[pair.Len()-2] != 1 || pair.TypeIDs[pair.Len()-1] != 1 || pair.TypeIDs[1] != 0 {
		t.Fatal(pair, err)
	}
	batch, err := tok.EncodeBatch([]string{text, "a", ""}, &EncodeOptions{Padding: PadLongest}, 2)
	if err != nil {
		t.Fatal(err)
	}
	single, _ := tok.Encode(text, nil)
	for _, e := range batch {
		if e.Len() != single.Len() {
			t.Fatal("not padded to the longest")
		}
	}
	if !reflect.DeepEqual(batch[0].IDs, single.IDs) {
		t.Fatal("batch row 0 differs")
	}
	ones := 0
	for _, m := range batch[1].AttentionMask {
		ones += int(m)
	}
	if ones != 3 {
		t.Fatal(batch[1].AttentionMask)
	}
	pairs, err := tok.EncodePairBatch([]string{"q1", "q2"}, []string{"c1", "c2 c2"}, nil, 1)
	want, _ := tok.EncodePair("q2", "c2 c2", nil)
	if err != nil || !reflect.DeepEqual(pairs[1].IDs, want.IDs) {
		t.Fatal(err)
	}
	long := strings.Repeat("word ", 40)
	over, err := tok.Encode(long, &EncodeOptions{MaxLength: 16, Stride: 4, ReturnOverflowing: true})
	if err != nil || over.Len() != 16 || len(over.Overflowing) < 2 {
		t.Fatal(err, over.Len(), len(over.Overflowing))
	}
	for _, w := range over.Overflowing {
		if w.Len() > 16 || w.Len() == 0 {
			t.Fatal(w.Len())
		}
	}
}

func TestDecodeAndVocabulary(t *testing.T) {
	tok, err := LoadTokenizer(modelDir("seqcls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	enc, _ := tok.Encode("a good film , really", nil)
	if s, err := tok.Decode(enc.IDs, true); err != nil || s != "a good film, really" {
		t.Fatalf("%q %v", s, err)
	}
	if s, _ := tok.Decode(enc.IDs, false); !strings.HasPrefix(s, "[CLS]") {
		t.Fatal(s)
	}
	if id, ok := tok.TokenToID("[CLS]"); !ok || id != enc.IDs[0] {
		t.Fatal(id)
	}
	if _, ok := tok.TokenToID("no-such-token-here"); ok {
		t.Fatal("found")
	}
	if _, ok := tok.TokenToID("nul\x00inside"); ok {
		t.Fatal("found")
	}
	if _, ok := tok.IDToToken(1000000); ok {
		t.Fatal("found")
	}
	if s, ok := tok.IDToToken(0); !ok || s != "[PAD]" {
		t.Fatal(s)
	}
	if tok.VocabSize() != model(t, "seqcls").VocabSize() {
		t.Fatal(tok.VocabSize())
	}
	if _, err := tok.Decode([]int32{1000000}, false); !isStatus(err, ErrRange) {
		t.Fatal(err)
	}
}

func TestTokenizerOptionsAndSaving(t *testing.T) {
	vocab := filepath.Join(modelDir("seqcls"), "vocab.txt")
	cased, err := LoadVocab(vocab, &TokenizerOptions{LowerCase: Off})
	if err != nil {
		t.Fatal(err)
	}
	defer cased.Close()
	uncased, err := LoadVocab(vocab, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer uncased.Close()
	a, _ := cased.Encode("GOOD", nil)
	b, _ := uncased.Encode("GOOD", nil)
	if reflect.DeepEqual(a.IDs, b.IDs) {
		t.Fatal("keeping case changed nothing")
	}
	if _, err := uncased.Encode("bad \xff byte", nil); !isStatus(err, ErrUTF8) {
		t.Fatal(err)
	}
	lenient, err := LoadVocab(vocab, &TokenizerOptions{ReplaceInvalidUTF8: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lenient.Close()
	if _, err := lenient.Encode("bad \xff byte", nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := uncased.SaveDir(dir); err != nil {
		t.Fatal(err)
	}
	again, err := LoadTokenizer(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := again.Encode(text, nil)
	y, _ := uncased.Encode(text, nil)
	if !reflect.DeepEqual(x.IDs, y.IDs) {
		t.Fatal("the saved tokenizer differs")
	}
	again.Close()
	if _, err := os.Stat(filepath.Join(dir, "vocab.txt")); err != nil {
		t.Fatal(err)
	}
	// closed: an error, not a crash; closing twice is fine
	if _, err := again.Encode("x", nil); !isStatus(err, ErrState) {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOneTokenizerManyGoroutines(t *testing.T) {
	tok, err := LoadTokenizer(modelDir("seqcls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	want, _ := tok.Encode(text, nil)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				e, err := tok.Encode(text, nil)
				if err != nil || !reflect.DeepEqual(e.IDs, want.IDs) {
					errs <- "differs"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
