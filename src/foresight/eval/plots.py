"""Accuracy against compute: the picture inference-time scaling is judged by.

Runs of one strategy at several budgets (sc@4, sc@8, ...; phi at M x N grid points) form a
series drawn as a line through its budgets, cheapest first, each point labelled with its
budget; a strategy run at one budget is a single point named in the legend. The x axis is the
paper's FLOPs (6 x params x generated tokens), log scale, so the plot reads like the φ paper's
Figure 3.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence


def series_name(label: str) -> str:
    """The strategy a run belongs to, without its budget: "sc@8" -> "sc", "phi" -> "phi"."""
    return label.split("@", 1)[0]


def plot_accuracy_vs_flops(runs: Sequence[dict[str, Any]], path: Path, title: str) -> Path:
    """Write a PNG of accuracy (%) against total paper FLOPs for `runs` (summaries as
    `foresight.eval.runs.load_run` returns them) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        series[series_name(run["strategy"])].append(run)
    figure, axes = plt.subplots(figsize=(8, 5.5))
    markers = "os^vDP*Xh<>"
    for index, (name, members) in enumerate(series.items()):
        members = sorted(members, key=lambda r: r["total_paper_flops"])
        xs = [r["total_paper_flops"] for r in members]
        ys = [100 * r["accuracy"] for r in members]
        marker, color = markers[index % len(markers)], f"C{index % 10}"
        if len(members) > 1:
            axes.plot(xs, ys, marker=marker, color=color, label=name)
            for run, x, y in zip(members, xs, ys):
                axes.annotate(run["budget"], (x, y), textcoords="offset points", xytext=(5, -11), fontsize=7)
        else:
            axes.scatter(xs, ys, marker=marker, color=color, s=70, label=name)
    accuracies = [100 * run["accuracy"] for run in runs]
    axes.set_xscale("log")
    axes.margins(x=0.25)
    axes.set_ylim(max(-2.0, min(accuracies) - 5), min(102.0, max(accuracies) + 5))  # a flat set still reads
    axes.set_xlabel("paper FLOPs (6 x params x generated tokens), total over the questions")
    axes.set_ylabel("accuracy (%)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
