"""`foresight paper phi-table`: the φ paper's Table 1 (every method on every task, one engine).

Each (task, method) is an ordinary resumable run directory, OUT/<task>/<method label>, so a killed
table is rerun with the same command and computes only what is missing. The table is written in
the paper's layout: one row per method, accuracy per task, their average, and the total paper
FLOPs (6 x params x generated tokens) over all tasks; two columns the paper lacks say what the
compute bought: average accuracy per 1e12 FLOPs, and that figure as a multiple of φ's. Beside it
go report.md/report.csv (every run's full figures) and one accuracy-vs-FLOPs plot per task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from foresight.engine.types import Engine
from foresight.eval.evaluate import evaluate
from foresight.eval.report import write_report
from foresight.eval.runs import load_run
from foresight.tasks.base import Task

#: Problems of a generated task's benchmark seed in a table (`--benchmark-seed`), as in the README.
BENCHMARK_PROBLEMS = 300
#: The rows of the paper's Table 1, in its order, then the two voting baselines it omits.
TABLE_METHODS = ("cot", "tot", "mcts", "guided", "predictive", "phi", "sc", "wsc")


def run_table(tasks: Sequence[Task], methods: Sequence[Any], engine: Engine, out: Path, *, seed: int,
              limit: int | None, batch_size: int, progress: bool) -> list[dict[str, Any]]:
    """Run every method (a strategy config) on every task under `out`; the runs' summaries."""
    directories = []
    for task in tasks:
        for method in methods:
            directory = out / task.name / method.label
            evaluate(task, method, engine, directory, seed=seed, limit=limit, batch_size=batch_size, progress=progress)
            directories.append(directory)
    return [load_run(directory) for directory in directories]


def table_markdown(runs: Sequence[dict[str, Any]]) -> str:
    """The Table 1 layout: methods in run order, tasks in run order; "-" where a run is missing."""
    tasks = list(dict.fromkeys(run["task"] for run in runs))
    methods = list(dict.fromkeys(run["strategy"] for run in runs))
    cell = {(run["strategy"], run["task"]): run for run in runs}
    efficiency = {method: _accuracy_per_teraflop([cell[method, t] for t in tasks if (method, t) in cell]) for method in methods}
    phi = next((efficiency[m] for m in methods if m.split("-")[0] == "phi" and efficiency[m]), None)
    header = ["method", *tasks, "avg.", "paper FLOPs", "acc. per 1e12 FLOPs", "vs phi"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for method in methods:
        row = [cell.get((method, task)) for task in tasks]
        present = [run for run in row if run is not None]
        average = sum(run["accuracy"] for run in present) / len(present)
        flops = sum(run["total_paper_flops"] for run in present)
        per_teraflop = efficiency[method]
        lines.append("| " + " | ".join([
            method, *(f"{100 * run['accuracy']:.1f}" if run else "-" for run in row), f"{100 * average:.1f}",
            f"{flops:.3g}", f"{per_teraflop:.3g}" if per_teraflop else "-",
            f"{per_teraflop / phi:.2f}x" if per_teraflop and phi else "-",
        ]) + " |")
    sizes = "/".join(str(n) for n in sorted({run["questions"] for run in runs}))
    models = ", ".join(sorted({run["model"] for run in runs}))
    return "\n".join(lines) + f"\n\n{sizes} questions per task, model {models}; accuracy in %.\n"


def _accuracy_per_teraflop(runs: Sequence[dict[str, Any]]) -> float | None:
    """Average accuracy (points) per 1e12 paper FLOPs spent per question, over `runs`."""
    flops_per_question = sum(run["total_paper_flops"] / run["questions"] for run in runs) / len(runs)
    if not flops_per_question:
        return None
    return 100 * sum(run["accuracy"] for run in runs) / len(runs) / (flops_per_question / 1e12)


def write_table(runs: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """phi_table.md plus `foresight report`'s files (report.md, report.csv, per-task plots)."""
    written = write_report(runs, out)
    table = out / "phi_table.md"
    table.write_text(table_markdown(runs), encoding="utf-8")
    return [table, *written]
