"""Accuracy per unit of compute on the embedded arith model (φ-Decoding issue, item 6).

300 held-out `arith` problems of 4 to 8 steps drawn with BENCHMARK_SEED (never used by training
or tests). Runs cot; sc@k and bon@k for k in {4, 8, 16}; predictive; phi and its four ablations.
Prints accuracy, generated tokens, paper FLOPs and wall time per strategy, and writes accuracy
vs paper FLOPs as a PNG. Every run is a normal resumable run directory under --out.

    .venv/bin/python benchmarks/accuracy_compute.py [--out runs/accuracy-compute] [--limit 300]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from foresight.engine.transformers_engine import TransformersEngine
from foresight.evaluate import evaluate
from foresight.strategies import make_strategy
from foresight.tasks.arith import BENCHMARK_SEED
from foresight.tasks.arith_task import ArithTask


def strategies() -> list:
    configs = [make_strategy("cot")]
    for k in (4, 8, 16):
        configs += [make_strategy("sc", n=k), make_strategy("bon", n=k)]
    configs += [
        make_strategy("predictive"),
        make_strategy("phi"),
        make_strategy("phi", foresight=False),
        make_strategy("phi", cluster=False),
        make_strategy("phi", width_pruning=False),
        make_strategy("phi", depth_pruning=False),
        make_strategy("phi", width_pruning=False, depth_pruning=False),
    ]
    return configs


def plot(summaries: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5.5))
    for family, marker in (("sc", "o"), ("bon", "s")):
        points = sorted((s["total_paper_flops"], 100 * s["accuracy"]) for s in summaries if s["strategy"].startswith(family + "@"))
        axes.plot(*zip(*points), marker=marker, label=family + "@{4,8,16}")
    others = [s for s in summaries if not s["strategy"].startswith(("sc@", "bon@"))]
    for index, s in enumerate(others):
        axes.scatter(s["total_paper_flops"], 100 * s["accuracy"], marker="*" if s["strategy"] == "phi" else "D", s=90)
        axes.annotate(s["strategy"], (s["total_paper_flops"], 100 * s["accuracy"]), textcoords="offset points",
                      xytext=(6, 6 - 12 * (index % 3)), fontsize=7)
    axes.set_xscale("log")
    axes.margins(x=0.25, y=0.08)
    axes.set_xlabel("paper FLOPs (6 x params x generated tokens), total over the problems")
    axes.set_ylabel("accuracy (%)")
    axes.set_title(f"embedded arith model, {summaries[0]['questions']} held-out problems (4-8 steps)")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/accuracy-compute"))
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()

    engine = TransformersEngine.from_spec("arith")
    task = ArithTask(seed=BENCHMARK_SEED, size=args.limit)
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
    plot(summaries, args.out / "accuracy_vs_flops.png")
    print(f"\nplot: {args.out / 'accuracy_vs_flops.png'}")


if __name__ == "__main__":
    main()
