#!/usr/bin/env python3
"""liblm's `lm train` against the PyTorch recipe (scripts/reference_finetune.py), task by task:
the same data files, subsets, hyperparameters, seed and threads (docs/finetune.md), one run of
each, one after the other, each in its own process. Prints per task the dev metric of both, the
training wall time (the loop without evaluation), examples/s and peak RSS, with the ratios, then a
summary line. Called by bench/finetune.sh (`make bench-finetune`, `make finetune-table`).

    bench/finetune.py --task sst2|rte|stsb|wnut17|squad|mlm|all [--threads 2]
                      [--max-train N] [--max-eval N] [--epochs N] [--out build/bench-finetune]
                      [--reuse] [--checkpoint-every N]

--max-train / --max-eval keep the first N training / dev examples on both sides (a quick check
of the machinery; the full runs take hours, see docs/finetune.md). --reuse takes a side's finished
results from --out (liblm-TASK/results.json, reference-TASK.json, and for masked LM the saved
reference-mlm-model) instead of training it again: a run cut short on one side is finished
without redoing the other (wall_s is then null; train_s comes from the results).
--checkpoint-every N has the recipe save its state every N steps in OUT/reference-ck and continue
from there when run again (SQuAD's PyTorch side takes hours: it can span sittings).

Masked LM: each side masks the dev set with its own generator, and the perplexity moves with the
masking; so both fine-tuned models are also scored under both maskings (`lm eval`, the recipe's
--eval-model), and the diff is taken between the two models on the same masking.
"""
import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import reference_finetune as ref  # noqa: E402  (TASKS, MAIN_METRIC, the RTE split)

# lm train's task and files per recipe task (data dir, split dir).
LM_TASK = {"sst2": "classification", "rte": "classification", "stsb": "regression",
           "wnut17": "tokens", "squad": "qa", "mlm": "mlm"}
LOWER_IS_BETTER = {"perplexity"}


def files(task, data, split):
    if task == "rte":
        return (os.path.join(split, "rte", "train.tsv"), os.path.join(split, "rte", "dev.tsv"))
    if task == "wnut17":
        return (os.path.join(data, "wnut17", "train.conll"),
                os.path.join(data, "wnut17", "dev.conll"))
    if task == "squad":
        return (os.path.join(data, "squad", "train.json"), os.path.join(data, "squad", "dev.json"))
    d = "sst2" if task in ("sst2", "mlm") else task
    return (os.path.join(data, d, "train.tsv"), os.path.join(data, d, "dev.tsv"))


def reused(path, task):
    """A side's finished results in `path` (--reuse), or None when there are none."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        res = json.load(f)["tasks"][task]
    res["wall_s"] = None
    sys.stdout.write(f"  reuse | {path}\n")
    return res


def recipe_flags(task):
    """`lm train`'s flags for the recipe's fixed settings of a task (docs/finetune.md)."""
    flags = ["--eval-batch-size", "64", "--max-length", str(ref.TASKS[task]["max_length"]),
             "--warmup-ratio", "0.1", "--weight-decay", "0.01", "--max-grad-norm", "1"]
    return flags + (["--doc-stride", "128"] if task == "squad" else [])


def run_liblm(task, a, model, out):
    spec = ref.TASKS[task]
    done = reused(os.path.join(out, f"liblm-{task}", "results.json"), task) if a.reuse else None
    if done:
        return done
    train, dev = files(task, a.data_dir, a.split_dir)
    cmd = [os.path.join(REPO, "bin", "lm"), "train", "--model", model, "--train", train,
           "--dev", dev, "--out", os.path.join(out, f"liblm-{task}"), "--overwrite",
           "--name", task, "--task", LM_TASK[task],
           "--epochs", str(a.epochs or spec["epochs"]), "--lr", str(spec["lr"]),
           "--batch-size", "32", "--seed", str(a.seed), "--threads", str(a.threads),
           "--log-every", str(a.log_every)] + recipe_flags(task)
    if a.max_train:
        cmd += ["--max-train", str(a.max_train)]
    if a.max_eval:
        cmd += ["--max-eval", str(a.max_eval)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - t0
    sys.stdout.write("".join(f"  liblm | {x}\n" for x in r.stdout.splitlines()))
    if r.returncode != 0:
        return {"error": f"lm train exit {r.returncode}"}
    with open(os.path.join(out, f"liblm-{task}", "results.json")) as f:
        res = json.load(f)["tasks"][task]
    res["wall_s"] = wall
    return res


def run_reference(task, a, model, py, out, eval_model=None):
    path = os.path.join(out, f"reference-{task}{'-eval' if eval_model else ''}.json")
    # a masked-LM run also needs its saved model; a cross-scoring (eval_model) is always redone
    saved = task != "mlm" or os.path.isdir(os.path.join(out, f"reference-{task}-model"))
    done = reused(path, task) if a.reuse and saved and not eval_model else None
    if done:
        return done
    cmd = [py, os.path.join(REPO, "scripts", "reference_finetune.py"), "--task", task,
           "--threads", str(a.threads), "--model", model, "--data-dir", a.data_dir,
           "--split-dir", a.split_dir, "--log-every", str(a.log_every), "--out", path]
    if a.max_train:
        cmd += ["--max-train", str(a.max_train)]
    if a.max_eval:
        cmd += ["--max-eval", str(a.max_eval)]
    if a.epochs:
        cmd += ["--epochs", str(a.epochs)]
    cmd += ["--seed", str(a.seed)]
    if eval_model:
        cmd += ["--eval-model", eval_model]
    elif a.checkpoint_every:
        cmd += ["--checkpoint", os.path.join(out, "reference-ck"),
                "--checkpoint-every", str(a.checkpoint_every)]
    elif task == "mlm":
        cmd += ["--save-model", os.path.join(out, f"reference-{task}-model")]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - t0
    sys.stdout.write("".join(f"  torch | {x}\n" for x in r.stdout.splitlines()
                             if x.startswith(f"[{task}]")))
    if r.returncode != 0:
        sys.stdout.write(r.stdout[-2000:])
        return {"error": f"reference exit {r.returncode}"}
    with open(path) as f:
        res = json.load(f)["tasks"][task]
    res["wall_s"] = wall
    return res


def lm_eval(task, a, model_dir):
    """`lm eval` of a fine-tuned folder on the task's dev file: its metrics (None on failure)."""
    spec = ref.TASKS[task]
    cmd = [os.path.join(REPO, "bin", "lm"), "eval", "--model", model_dir,
           "--data", files(task, a.data_dir, a.split_dir)[1], "--task", LM_TASK[task],
           "--batch-size", "64", "--max-length", str(spec["max_length"]),
           "--threads", str(a.threads)]
    if a.max_eval:
        cmd += ["--max-examples", str(a.max_eval)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.stdout.write(f"  liblm | eval {model_dir}: {r.stderr.strip()}\n")
        return None
    return json.loads(r.stdout)


def same_masking(task, a, out, pt):
    """Masked LM: each side draws its own fixed masking of the dev set, and the perplexity moves
    with the masking about as much as with the training seed. So both fine-tuned models are
    scored under both maskings (liblm's `lm eval`, masking seed 42; the recipe's, masking seed
    --seed, where the PyTorch run `pt` already scored its own model): {masking: (liblm model,
    PyTorch model)}, or None when a scoring failed."""
    lib_dir = os.path.join(out, f"liblm-{task}")
    pt_dir = os.path.join(out, f"reference-{task}-model")
    lib_l, pt_l = lm_eval(task, a, lib_dir), lm_eval(task, a, pt_dir)
    lib_t = run_reference(task, a, a.model, a.python, out, eval_model=lib_dir)
    if lib_l is None or pt_l is None or "error" in lib_t:
        return None
    m = ref.MAIN_METRIC[task]
    return {"liblm": (lib_l[m], pt_l[m]), "pytorch": (lib_t["metrics"][m], pt["metrics"][m])}


def ratio(x, y):
    return x / y if x and y else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", default="sst2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-train", type=int, default=0)
    ap.add_argument("--max-eval", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=42, help="head init, dropout, shuffling (both sides)")
    ap.add_argument("--model", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--split-dir", default=os.path.join(REPO, "build", "finetune-data"))
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench-finetune"))
    ap.add_argument("--reuse", action="store_true",
                    help="take a side's finished results from --out instead of training again")
    ap.add_argument("--checkpoint-every", type=int, default=0,
                    help="the recipe saves its state every N steps and continues from it")
    a = ap.parse_args()
    if a.data_dir is None:
        a.data_dir = ref.default_data_dir()
    tasks = list(ref.TASKS) if a.task == "all" else [a.task]
    os.makedirs(a.out, exist_ok=True)
    if "rte" in tasks:
        ref.rte_split(a.data_dir, a.split_dir, 42)
    rows = []
    for task in tasks:
        print(f"== {task}: liblm, then PyTorch ({a.threads} threads, load average "
              f"{os.getloadavg()[0]:.1f})", flush=True)
        lib = run_liblm(task, a, a.model, a.out)
        torch_res = run_reference(task, a, a.model, a.python, a.out)
        if task == "mlm" and "error" not in lib and "error" not in torch_res:
            lib["same_masking"] = same_masking(task, a, a.out, torch_res)
        rows.append((task, lib, torch_res))
    metric_w = max(len(ref.MAIN_METRIC[t]) for t in tasks)
    print()
    head = (f"{'task':7s} {'metric':{metric_w}s} {'liblm':>8s} {'torch':>8s} {'diff':>7s} "
            f"{'lm_train_s':>10s} {'pt_train_s':>10s} {'time':>5s} {'lm_ex/s':>8s} "
            f"{'pt_ex/s':>8s} {'lm_RSS':>7s} {'pt_RSS':>7s} {'mem':>5s}")
    print(head)
    worst_diff, worst_time, worst_mem, failed = float('inf'), 0.0, 0.0, []
    summary = {}
    for task, lib, pt in rows:
        m = ref.MAIN_METRIC[task]
        if "error" in lib or "error" in pt:
            print(f"{task:7s} {lib.get('error', '')} {pt.get('error', '')}")
            failed.append(task)
            continue
        x, y = lib["metrics"].get(m), pt["metrics"].get(m)
        scale = 1.0 if m in ("f1", "exact_match") and task == "squad" else 100.0
        cross = lib.get("same_masking")
        if m == "perplexity" and cross:
            # the mean, over the two maskings, of liblm's model against PyTorch's on the same one
            diff = sum((p - q) / q * 100.0 for p, q in cross.values()) / len(cross)
        elif m == "perplexity":
            diff = (x - y) / y * 100.0 if x and y else float("nan")  # percent of the reference
        else:
            diff = (x - y) * scale if x is not None and y is not None else float("nan")
        tr, mr = ratio(lib["train_s"], pt["train_s"]), ratio(lib["peak_rss_mib"], pt["peak_rss_mib"])
        worst_diff = min(worst_diff, -diff if m in LOWER_IS_BETTER else diff)
        worst_time = max(worst_time, tr)
        worst_mem = max(worst_mem, mr)
        summary[task] = dict(metric=m, liblm=x, torch=y, diff_points=diff, train_s=lib["train_s"],
                             torch_train_s=pt["train_s"], time_ratio=tr,
                             examples_per_s=lib["examples_per_s"],
                             torch_examples_per_s=pt["examples_per_s"],
                             peak_rss_mib=lib["peak_rss_mib"],
                             torch_peak_rss_mib=pt["peak_rss_mib"], mem_ratio=mr,
                             wall_s=lib["wall_s"], torch_wall_s=pt["wall_s"])
        if cross:
            summary[task]["same_masking"] = {k: dict(liblm=p, torch=q) for k, (p, q) in
                                             cross.items()}
        print(f"{task:7s} {m:{metric_w}s} {x:8.4f} {y:8.4f} {diff:+7.2f} {lib['train_s']:10.1f} "
              f"{pt['train_s']:10.1f} {tr:5.2f} {lib['examples_per_s']:8.1f} "
              f"{pt['examples_per_s']:8.1f} {lib['peak_rss_mib']:7.0f} {pt['peak_rss_mib']:7.0f} "
              f"{mr:5.2f}")
        for k, (p, q) in (cross or {}).items():
            print(f"{'':7s} {'':{metric_w}s} {p:8.4f} {q:8.4f} {(p - q) / q * 100.0:+7.2f} "
                  f"(both models under {k}'s dev masking)")
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(dict(threads=a.threads, max_train=a.max_train, max_eval=a.max_eval,
                       tasks=summary), f, indent=1)
    print("(diff: metric points, liblm - PyTorch, of accuracy / F1 / Pearson x 100, SQuAD "
          "points, perplexity in % of PyTorch's, the mean over both sides' dev maskings of the "
          "two models scored on the same one; time and mem: liblm / PyTorch, training loop "
          "wall time and peak RSS)")
    name = "bench-finetune" if a.task != "all" else "finetune-table"
    print(f"{name}: {len(summary)} task(s){' FAILED ' + ','.join(failed) if failed else ''}, "
          f"worst metric diff {worst_diff:+.2f} points, max time ratio {worst_time:.2f}, "
          f"max memory ratio {worst_mem:.2f} (liblm / PyTorch, {a.threads} threads"
          f"{', subset' if a.max_train or a.max_eval else ''})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
