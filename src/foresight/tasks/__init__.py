"""Tasks: where questions come from and how answers are scored."""

from __future__ import annotations

from pathlib import Path

from foresight.errors import ConfigError
from foresight.tasks.base import Question, Task

BENCHMARK_NAMES = ("gsm8k", "math500", "aime", "scibench", "gpqa", "arc", "csqa", "logiqa", "reclor", "strategyqa")
TASK_NAMES = ("arith", "countdown", "jsonl") + BENCHMARK_NAMES
#: How a `--data` file's answers are read and scored (see `tasks.jsonl`).
ANSWER_FORMAT_NAMES = ("math", "choice", "yesno", "text")


def load_task(name: str | None, data: str | None = None, few_shot: str | None = None,
              answer_format: str | None = None) -> Task:
    """The task `name`: `arith`, `countdown` (generated, or problems read from `data`), a user's JSONL file given as `data` (`jsonl`), or a benchmark
    read from its shared file or from `data`. `few_shot` adds exemplar turns to every prompt;
    `answer_format` (one of ANSWER_FORMAT_NAMES) says how a `jsonl` file's answers are scored."""
    if answer_format is not None and not (data is not None and name in (None, "jsonl")):
        raise ConfigError("--answer-format applies to your own --data FILE.jsonl (task jsonl); "
                          "the other tasks have their own answer format")
    if answer_format is not None and answer_format not in ANSWER_FORMAT_NAMES:
        raise ConfigError(f"unknown answer format '{answer_format}'; choose one of: {', '.join(ANSWER_FORMAT_NAMES)}")
    task = _base_task(name, data, answer_format)
    if few_shot is not None:
        from foresight.tasks.prompts import FewShotTask

        return FewShotTask(task, Path(few_shot))
    return task


#: The tasks that generate their problems: each has a stream of unlabeled ones for Genius.
STREAM_TASKS = ("arith", "countdown")


#: The seeds of a generated task a command may draw from: held-out (selection, the default of
#: `load_task`), benchmark (the README's comparisons), unlabeled (Genius's queries), validation
#: (choosing Genius's settings before the held-out set scores them).
STREAM_SPLITS = ("heldout", "benchmark", "unlabeled", "validation")


def stream_task(name: str, split: str, count: int) -> Task:
    """`count` problems of generated task `name` from the seed of `split`; those seeds are
    disjoint from each other and from the embedded models' training seeds."""
    if split not in STREAM_SPLITS:
        raise ConfigError(f"unknown split '{split}'; choose one of: {', '.join(STREAM_SPLITS)}")
    if name == "arith":
        from foresight.tasks import arith
        from foresight.tasks.arith_task import ARITH_HELDOUT_STEPS, ArithTask

        seed = {"heldout": arith.HELDOUT_SEED, "benchmark": arith.BENCHMARK_SEED, "unlabeled": arith.UNLABELED_SEED,
                "validation": arith.VALIDATION_SEED}[split]
        return ArithTask(seed=seed, size=count, steps=ARITH_HELDOUT_STEPS)
    if name == "countdown":
        from foresight.tasks import countdown
        from foresight.tasks.countdown_task import CountdownTask

        seed = {"heldout": countdown.HELDOUT_SEED, "benchmark": countdown.BENCHMARK_SEED,
                "unlabeled": countdown.UNLABELED_SEED, "validation": countdown.VALIDATION_SEED}[split]
        return CountdownTask(seed=seed, size=count)
    raise ConfigError(f"task '{name}' generates no problems ({', '.join(STREAM_TASKS)} do)")


def unlabeled_stream(name: str, count: int) -> Task:
    """`count` problems of task `name` from its own unlabeled seed: Genius's self-training
    queries. Their answers are withheld from sampling, pairs and training (`genius.queries`) and
    read only for reports."""
    return stream_task(name, "unlabeled", count)


def _base_task(name: str | None, data: str | None, answer_format: str | None) -> Task:
    if data is not None and name in (None, "jsonl"):
        from foresight.tasks.jsonl import JsonlTask

        return JsonlTask(Path(data), answer_format)
    if name == "arith" and data is None:
        from foresight.tasks.arith_task import ArithTask

        return ArithTask()
    if name == "arith":
        raise ConfigError("task 'arith' is generated, it takes no --data file")
    if name == "countdown":
        from foresight.tasks.countdown_task import CountdownTask

        return CountdownTask(data=Path(data) if data is not None else None)
    if name == "jsonl":
        raise ConfigError("task 'jsonl' needs --data FILE.jsonl")
    if name in BENCHMARK_NAMES:
        from foresight.tasks.benchmarks import BENCHMARKS, BenchmarkTask

        return BenchmarkTask(BENCHMARKS[name], Path(data) if data is not None else None)
    raise ConfigError(f"unknown task '{name}'; choose one of: {', '.join(TASK_NAMES)}")


__all__ = ["Question", "Task", "TASK_NAMES", "BENCHMARK_NAMES", "ANSWER_FORMAT_NAMES", "STREAM_TASKS", "STREAM_SPLITS",
           "load_task", "stream_task", "unlabeled_stream"]
