"""Tasks: where questions come from and how answers are scored."""

from __future__ import annotations

from pathlib import Path

from foresight.errors import ConfigError
from foresight.tasks.base import Question, Task

TASK_NAMES = ("arith", "jsonl")


def load_task(name: str | None, data: str | None = None) -> Task:
    """The task `name` (`arith`), or a user's JSONL file given as `data` (task `jsonl`)."""
    if data is not None and name in (None, "jsonl"):
        from foresight.tasks.jsonl import JsonlTask

        return JsonlTask(Path(data))
    if name == "arith" and data is None:
        from foresight.tasks.arith_task import ArithTask

        return ArithTask()
    if name == "arith":
        raise ConfigError("task 'arith' is generated, it takes no --data file")
    if name == "jsonl":
        raise ConfigError("task 'jsonl' needs --data FILE.jsonl")
    raise ConfigError(f"unknown task '{name}'; choose one of: {', '.join(TASK_NAMES)}")


__all__ = ["Question", "Task", "TASK_NAMES", "load_task"]
