"""Tables of run summaries: a rich table on the terminal, and `foresight report`'s Markdown,
CSV and accuracy-vs-FLOPs plots over many run directories (task x strategy)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

from foresight.eval.plots import plot_accuracy_vs_flops

#: Columns of the Markdown and CSV reports: (header, summary key).
REPORT_COLUMNS = (
    ("task", "task"), ("strategy", "strategy"), ("budget", "budget"), ("model", "model"),
    ("questions", "questions"), ("accuracy %", "accuracy"), ("no answer", "no_answer"),
    ("gen tokens", "total_generated_tokens"), ("prompt tokens", "total_prompt_tokens"),
    ("paper FLOPs", "total_paper_flops"), ("inference FLOPs", "total_inference_flops"), ("wall s", "wall_time_s"),
)


def print_summary_table(summaries: Sequence[dict[str, Any]], console: Console | None = None) -> None:
    """One row per run: accuracy, tokens, FLOPs (paper and inference), wall time."""
    table = Table(title="foresight results")
    for column in ("task", "strategy", "model", "questions", "accuracy", "gen tokens", "prompt tokens",
                   "paper FLOPs", "inference FLOPs", "wall s"):
        table.add_column(column, justify="left" if column in ("task", "strategy", "model") else "right")
    for s in summaries:
        table.add_row(
            s["task"], s["strategy"], s["model"], str(s["questions"]), f"{100 * s['accuracy']:.1f}%",
            str(s["total_generated_tokens"]), str(s["total_prompt_tokens"]),
            f"{s['total_paper_flops']:.3g}", f"{s['total_inference_flops']:.3g}", f"{s['wall_time_s']:.1f}",
        )
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=200)
    console.print(table)


def _cell(key: str, value: Any) -> str:
    """A value as the Markdown table shows it."""
    if value is None:
        return "-"
    if key == "accuracy":
        return f"{100 * value:.1f}"
    if key.endswith("_flops"):
        return f"{value:.3g}"
    if key == "wall_time_s":
        return f"{value:.1f}"
    return str(value)


def markdown_table(runs: Sequence[dict[str, Any]]) -> str:
    """A Markdown table, one row per run, sorted by task then paper FLOPs."""
    lines = ["| " + " | ".join(header for header, _ in REPORT_COLUMNS) + " |",
             "|" + "---|" * len(REPORT_COLUMNS)]
    for run in _ordered(runs):
        lines.append("| " + " | ".join(_cell(key, run[key]) for _, key in REPORT_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def write_csv(runs: Sequence[dict[str, Any]], path: Path) -> None:
    """The same rows with full-precision numbers (accuracy as a fraction)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([key for _, key in REPORT_COLUMNS] + ["run_dir"])
        for run in _ordered(runs):
            writer.writerow([run[key] for _, key in REPORT_COLUMNS] + [run["run_dir"]])


def write_report(runs: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """report.md, report.csv and one accuracy_vs_flops_<task>.png per task under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(markdown_table(runs), encoding="utf-8")
    write_csv(runs, out / "report.csv")
    written = [out / "report.md", out / "report.csv"]
    for task in sorted({run["task"] for run in runs}):
        of_task = [run for run in runs if run["task"] == task]
        models = ", ".join(sorted({run["model"] for run in of_task}))
        sizes = "/".join(str(n) for n in sorted({run["questions"] for run in of_task}))
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", task)
        written.append(plot_accuracy_vs_flops(of_task, out / f"accuracy_vs_flops_{slug}.png",
                                              f"{task}: {sizes} questions, model {models}"))
    return written


def _ordered(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(runs, key=lambda r: (r["task"], r["total_paper_flops"], r["strategy"]))
