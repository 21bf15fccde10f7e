#!/usr/bin/env python3
"""Writes tests/data/optim/fixtures.txt: the PyTorch / transformers reference for the optimizer
steps (src/optim/optim.h), learning-rate schedules (src/optim/schedule.h), gradient clipping
(src/optim/clip.h) and losses (src/loss/loss.h), read by tests/test_optim.c.

Format: one record per line, `name count v0 v1 ...`; float32 values printed with 9 significant
digits (they read back exactly), doubles (learning rates, norms, losses) with 17.

Optimizer scenarios share one small parameter slab of four tensors (two with weight decay, a
bias and a LayerNorm weight without, as transformers groups them) and 20 steps of random
gradients; each scenario records the learning rate of each step and the parameters after it.

Run with the reference environment:
    PY=$(LM_PYENV=/work/main/.venv-ref bash scripts/pyenv.sh); $PY scripts/gen_optim_fixtures.py
Deterministic (fixed seed), CPU only, a few seconds.
"""
import os

import torch
import torch.nn.functional as F
from transformers import (get_constant_schedule, get_constant_schedule_with_warmup,
                          get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "data", "optim", "fixtures.txt")

STEPS = 20
# (name, shape, decay): the flat layout is these tensors one after the other
TENSORS = [("dense.weight", (6, 5), 1), ("dense.bias", (6,), 0), ("LayerNorm.weight", (5,), 0),
           ("out.weight", (3, 6), 1)]

lines = []


def rec_f32(name, t):
    vals = t.detach().to(torch.float32).reshape(-1).tolist()
    lines.append(f"{name} {len(vals)} " + " ".join("%.9g" % v for v in vals))


def rec_f64(name, vals):
    lines.append(f"{name} {len(vals)} " + " ".join("%.17g" % v for v in vals))


def schedule(kind, opt, warmup, total):
    if kind == "constant":
        return get_constant_schedule(opt)
    if kind == "constant_warmup":
        return get_constant_schedule_with_warmup(opt, warmup)
    if kind == "linear":
        return get_linear_schedule_with_warmup(opt, warmup, total)
    if kind == "cosine":
        return get_cosine_schedule_with_warmup(opt, warmup, total)
    raise ValueError(kind)


def run(name, make_opt, kind, warmup, total, grads, max_norm=None):
    """Runs STEPS optimizer steps from the shared initial parameters; records lr, params, norms."""
    params = [torch.nn.Parameter(t.clone()) for t in init]
    decay = [p for p, (_, _, d) in zip(params, TENSORS) if d]
    no_decay = [p for p, (_, _, d) in zip(params, TENSORS) if not d]
    opt = make_opt(decay, no_decay)
    sched = schedule(kind, opt, warmup, total)
    lrs, after, norms = [], [], []
    for k in range(STEPS):
        flat = grads[k]
        off = 0
        for p in params:
            p.grad = flat[off:off + p.numel()].reshape(p.shape).clone()
            off += p.numel()
        if max_norm is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_(params, max_norm)))
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        after.append(torch.cat([p.detach().reshape(-1) for p in params]))
    rec_f64(f"{name}.lr", lrs)
    rec_f32(f"{name}.param", torch.stack(after))
    if norms:
        rec_f64(f"{name}.norm", norms)


def main():
    global init
    torch.manual_seed(1234)
    init = [torch.randn(shape) * 0.5 for _, shape, _ in TENSORS]
    n = sum(t.numel() for t in init)
    grads = torch.randn(STEPS, n)
    # clipping: some steps far above max_norm 1.0, some below it
    scale = torch.tensor([0.05, 3.0, 0.1, 1.0, 0.02, 5.0, 0.3, 0.15, 2.0, 0.01] * 2)
    grads_clip = grads * scale[:, None]
    rec_f32("init", torch.cat([t.reshape(-1) for t in init]))
    rec_f32("grads", grads)
    rec_f32("grads_clip", grads_clip)

    wd = 0.01

    def adamw(lr, weight_decay=wd, betas=(0.9, 0.999), eps=1e-8):
        return lambda d, nd: torch.optim.AdamW(
            [{"params": d, "weight_decay": weight_decay}, {"params": nd, "weight_decay": 0.0}],
            lr=lr, betas=betas, eps=eps, foreach=False)

    def adam(lr, weight_decay=wd):
        return lambda d, nd: torch.optim.Adam(
            [{"params": d, "weight_decay": weight_decay}, {"params": nd, "weight_decay": 0.0}],
            lr=lr, foreach=False)

    def sgd(lr, momentum, weight_decay=0.0, nesterov=False, dampening=0.0):
        return lambda d, nd: torch.optim.SGD(
            [{"params": d, "weight_decay": weight_decay}, {"params": nd, "weight_decay": 0.0}],
            lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, foreach=False)

    # name, optimizer, schedule, warmup, total
    run("adamw_constant", adamw(1e-3), "constant", 0, STEPS, grads)
    run("adamw_constant_warmup", adamw(1e-3), "constant_warmup", 5, STEPS, grads)
    run("adamw_linear", adamw(2e-3), "linear", 5, 16, grads)  # lr 0 from step 16 on
    run("adamw_cosine", adamw(1e-3, betas=(0.8, 0.99), eps=1e-6), "cosine", 3, STEPS, grads)
    run("adamw_big_decay", adamw(1e-2, weight_decay=0.5), "linear", 2, STEPS, grads)
    run("adam_l2_linear", adam(1e-3), "linear", 4, STEPS, grads)
    run("sgd_momentum", sgd(0.05, 0.9, weight_decay=1e-3), "constant_warmup", 3, STEPS, grads)
    run("sgd_nesterov", sgd(0.05, 0.9, nesterov=True), "linear", 2, STEPS, grads)
    run("sgd_dampening", sgd(0.05, 0.9, weight_decay=1e-2, dampening=0.1), "cosine", 0, STEPS,
        grads)
    run("sgd_plain", sgd(0.1, 0.0, weight_decay=1e-2), "cosine", 4, STEPS, grads)
    run("adamw_clip", adamw(1e-3), "linear", 3, STEPS, grads_clip, max_norm=1.0)
    run("sgd_clip", sgd(0.05, 0.9), "constant", 0, STEPS, grads_clip, max_norm=0.5)

    # schedules alone: the lr LambdaLR gives at steps 0..29 with base lr 5e-5
    for kind, warmup, total in [("constant", 0, 20), ("constant_warmup", 4, 20),
                                ("constant_warmup", 0, 20), ("linear", 4, 20), ("linear", 0, 10),
                                ("linear", 25, 20), ("cosine", 4, 20), ("cosine", 0, 15),
                                ("cosine", 1, 1)]:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=5e-5)
        sched = schedule(kind, opt, warmup, total)
        lrs = []
        for _ in range(30):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        rec_f64(f"sched.{kind}.{warmup}.{total}", lrs)

    # losses and their gradients by autograd (float32, reduction 'mean')
    logits = (torch.randn(8, 5) * 2).requires_grad_()
    labels = torch.tensor([2, -100, 0, 4, -100, 1, 3, 3])
    loss = F.cross_entropy(logits, labels, ignore_index=-100)
    loss.backward()
    rec_f32("ce.logits", logits)
    rec_f64("ce.labels", labels.tolist())
    rec_f64("ce.loss", [loss.item()])
    rec_f32("ce.grad", logits.grad)

    # token classification as BertForTokenClassification: logits.view(-1, num_labels)
    logits = (torch.randn(3, 7, 4) * 3).requires_grad_()
    labels = torch.randint(0, 4, (3, 7))
    labels[0, 5:] = -100
    labels[2, ::2] = -100
    loss = F.cross_entropy(logits.view(-1, 4), labels.view(-1))
    loss.backward()
    rec_f32("ce_tok.logits", logits)
    rec_f64("ce_tok.labels", labels.reshape(-1).tolist())
    rec_f64("ce_tok.loss", [loss.item()])
    rec_f32("ce_tok.grad", logits.grad)

    # regression (num_labels == 1): MSELoss(logits.squeeze(), labels.squeeze())
    logits = torch.randn(6, 1).requires_grad_()
    target = torch.randn(6)
    loss = F.mse_loss(logits.squeeze(), target.squeeze())
    loss.backward()
    rec_f32("mse.pred", logits)
    rec_f32("mse.target", target)
    rec_f64("mse.loss", [loss.item()])
    rec_f32("mse.grad", logits.grad)

    # multi-label: BCEWithLogitsLoss(logits, labels)
    logits = (torch.randn(4, 3) * 3).requires_grad_()
    target = torch.tensor([[1, 0, 1], [0, 0, 0], [1, 1, 0], [0.25, 1, 0]], dtype=torch.float32)
    loss = F.binary_cross_entropy_with_logits(logits, target)
    loss.backward()
    rec_f32("bce.x", logits)
    rec_f32("bce.target", target)
    rec_f64("bce.loss", [loss.item()])
    rec_f32("bce.grad", logits.grad)

    # BertForQuestionAnswering's loss, term for term (modeling_bert.py)
    B, T = 4, 7
    logits = (torch.randn(B, T, 2) * 2).requires_grad_()
    start_positions = torch.tensor([2, -3, 7, 12])  # in range, negative, == T, beyond T
    end_positions = torch.tensor([6, 0, 30, 3])
    start_logits, end_logits = logits.split(1, dim=-1)
    start_logits = start_logits.squeeze(-1).contiguous()
    end_logits = end_logits.squeeze(-1).contiguous()
    ignored_index = start_logits.size(1)
    sp = start_positions.clamp(0, ignored_index)
    ep = end_positions.clamp(0, ignored_index)
    loss_fct = torch.nn.CrossEntropyLoss(ignore_index=ignored_index)
    loss = (loss_fct(start_logits, sp) + loss_fct(end_logits, ep)) / 2
    loss.backward()
    rec_f32("qa.logits", logits)
    rec_f64("qa.start", start_positions.tolist())
    rec_f64("qa.end", end_positions.tolist())
    rec_f64("qa.loss", [loss.item()])
    rec_f32("qa.grad", logits.grad)

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(lines)} records, torch {torch.__version__})")


if __name__ == "__main__":
    main()
