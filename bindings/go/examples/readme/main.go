package main

import (
	"fmt"
	"os"

	lm "example.invalid/liblm/go/lm"
)

func main() {
	dir := "sst2-model" // a classifier folder
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	model, err := lm.Load(dir, nil)
	if err != nil { // *lm.Error: "LM_ERR_NOT_FOUND: cannot open sst2-model/config.json: ..."
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer model.Close()
	best, err := model.Classify([]string{"a gorgeous, witty, seductive movie."}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %.3f\n", model.LabelName(best[0][0].Label), best[0][0].Score)

	// one training step on one labelled text; the model keeps the trained weights
	enc, _ := model.Tokenizer().Encode("a dull, lifeless film", nil)
	opts := lm.DefaultTrainerOptions()
	opts.LearningRate, opts.Schedule = 1e-4, lm.ScheduleConstant
	trainer, err := lm.NewTrainer(model, &opts)
	if err != nil {
		panic(err)
	}
	defer trainer.Close()
	loss, err := trainer.Step(&lm.Batch{Inputs: lm.Inputs{IDs: enc.IDs, SeqLen: enc.Len()}, Labels: []int32{0}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f\n", loss)
}
