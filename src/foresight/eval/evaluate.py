"""Run one strategy over a task's questions into a run directory, resuming what is there."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from foresight import __version__
from foresight.driver import Program, Usage
from foresight.engine.types import DEFAULT_BATCH_SIZE, Engine
from foresight.eval.loop import run_pending
from foresight.eval.runs import RunDir, summarize
from foresight.eval.step_values import step_value_counts
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
        program = STRATEGIES[strategy.name].program

        def program_of(question: Question) -> Program:
            return program(strategy, StrategyContext.for_messages(
                engine.render_chat, task.messages(question), task.extract_answer, seed, question.id, question.text))

        def record_of(question: Question, result: StrategyResult, usage: Usage) -> dict[str, Any]:
            return _record(task, question, result, usage, engine, run.hash, strategy.label, seed)

        wall = run_pending(run, questions, program_of, record_of, engine, label=strategy.label,
                           batch_size=batch_size, progress=progress)
        summary = summarize(list(run.records.values()), run.previous_wall_time() + wall)
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
