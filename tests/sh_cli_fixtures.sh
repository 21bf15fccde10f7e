#!/usr/bin/env bash
# The lm model commands give the answers of the reference pipelines, end to end: every case of
# tests/data/pipeline/tiny.json.gz (text-classification with each function_to_apply and pairs,
# fill-mask, token-classification with each aggregation, question answering with five option
# sets) is run through `lm classify|fill-mask|tag|qa` and its JSON lines compared (labels, token
# ids, entities, spans exact; scores within 1e-4). python3 drives it (standard library only); one
# thread, as the models are tiny. LM_TEST_QUICK=1 (check-valgrind) takes the first 3 inputs of each
# case.
set -u
cd "$(dirname "$0")/.."
LM="${RUNNER:-} ${BIN:-bin}/lm"
F=tests/data/pipeline/tiny.json.gz
if [ ! -f "$F" ]; then echo "skipped: $F not found"; exit 0; fi
if ! command -v python3 >/dev/null; then echo "skipped: no python3"; exit 0; fi
LM="$LM" python3 - "$F" <<'EOF'
import gzip, json, os, shlex, subprocess, sys

LM = shlex.split(os.environ["LM"])
MODELS = "tests/data/pipeline/models/"
fixtures = json.load(gzip.open(sys.argv[1]))
checked = 0
if os.environ.get("LM_TEST_QUICK") == "1":
    for family in ("classification", "fill_mask", "tagging", "qa"):
        for case in fixtures[family]:
            for key, value in case.items():
                if isinstance(value, list):
                    case[key] = value[:3]


def fail(what):
    print("FAIL:", what)
    sys.exit(1)


def run(args, lines):
    """Runs lm with one input per line; returns its JSON lines (exit status 0 required)."""
    for line in lines:
        if "\n" in line or "\r" in line:
            fail("a fixture text holds a newline: " + repr(line))
    p = subprocess.run(LM + args + ["--threads", "1"], input="".join(l + "\n" for l in lines).encode(),
                       capture_output=True, timeout=300)
    if p.returncode != 0:
        fail("lm %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.decode()[-2000:]))
    out = [json.loads(l) for l in p.stdout.decode().splitlines()]
    if len(out) != len(lines):
        fail("lm %s: %d lines for %d inputs" % (" ".join(args), len(out), len(lines)))
    return out


def near(a, b, what):
    if abs(a - b) > 1e-4:
        fail("%s: %r, the pipeline %r" % (what, a, b))


for case in fixtures["classification"]:
    args = ["classify", "--model", MODELS + case["model"], "--top-k", "all"]
    if case["function_to_apply"] != "default":
        args += ["--function-to-apply", case["function_to_apply"]]
    for pairs, texts, results in ((False, case["texts"], case["results"]),
                                  (True, ["\t".join(p) for p in case["pairs"]], case["pair_results"])):
        got = run(args + (["--pairs"] if pairs else []), texts)
        for i, (g, want) in enumerate(zip(got, results)):
            what = "classify %s %s %s text %d" % (case["model"], case["function_to_apply"],
                                                 "pairs" if pairs else "", i)
            if [x["label_id"] for x in g["labels"]] != [w[0] for w in want]:
                fail("%s: labels %s, the pipeline %s" % (what, g["labels"], want))
            if g["label_id"] != want[0][0]:
                fail("%s: best %s" % (what, g))
            for x, w in zip(g["labels"], want):
                near(x["score"], w[1], what)
            checked += 1

for case in fixtures["fill_mask"]:
    got = run(["fill-mask", "--model", MODELS + "mlm", "--top-k", str(case["top_k"])], case["texts"])
    for i, (g, want) in enumerate(zip(got, case["results"])):
        what = "fill-mask top_k %d text %d" % (case["top_k"], i)
        masks = g["predictions"] if len(want) > 1 else [g["predictions"]]
        if [[x["id"] for x in m] for m in masks] != [[w[0] for w in m] for m in want]:
            fail("%s: %s, the pipeline %s" % (what, g, want))
        for m, mw in zip(masks, want):
            for x, w in zip(m, mw):
                near(x["score"], w[1], what)
        checked += 1

for case in fixtures["tagging"]:
    agg = case["aggregation"]
    got = run(["tag", "--model", MODELS + case["model"], "--aggregation", agg], case["texts"])
    for i, (g, want, text) in enumerate(zip(got, case["results"], case["texts"])):
        what = "tag %s %s text %d" % (case["model"], agg, i)
        ents = g["entities"]
        key = "entity" if agg == "none" else "entity_group"
        if [(e[key], e.get("index", -1), e["start"], e["end"]) for e in ents] != \
           [(w["entity"], w["index"], w["start"], w["end"]) for w in want]:
            fail("%s: %s, the pipeline %s" % (what, ents, want))
        for e, w in zip(ents, want):
            near(e["score"], w["score"], what)
            if e["word"] != text[e["start"]:e["end"]]:
                fail("%s: word %r is not the span %d:%d" % (what, e["word"], e["start"], e["end"]))
        checked += 1

OPT = {"top_k": "--top-k", "max_seq_len": "--max-length", "doc_stride": "--doc-stride",
       "max_answer_len": "--max-answer-length"}
for case in fixtures["qa"]:
    args = ["qa", "--model", MODELS + "qa"]
    for k, v in case["options"].items():
        args += ["--handle-impossible-answer"] if k == "handle_impossible_answer" else [OPT[k], str(v)]
    lines = [q + "\t" + c for q, c in zip(case["questions"], case["contexts"])]
    got = run(args, lines)
    for i, (g, want, ctx) in enumerate(zip(got, case["results"], case["contexts"])):
        what = "qa %s question %d" % (case["options"], i)
        answers = g.get("answers", [g])
        if [(a["start"], a["end"]) for a in answers] != [(w[1], w[2]) for w in want]:
            fail("%s: %s, the pipeline %s" % (what, answers, want))
        for a, w in zip(answers, want):
            near(a["score"], w[0], what)
            if a["answer"] != ctx[a["start"]:a["end"]]:
                fail("%s: answer %r is not the span" % (what, a["answer"]))
        checked += 1

print("sh_cli_fixtures: ok (%d inputs compared)" % checked)
EOF
