"""Human-readable tables of run summaries."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console
from rich.table import Table


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
