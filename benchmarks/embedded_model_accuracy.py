"""How much room the embedded arith model leaves for search (foundation issue, item 5).

On the 500 held-out `arith` problems (4 to 8 steps, seed HELDOUT_SEED), runs greedy CoT,
self-consistency@8 and best-of-8 (the same 8 samples per question) through the normal run
machinery, then prints accuracy overall and by step count, with pass@8 (any of the 8 samples
right). Runs land in --out and resume like any run.

    .venv/bin/python benchmarks/embedded_model_accuracy.py [--out runs/embedded-accuracy] [--temperature 0.7]

With `--task countdown` it prints the countdown testbed's properties instead (see
benchmarks/countdown_properties.py; defaults there: 16 samples at temperature 0.6):

    .venv/bin/python benchmarks/embedded_model_accuracy.py --task countdown [--model countdown|DIR]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from foresight.eval import runs
from foresight.engine.transformers_engine import TransformersEngine
from foresight.eval.evaluate import evaluate
from foresight.strategies import make_strategy
from foresight.tasks.arith_task import ArithTask


def load_records(run_dir: Path) -> list[dict]:
    return list(runs.load_records(run_dir, runs.read_identity(run_dir)).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=("arith", "countdown"), default="arith")
    parser.add_argument("--model", default=None, help="countdown only: the model (default: the embedded countdown model)")
    parser.add_argument("--out", type=Path, default=None, help="run directories (default runs/embedded-accuracy[-countdown])")
    parser.add_argument("--temperature", type=float, default=None, help="default 0.7 (arith), 0.6 (countdown)")
    parser.add_argument("--n", type=int, default=None, help="default 8 (arith), 16 (countdown)")
    args = parser.parse_args()
    if args.task == "countdown":
        from countdown_properties import report

        report(args.model or "countdown", args.out or Path("runs/embedded-accuracy-countdown"),
               args.n or 16, args.temperature or 0.6)
        return
    args.out = args.out or Path("runs/embedded-accuracy")
    args.temperature = args.temperature or 0.7
    args.n = args.n or 8

    engine = TransformersEngine.from_spec("arith")
    task = ArithTask()
    strategies = [make_strategy("cot"), make_strategy("sc", n=args.n, temperature=args.temperature),
                  make_strategy("bon", n=args.n, temperature=args.temperature)]
    summaries = {s.label: evaluate(task, s, engine, args.out / s.label, progress=False) for s in strategies}

    records = {label: {r["id"]: r for r in load_records(args.out / label)} for label in summaries}
    sc_label = f"sc@{args.n}"
    columns = ["cot", sc_label, f"bon@{args.n}", f"pass@{args.n}"]
    by_steps: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for question in task.questions():
        steps = str(question.meta["num_steps"])
        for label in summaries:
            correct = records[label][question.id]["correct"]
            by_steps[steps][label].append(correct)
            by_steps["all"][label].append(correct)
        any_right = any(task.is_correct(s["answer"], question.gold) for s in records[sc_label][question.id]["trace"]["samples"])
        by_steps[steps][f"pass@{args.n}"].append(any_right)
        by_steps["all"][f"pass@{args.n}"].append(any_right)

    print(f"\nembedded arith model ({engine.num_parameters:,} parameters), {len(task.questions())} held-out problems, "
          f"sampling temperature {args.temperature}")
    print("| steps | n | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for steps in ["all", *sorted(k for k in by_steps if k != "all")]:
        row = by_steps[steps]
        cells = [f"{100 * sum(row[c]) / len(row[c]):.1f}" for c in columns]
        print(f"| {steps} | {len(row['cot'])} | " + " | ".join(cells) + " |")
    for label, summary in summaries.items():
        print(f"{label}: {summary['total_generated_tokens']} generated tokens, {summary['wall_time_s']:.1f} s")


if __name__ == "__main__":
    main()
