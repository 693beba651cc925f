"""`foresight sweep`: one strategy over a grid of settings, for inference-time scaling curves.

Every strategy option of `foresight run` takes a comma list here, and the grid is the product
of the lists given: typically budgets, M (`--beams`) x N (`--rollouts`) for the step searches
(phi, predictive) or n (`--n`) for sampling (sc, bon). Each grid point is an ordinary resumable
run directory under OUT; the sweep ends with `foresight report` over them (table and
accuracy-vs-FLOPs curve), so a sweep that is killed and rerun picks up where it stopped.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Sequence

from foresight.engine.types import Engine
from foresight.errors import ConfigError
from foresight.eval.evaluate import evaluate
from foresight.eval.runs import load_run
from foresight.tasks.base import Task

#: The budget options, always named in a grid point's directory, by their short names.
BUDGET_NAMES = {"beams": "M", "rollouts": "N", "n": "n"}


def budget_grid(lists: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the given lists, e.g. {"beams": [1, 2], "rollouts": [2]}
    -> [{"beams": 1, "rollouts": 2}, {"beams": 2, "rollouts": 2}]."""
    given = {name: values for name, values in lists.items() if values}
    if not given:
        raise ConfigError("sweep needs a budget grid: comma lists of strategy options, such as --beams and/or "
                          "--rollouts (phi, predictive) or --n (sc, bon)")
    return [dict(zip(given, values)) for values in itertools.product(*given.values())]


def run_name(label: str, point: dict[str, Any], varied: set[str]) -> str:
    """A grid point's run directory: the strategy label, the budget it does not already show
    ("phi-M2-N4"; "sc@8" already names its n), and each other option the grid varies
    ("phi-M2-N4-step-temperature0.8")."""
    shown = {"n"} if "@" in label else set()
    parts = [f"-{BUDGET_NAMES[k]}{v}" for k, v in point.items() if k in BUDGET_NAMES and k not in shown]
    parts += [f"-{k.replace('_', '-')}{v}" for k, v in point.items() if k in varied and k not in BUDGET_NAMES]
    return label + "".join(parts)


def run_sweep(task: Task, configs: Sequence[tuple[dict[str, Any], Any]], engine: Engine, out: Path, *,
              seed: int, limit: int | None, batch_size: int, progress: bool) -> list[dict[str, Any]]:
    """Run each (grid point, strategy config) into its own directory under `out`; returns the
    runs' summaries as `foresight report` reads them."""
    varied = {k for k in (configs[0][0] if configs else {}) if len({str(point[k]) for point, _ in configs}) > 1}
    directories = []
    for point, strategy in configs:
        directory = out / run_name(strategy.label, point, varied)
        evaluate(task, strategy, engine, directory, seed=seed, limit=limit, batch_size=batch_size, progress=progress)
        directories.append(directory)
    return [load_run(directory) for directory in directories]
