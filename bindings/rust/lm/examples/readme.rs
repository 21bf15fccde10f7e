fn main() -> Result<(), lm::LmError> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "sst2-model".into()); // a classifier folder
    let mut model = lm::Model::load(&dir)?; // Err: "LM_ERR_NOT_FOUND: cannot open sst2-model/config.json: ..."
    let best = model.classify(&["a gorgeous, witty, seductive movie."])?[0][0];
    println!("{} {:.3}", model.label_name(best.label).unwrap_or("?"), best.score);

    // one training step on one labelled text: the trainer borrows the model until it is dropped
    let ids = model.tokenizer().unwrap().encode("a dull, lifeless film")?.ids().to_vec();
    let opts = lm::TrainerOptions::default().learning_rate(1e-4).schedule(lm::Schedule::Constant);
    let mut trainer = lm::Trainer::new(&mut model, &opts)?;
    let batch = lm::Batch::new(lm::Inputs::new(&ids, ids.len()), lm::Labels::Classes(&[0]));
    println!("loss {:.4}", trainer.step(&batch)?);
    Ok(())
}
