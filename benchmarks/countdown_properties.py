"""The countdown testbed's properties (issue 12, item 3) and its judge's accuracy (item 4).

On the 300 held-out countdown problems (seed HELDOUT_SEED, 3 to 5 numbers) runs greedy CoT and
best-of-n at the given temperature through the normal run machinery, then prints: greedy
accuracy; pass@n; best-of-n by mean log-prob; self-consistency@n over the same samples; the
AUC of mean log-prob separating right from wrong samples; the share of sampled step lines with
wrong arithmetic; what the wrong samples are (dead ends vs broken lines); then the accuracy of
the model's own step check and vote on held-out states against the exact solver's labels.

Run by `benchmarks/embedded_model_accuracy.py --task countdown`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from foresight.engine.transformers_engine import TransformersEngine
from foresight.engine.types import GenerationRequest
from foresight.eval.evaluate import evaluate
from foresight.strategies import make_strategy
from foresight.strategies.sampling import majority_vote
from foresight.tasks.countdown import ANSWER_RE, HELDOUT_SEED, STEP_PREFIX_LINE, STEP_RE, apply, legal, make_problems, parse_answer
from foresight.tasks.countdown_judge import JudgeExample, step_check_example, vote_example
from foresight.tasks.countdown_task import CountdownTask

JUDGE_STATES = 300


def _records(run_dir: Path) -> dict[str, dict]:
    lines = (run_dir / "records.jsonl").read_text().splitlines()
    return {r["id"]: r for r in map(json.loads, lines)}


def line_counts(text: str) -> Counter:
    """Step lines, step lines with wrong arithmetic, and lines that are neither step nor answer."""
    counts: Counter = Counter()
    for line in (raw.strip() for raw in text.split("\n")):
        match = STEP_RE.match(line)
        if match:
            a, op, b, result = int(match[1]), match[2], int(match[3]), int(match[4])
            counts["step"] += 1
            counts["wrong_arithmetic"] += not legal(op, a, b) or apply(op, a, b) != result
        elif line and not ANSWER_RE.match(line) and line != STEP_PREFIX_LINE:
            counts["malformed"] += 1
    return counts


def sample_kind(task: CountdownTask, text: str, gold: str) -> str:
    """right, dead end (a well-formed right chain from the given numbers to another value), or broken."""
    answer = task.extract_answer(text)
    if answer is None or parse_answer(answer)[0] != parse_answer(gold)[0]:
        return "broken"
    return "right" if task.is_correct(answer, gold) else "dead end"


def properties(engine: TransformersEngine, out: Path, n: int, temperature: float) -> dict:
    task = CountdownTask()
    bon_label = f"bon@{n}"
    evaluate(task, make_strategy("cot"), engine, out / "cot", progress=False)
    evaluate(task, make_strategy("bon", n=n, temperature=temperature), engine, out / bon_label, progress=False)
    cot, bon = _records(out / "cot"), _records(out / bon_label)
    rows: dict[str, dict[str, list]] = {}
    labels, scores, lines, kinds = [], [], Counter(), Counter()
    for question in task.questions():
        samples = bon[question.id]["trace"]["samples"]
        answers = [task.extract_answer(s["text"]) for s in samples]  # read again: the checker may be newer than the run
        right = [task.is_correct(a, question.gold) for a in answers]
        vote = majority_vote(answers, [s["mean_logprob"] for s in samples])
        best = max(range(len(samples)), key=lambda i: samples[i]["mean_logprob"])
        for group in ("all", str(question.meta["numbers"])):
            row = rows.setdefault(group, {"greedy": [], f"pass@{n}": [], bon_label: [], f"sc@{n}": []})
            row["greedy"].append(task.is_correct(task.extract_answer(cot[question.id]["response"]), question.gold))
            row[f"pass@{n}"].append(any(right))
            row[bon_label].append(right[best])
            row[f"sc@{n}"].append(task.is_correct(vote, question.gold))
        labels += right
        scores += [s["mean_logprob"] for s in samples]
        for s in samples:
            lines += line_counts(s["text"])
            kinds[sample_kind(task, s["text"], question.gold)] += 1
    auc = roc_auc_score(labels, scores) if 0 < sum(labels) < len(labels) else float("nan")
    return {"rows": rows, "auc": auc, "lines": lines, "kinds": kinds,
            "mean_logprob": {k: float(np.mean([s for s, l in zip(scores, labels) if l == k])) for k in (True, False) if k in labels}}


def judge_accuracy(engine: TransformersEngine, make, count: int = JUDGE_STATES) -> tuple[float, float, float]:
    """(accuracy vs the solver's answer, share of a lenient match, base rate of the commonest
    label) on `count` held-out states; for votes the lenient match is 'picks a reachable choice'."""
    examples: list[JudgeExample] = []
    for index, problem in enumerate(make_problems(HELDOUT_SEED, count)):
        examples.append(make(np.random.default_rng([HELDOUT_SEED, 99, index]), problem.numbers, problem.target))
    prompts = [engine.render_chat([{"role": "user", "content": e.prompt}]) for e in examples]
    completions = engine.generate([GenerationRequest(p, n=1, temperature=0.0, max_tokens=12) for p in prompts])
    texts = [c.samples[0].text.strip() for c in completions]
    exact = float(np.mean([t.startswith(e.answer) for t, e in zip(texts, examples)]))
    lenient = float(np.mean([any(t.startswith(a) for a in (e.reachable_answers or (e.answer,))) for t, e in zip(texts, examples)]))
    base = Counter(e.answer for e in examples).most_common(1)[0][1] / len(examples)
    return exact, lenient, base


def report(model: str, out: Path, n: int = 16, temperature: float = 0.6) -> None:
    engine = TransformersEngine.from_spec(model)
    figures = properties(engine, out, n, temperature)
    columns = ["greedy", f"pass@{n}", f"bon@{n}", f"sc@{n}"]
    print(f"\ncountdown model {model} ({engine.num_parameters:,} parameters), 300 held-out problems, "
          f"{n} samples each at temperature {temperature}")
    print("| numbers | problems | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for group in ["all", *sorted(g for g in figures["rows"] if g != "all")]:
        row = figures["rows"][group]
        print(f"| {group} | {len(row['greedy'])} | " + " | ".join(f"{100 * np.mean(row[c]):.1f}" for c in columns) + " |")
    lines, kinds = figures["lines"], figures["kinds"]
    print(f"AUC of mean log-prob, right vs wrong samples: {figures['auc']:.3f} "
          f"(mean log-prob right {figures['mean_logprob'].get(True, float('nan')):.3f}, wrong {figures['mean_logprob'].get(False, float('nan')):.3f})")
    print(f"sampled step lines with wrong arithmetic: {lines['wrong_arithmetic']} of {lines['step']} "
          f"({100 * lines['wrong_arithmetic'] / max(1, lines['step']):.2f}%); malformed lines: {lines['malformed']}")
    print("samples: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    check = judge_accuracy(engine, step_check_example)
    vote = judge_accuracy(engine, vote_example)
    print(f"step check on {JUDGE_STATES} held-out states: accuracy {100 * check[0]:.1f}% (commonest label {100 * check[2]:.1f}%)")
    print(f"vote on {JUDGE_STATES} held-out states: picks the solver's choice {100 * vote[0]:.1f}% (commonest id {100 * vote[2]:.1f}%), "
          f"picks a choice that can still reach the target {100 * vote[1]:.1f}%")
