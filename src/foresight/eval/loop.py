"""The one run loop: every question a run directory does not hold yet, as a driver program,
each record appended (and fsynced) the moment its question finishes. `foresight run` /
`evaluate` and `foresight genius sample` differ only in the program and the record."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from foresight.driver import Driver, Job, Program, Usage
from foresight.engine.types import Engine
from foresight.eval.runs import RunDir
from foresight.tasks.base import Question


def run_pending(run: RunDir, questions: Sequence[Question], program_of: Callable[[Question], Program],
                record_of: Callable[[Question, Any, Usage], dict[str, Any]], engine: Engine, *, label: str,
                batch_size: int, progress: bool) -> float:
    """Run the questions `run` has no record of, batched by one driver; `program_of(question)`
    is built only when the question starts, `record_of(question, result, usage)` is appended as
    it ends. Returns this session's wall time in seconds."""
    pending = [q for q in questions if not run.is_done(q.id)]
    started = time.perf_counter()
    with progress_bar(progress, label, len(questions), len(questions) - len(pending)) as advance:

        def on_finish(question: Question, result: Any, usage: Usage) -> None:
            run.append(record_of(question, result, usage))
            advance()

        Driver(engine, batch_size=batch_size).run((Job(q, program_of(q)) for q in pending), on_finish)
    return time.perf_counter() - started


@contextmanager
def progress_bar(enabled: bool, label: str, total: int, done: int) -> Iterator[Callable[[], None]]:
    """A rich progress bar over questions, on stderr (stdout carries results only); yields the
    function that advances it by one."""
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), disable=not enabled,
    )
    task_id = progress.add_task(label, total=total, completed=done)
    with progress:
        yield lambda: progress.advance(task_id)
