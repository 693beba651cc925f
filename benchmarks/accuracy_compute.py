"""Accuracy per unit of compute on an embedded model (φ-Decoding issue, item 6; countdown: issue 12).

300 problems drawn with the task's BENCHMARK_SEED (never used by training or tests): `arith`
problems of 4 to 8 steps on the arith model, or with `--task countdown` countdown problems of 3
to 5 numbers on the countdown model. Runs cot; sc@k and bon@k for k in {4, 8, 16}; predictive; phi with the paper's
settings and with the released preset, each with its ablations, and the released preset without
its positive-advantage filter. Prints accuracy, generated tokens, paper FLOPs and wall time per
strategy, and writes accuracy vs paper FLOPs as a PNG. Every run is a normal resumable run
directory under --out, so `--only` can split the runs over several processes and a last call
without it prints the whole table.

    .venv/bin/python benchmarks/accuracy_compute.py [--task arith|countdown] [--out runs/accuracy-compute[-countdown]]
                                                    [--limit 300] [--only LABEL,...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from foresight.engine.transformers_engine import TransformersEngine
from foresight.eval.evaluate import evaluate
from foresight.eval.plots import plot_accuracy_vs_flops
from foresight.eval.runs import load_run
from foresight.strategies import make_strategy
from foresight.tasks import arith, countdown
from foresight.tasks.arith_task import ArithTask
from foresight.tasks.countdown_task import CountdownTask


def strategies() -> list:
    configs = [make_strategy("cot")]
    for k in (4, 8, 16):
        configs += [make_strategy("sc", n=k), make_strategy("bon", n=k)]
    configs.append(make_strategy("predictive"))
    for preset in ("paper", "released"):
        configs += [
            make_strategy("phi", preset=preset),
            make_strategy("phi", preset=preset, foresight=False),
            make_strategy("phi", preset=preset, cluster=False),
            make_strategy("phi", preset=preset, width_pruning=False),
            make_strategy("phi", preset=preset, depth_pruning=False),
            make_strategy("phi", preset=preset, width_pruning=False, depth_pruning=False),
        ]
    configs.append(make_strategy("phi", preset="released", advantage_filter=False))
    return configs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=("arith", "countdown"), default="arith")
    parser.add_argument("--out", type=Path, default=None, help="default runs/accuracy-compute[-countdown]")
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--only", default=None, help="comma-separated labels to run (default: all, then the table)")
    args = parser.parse_args()
    chosen = strategies()
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {s.label for s in chosen}
        if unknown:
            parser.error(f"unknown labels {sorted(unknown)}; choose from {[s.label for s in chosen]}")
        chosen = [s for s in chosen if s.label in wanted]

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
    for strategy in chosen:
        summary = evaluate(task, strategy, engine, args.out / strategy.label, progress=False)
        summaries.append(summary)
        print(f"{strategy.label:36s} done: {100 * summary['accuracy']:.1f}%", flush=True)

    print(f"\n| strategy | accuracy | generated tokens | paper FLOPs | wall s | step-value acc |")
    print("|---|---|---|---|---|---|")
    for s in summaries:
        step_values = f"{100 * s['step_value_accuracy']:.1f}" if s["step_value_accuracy"] is not None else "-"
        print(f"| {s['strategy']} | {100 * s['accuracy']:.1f} | {s['total_generated_tokens']} | "
              f"{s['total_paper_flops']:.3g} | {s['wall_time_s']:.0f} | {step_values} |")
    if args.only:
        return
    (args.out / "summaries.json").write_text(json.dumps(summaries, indent=2) + "\n")
    runs = [load_run(args.out / strategy.label) for strategy in strategies()]
    path = plot_accuracy_vs_flops(runs, args.out / "accuracy_vs_flops.png", title)
    print(f"\nplot: {path}")


if __name__ == "__main__":
    main()
