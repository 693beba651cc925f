"""Run one strategy over a task's questions into a run directory, resuming what is there."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from foresight import __version__
from foresight.driver import Driver, Job, Usage
from foresight.engine.types import DEFAULT_BATCH_SIZE, Engine
from foresight.runs import RunDir, summarize
from foresight.step_values import step_value_counts
from foresight.strategies import STRATEGIES
from foresight.strategies.base import StrategyContext, StrategyResult, config_dict
from foresight.tasks.base import Question, Task


def run_identity(task: Task, strategy, engine: Engine, seed: int) -> dict[str, Any]:
    """Everything that decides a run's results (batch size and limit do not)."""
    return {
        "task": task.name,
        "source": task.source,
        "strategy": config_dict(strategy),
        "model": engine.model_id,
        "seed": seed,
    }


def evaluate(
    task: Task,
    strategy,
    engine: Engine,
    out_dir: Path,
    *,
    seed: int = 0,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
) -> dict[str, Any]:
    """Run `strategy` on the first `limit` questions of `task` not yet in `out_dir`; returns the
    summary of every record the directory holds (`limit` only bounds what this call computes)."""
    started_at = _now()
    with RunDir(out_dir, run_identity(task, strategy, engine, seed)) as run:
        questions = task.questions()[:limit] if limit is not None else task.questions()
        pending = [q for q in questions if not run.is_done(q.id)]
        program_of = STRATEGIES[strategy.name].program
        started = time.perf_counter()

        def jobs():
            for question in pending:
                context = StrategyContext.for_messages(engine.render_chat, task.messages(question), task.extract_answer,
                                                       seed, question.id, question.text)
                yield Job(question, program_of(strategy, context))

        with progress_bar(progress, strategy.label, len(questions), len(questions) - len(pending)) as advance:

            def on_finish(question: Question, result: StrategyResult, usage: Usage) -> None:
                run.append(_record(task, question, result, usage, engine, run.hash, strategy.label, seed))
                advance()

            Driver(engine, batch_size=batch_size).run(jobs(), on_finish)

        summary = summarize(list(run.records.values()), run.previous_wall_time() + time.perf_counter() - started)
        summary |= {
            "task": task.name, "strategy": strategy.label, "model": engine.model_id, "seed": seed,
            "strategy_config": config_dict(strategy), "limit": limit, "foresight_version": __version__,
            "started_at": started_at, "finished_at": _now(), "command": list(sys.argv),
        }
        run.write_summary(summary)
    return summary


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _record(task: Task, question: Question, result: StrategyResult, usage: Usage, engine: Engine,
            hash_: str, label: str, seed: int) -> dict[str, Any]:
    return {
        "id": question.id,
        "task": task.name,
        "strategy": label,
        "config_hash": hash_,
        "model": engine.model_id,
        "seed": seed,
        "question": question.text,
        "gold": question.gold,
        "prediction": result.answer,
        "no_answer": result.answer is None,  # no final answer could be extracted: scored wrong
        "correct": task.is_correct(result.answer, question.gold),
        "response": result.response,
        "generated_tokens": usage.generated_tokens,
        "prompt_tokens": usage.prompt_tokens,
        "prefill_tokens": usage.prefill_tokens,
        "paper_flops": usage.paper_flops(engine.num_parameters),
        "inference_flops": usage.inference_flops(engine.num_parameters),
        "meta": question.meta,
        # A step value reads one step and its foresight only; a task whose answers depend on the
        # whole path (countdown) says how such a suffix reaches the gold answer.
        "step_values": step_value_counts(result.trace, task.extract_answer,
                                         getattr(task, "path_reaches_gold", task.is_correct), question.gold),
        "trace": result.trace.to_json(),
    }


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
