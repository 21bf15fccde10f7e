#!/usr/bin/env python3
"""Step-by-step comparison of liblm's `lm train` with the PyTorch recipe
(scripts/reference_finetune.py) with the randomness taken out: no dropout, batches in file order,
and one initial model for both (the recipe saves its model with the fresh head, --save-init, and
`lm train` starts from that folder). What is left is the same arithmetic done by two
implementations: the data and its windows, the batches, forward, loss, backward, clipping, AdamW
with its decay groups and the schedule. Prints every step's training loss and gradient norm on
both sides, the dev metrics at the end, and one summary line
    finetune-trace: TASK, N steps, worst loss diff X% (step S), worst grad-norm diff Y%, ...
A full fine-tuning run's result moves with the seed (dropout, data order, head initialisation);
this trace tells a difference of implementation from the spread of seeds. Called by
bench/finetune.sh trace TASK (`make finetune-trace`).

--dropout keeps dropout on (each side draws its own masks) and, with --lr 0, the weights stay
where they started: every step is then the same batch through the same weights on both sides,
and the losses differ by the dropout masks only. The mean of the per-step differences (with its
standard error) then says whether both drop out the same: a missing or misplaced dropout would
move every step's loss the same way.

    bench/finetune_trace.py --task squad|sst2|rte|stsb|wnut17 --model DIR [--steps 60]
                            [--batch-size 16] [--max-eval 200] [--threads 2] [--out DIR]
                            [--dropout --lr 0]

Masked LM is left out: each side draws its own masking, so no two steps see the same data.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
sys.path.insert(0, os.path.join(REPO, "bench"))
import reference_finetune as ref  # noqa: E402  (TASKS, MAIN_METRIC, the RTE split)
from finetune import LM_TASK, files, recipe_flags  # noqa: E402


def run(cmd, tag):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.stdout.write(r.stdout[-3000:])
        sys.exit(f"finetune-trace: {tag} failed (exit {r.returncode})")
    return r.stdout


def rel(x, y):
    return abs(x - y) / max(abs(y), 1e-12) * 100.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", default="squad", choices=[t for t in ref.TASKS if t != "mlm"])
    ap.add_argument("--model", required=True,
                    help="the starting model: the base all-MiniLM-L6-v2, or a fine-tuned folder")
    ap.add_argument("--python", default=sys.executable, help="the reference environment's")
    ap.add_argument("--steps", type=int, default=60,
                    help="optimizer steps (training examples: steps x batch size; SQuAD's "
                         "questions give at least as many windows)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-eval", type=int, default=200, help="dev examples scored at the end")
    ap.add_argument("--seed", type=int, default=42, help="the fresh head's initialisation")
    ap.add_argument("--lr", type=float, help="peak learning rate (default: the task's)")
    ap.add_argument("--dropout", action="store_true",
                    help="keep dropout on (with --lr 0: compares the two sides' dropout)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--split-dir", default=os.path.join(REPO, "build", "finetune-data"))
    ap.add_argument("--out", default=os.path.join(REPO, "build", "finetune-trace"))
    a = ap.parse_args()
    if a.data_dir is None:
        a.data_dir = ref.default_data_dir()
    spec = ref.TASKS[a.task]
    lr = spec["lr"] if a.lr is None else a.lr
    nodrop = [] if a.dropout else ["--no-dropout"]
    out = os.path.join(a.out, a.task)
    init = os.path.join(out, "init")
    os.makedirs(out, exist_ok=True)
    if a.task == "rte":
        ref.rte_split(a.data_dir, a.split_dir, 42)
    n_train = a.steps * a.batch_size
    common = ["--epochs", "1", "--batch-size", str(a.batch_size), "--max-train", str(n_train),
              "--max-eval", str(a.max_eval), "--seed", str(a.seed), "--threads", str(a.threads),
              "--log-every", "1", "--lr", str(lr), "--no-shuffle"] + nodrop
    what = "dropout on" if a.dropout else "no dropout"
    print(f"finetune-trace {a.task}: {n_train} training examples, batch {a.batch_size}, 1 epoch, "
          f"lr {lr:g}, {what}, file order, {a.threads} threads", flush=True)

    ref_json = os.path.join(out, "reference.json")
    run([a.python, os.path.join(REPO, "scripts", "reference_finetune.py"), "--task", a.task,
         "--model", a.model, "--data-dir", a.data_dir, "--split-dir", a.split_dir,
         "--save-init", init, "--out", ref_json] + common,
        "the PyTorch recipe")
    with open(ref_json) as f:
        pt = json.load(f)["tasks"][a.task]

    train, dev = files(a.task, a.data_dir, a.split_dir)
    lib_dir = os.path.join(out, "liblm")
    cmd = [os.path.join(REPO, "bin", "lm"), "train", "--model", init, "--train", train,
           "--dev", dev, "--out", lib_dir, "--overwrite", "--name", a.task,
           "--task", LM_TASK[a.task], "--keep-last"] + recipe_flags(a.task) + common
    run(cmd, "lm train")
    with open(os.path.join(lib_dir, "metrics.csv")) as f:
        lib_log = [r for r in csv.DictReader(f) if r["loss"]]
    with open(os.path.join(lib_dir, "results.json")) as f:
        lib = json.load(f)["tasks"][a.task]

    pt_log = pt["log"]
    if len(lib_log) != len(pt_log):
        sys.exit(f"finetune-trace: liblm logged {len(lib_log)} steps, PyTorch {len(pt_log)}")
    print(f"{'step':>5s} {'lr':>9s} {'loss liblm':>11s} {'loss torch':>11s} {'diff %':>8s} "
          f"{'gnorm liblm':>11s} {'gnorm torch':>11s} {'diff %':>8s}")
    worst_l, worst_g, at, diffs = 0.0, 0.0, 0, []
    for r, p in zip(lib_log, pt_log):
        step, lo, gn = int(r["step"]), float(r["loss"]), float(r["grad_norm"])
        if step != p["step"]:
            sys.exit(f"finetune-trace: step {step} against PyTorch's {p['step']}")
        dl, dg = rel(lo, p["loss"]), rel(gn, p["grad_norm"])
        diffs.append(lo - p["loss"])
        if dl > worst_l:
            worst_l, at = dl, step
        worst_g = max(worst_g, dg)
        print(f"{step:5d} {float(r['lr']):9.3e} {lo:11.6f} {p['loss']:11.6f} {dl:8.4f} "
              f"{gn:11.6f} {p['grad_norm']:11.6f} {dg:8.4f}")
    m = ref.MAIN_METRIC[a.task]
    # liblm's classification "f1" is the macro F1, the recipe's SST-2 "f1" that of class 1
    skip = {"epoch", "step", "eval_s"} | ({"f1"} if spec["kind"] == "classification" else set())
    keys = [k for k in pt["metrics"] if k not in skip]
    print("dev (" + str(a.max_eval) + " examples):")
    for k in keys:
        x, y = lib["metrics"].get(k), pt["metrics"][k]
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            print(f"  {k:12s} liblm {x:10.4f}  torch {y:10.4f}  diff {x - y:+.4f}")
    n = len(diffs)
    mean = sum(diffs) / n
    se = math.sqrt(sum((d - mean) ** 2 for d in diffs) / max(n - 1, 1) / n)
    if a.dropout:
        pt_mean = sum(p["loss"] for p in pt_log) / n
        print(f"finetune-trace: {a.task}, {n} steps with dropout at lr {lr:g}, mean loss liblm "
              f"{pt_mean + mean:.4f} torch {pt_mean:.4f}, mean difference {mean:+.4f} "
              f"(standard error {se:.4f}, {mean / se if se else 0:+.1f} SE), "
              f"worst grad-norm diff {worst_g:.2f}%")
        return 0
    x, y = lib["metrics"][m], pt["metrics"][m]
    print(f"finetune-trace: {a.task}, {n} steps, worst loss diff {worst_l:.4f}% "
          f"(step {at}), worst grad-norm diff {worst_g:.4f}%, dev {m} {x:.4f} vs {y:.4f} "
          f"({x - y:+.4f}; liblm vs PyTorch, {what}, file order, one initial model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
