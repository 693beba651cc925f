"""`foresight sweep`: one strategy over a grid of budgets, for inference-time scaling curves.

The grid is the product of the budget lists given: M (`--beams`) x N (`--rollouts`) for the
step searches (phi, predictive), n (`--n`) for sampling (sc, bon). Each grid point is an
ordinary resumable run directory under OUT; the sweep ends with `foresight report` over them
(table and accuracy-vs-FLOPs curve), so a sweep that is killed and rerun picks up where it
stopped.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any, Sequence

from foresight.engine.types import Engine
from foresight.errors import ConfigError
from foresight.evaluate import evaluate
from foresight.runs import load_run
from foresight.tasks.base import Task

#: The budget options a sweep can vary, with their short names in run directory names.
GRID_OPTIONS = {"beams": "M", "rollouts": "N", "n": "n"}


def int_list(text: str) -> list[int]:
    """argparse type for a comma-separated list of positive integers ("1,2,4")."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected integers of at least 1, got '{text}'")
    return values


def budget_grid(lists: dict[str, list[int] | None]) -> list[dict[str, int]]:
    """Every combination of the given budget lists, e.g. {"beams": [1, 2], "rollouts": [2]}
    -> [{"beams": 1, "rollouts": 2}, {"beams": 2, "rollouts": 2}]."""
    given = {name: values for name, values in lists.items() if values}
    if not given:
        raise ConfigError("sweep needs a budget grid: --beams and/or --rollouts (phi, predictive) or --n (sc, bon)")
    return [dict(zip(given, values)) for values in itertools.product(*given.values())]


def run_name(label: str, point: dict[str, int]) -> str:
    """A grid point's run directory: the strategy label plus the budget it does not already show
    ("phi-M2-N4"; "sc@8" already names its n)."""
    shown = {"n"} if "@" in label else set()
    return label + "".join(f"-{GRID_OPTIONS[k]}{v}" for k, v in point.items() if k not in shown)


def run_sweep(task: Task, configs: Sequence[tuple[dict[str, int], Any]], engine: Engine, out: Path, *,
              seed: int, limit: int | None, batch_size: int, progress: bool) -> list[dict[str, Any]]:
    """Run each (grid point, strategy config) into its own directory under `out`; returns the
    runs' summaries as `foresight report` reads them."""
    directories = []
    for point, strategy in configs:
        directory = out / run_name(strategy.label, point)
        evaluate(task, strategy, engine, directory, seed=seed, limit=limit, batch_size=batch_size, progress=progress)
        directories.append(directory)
    return [load_run(directory) for directory in directories]
