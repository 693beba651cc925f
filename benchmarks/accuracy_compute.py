"""Accuracy per unit of compute on an embedded model (φ-Decoding issue, item 6; countdown: issue 12).

300 problems drawn with the task's BENCHMARK_SEED (never used by training or tests): `arith`
problems of 4 to 8 steps on the arith model, or `countdown` problems of 3 to 5 numbers on the
countdown model. Runs cot; sc@k and bon@k for k in {4, 8, 16}; predictive; phi (paper preset,
released preset) and its ablations. Prints accuracy, generated tokens, paper FLOPs, wall time
and step-value accuracy per strategy, and writes accuracy vs paper FLOPs as a PNG. Every run is
a normal resumable run directory under --out.

    .venv/bin/python benchmarks/accuracy_compute.py [--task arith|countdown] [--out runs/accuracy-compute] [--limit 300]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from foresight.engine.transformers_engine import TransformersEngine
from foresight.evaluate import evaluate
from foresight.plots import plot_accuracy_vs_flops
from foresight.runs import load_run
from foresight.strategies import make_strategy
from foresight.tasks import arith, countdown
from foresight.tasks.arith_task import ArithTask
from foresight.tasks.countdown_task import CountdownTask


def strategies() -> list:
    configs = [make_strategy("cot")]
    for k in (4, 8, 16):
        configs += [make_strategy("sc", n=k), make_strategy("bon", n=k)]
    configs += [
        make_strategy("predictive"),
        make_strategy("phi"),
        make_strategy("phi", preset="released"),
        make_strategy("phi", foresight=False),
        make_strategy("phi", cluster=False),
        make_strategy("phi", width_pruning=False),
        make_strategy("phi", depth_pruning=False),
        make_strategy("phi", width_pruning=False, depth_pruning=False),
    ]
    return configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=("arith", "countdown"), default="arith")
    parser.add_argument("--out", type=Path, default=None, help="default runs/accuracy-compute[-countdown]")
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()

    engine = TransformersEngine.from_spec(args.task)
    if args.task == "countdown":
        task = CountdownTask(seed=countdown.BENCHMARK_SEED, size=args.limit)
        args.out = args.out or Path("runs/accuracy-compute-countdown")
        title = f"embedded countdown model, {args.limit} benchmark problems (3-5 numbers)"
    else:
        task = ArithTask(seed=arith.BENCHMARK_SEED, size=args.limit)
        args.out = args.out or Path("runs/accuracy-compute")
        title = f"embedded arith model, {args.limit} held-out problems (4-8 steps)"
    summaries = []
    for strategy in strategies():
        summary = evaluate(task, strategy, engine, args.out / strategy.label, progress=False)
        summaries.append(summary)
        print(f"{strategy.label:36s} done: {100 * summary['accuracy']:.1f}%", flush=True)

    print(f"\n| strategy | accuracy | generated tokens | paper FLOPs | wall s | step-value acc |")
    print("|---|---|---|---|---|---|")
    for s in summaries:
        step_values = f"{100 * s['step_value_accuracy']:.1f}" if s["step_value_accuracy"] is not None else "-"
        print(f"| {s['strategy']} | {100 * s['accuracy']:.1f} | {s['total_generated_tokens']} | "
              f"{s['total_paper_flops']:.3g} | {s['wall_time_s']:.0f} | {step_values} |")
    (args.out / "summaries.json").write_text(json.dumps(summaries, indent=2) + "\n")
    runs = [load_run(args.out / strategy.label) for strategy in strategies()]
    path = plot_accuracy_vs_flops(runs, args.out / "accuracy_vs_flops.png", title)
    print(f"\nplot: {path}")


if __name__ == "__main__":
    main()
