"""`foresight genius sample`: run foresight re-sampling over every query into a resumable
run directory (the same crash-safe `RunDir` as evaluation runs: one record per query, fsynced,
a rerun skips finished queries)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from foresight.driver import Program, Usage
from foresight.engine.types import DEFAULT_BATCH_SIZE, Engine
from foresight.eval.loop import run_pending
from foresight.genius.queries import QuerySet
from foresight.genius.resampling import ResamplingConfig, resampling_program
from foresight.eval.runs import RunDir, check_fields
from foresight.strategies.base import config_dict, question_rng
from foresight.tasks.base import Question


def sampling_identity(queries: QuerySet, config: ResamplingConfig, engine: Engine, seed: int) -> dict[str, Any]:
    """Everything that decides the trajectories (batch size does not)."""
    return {"kind": "genius-sample", "source": queries.source, "resampling": config_dict(config),
            "model": engine.model_id, "seed": seed}


#: What `genius pairs` reads from each sampling record (the steps' candidates are checked too).
SAMPLE_FIELDS: dict[str, tuple[type, ...]] = {"messages": (list,), "steps": (list,), "generated_tokens": (int,),
                                              "paper_flops": (int, float)}
CANDIDATE_FIELDS: dict[str, tuple[type, ...]] = {"trajectory": (str,), "f": (int, float), "A": (int, float)}


def check_sample_record(record: dict[str, Any]) -> str | None:
    """Why a sampling record cannot be made into pairs (None when it can)."""
    problem = check_fields(record, SAMPLE_FIELDS)
    if problem is not None:
        return problem
    for number, step in enumerate(record["steps"], start=1):
        if not isinstance(step, dict) or not isinstance(step.get("candidates"), list):
            return f"step {number} has no list of 'candidates'"
        for index, candidate in enumerate(step["candidates"]):
            problem = check_fields(candidate, CANDIDATE_FIELDS) if isinstance(candidate, dict) else "not an object"
            if problem is not None:
                return f"step {number}, candidate {index}: {problem}"
    return None


def sample(queries: QuerySet, config: ResamplingConfig, engine: Engine, out_dir: Path, *, seed: int = 0,
           batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = True) -> dict[str, Any]:
    """Re-sample every query not yet in `out_dir`; returns the summary of all its records."""
    with RunDir(out_dir, sampling_identity(queries, config, engine, seed), check=check_sample_record) as run:

        def program_of(question: Question) -> Program:
            prompt = engine.render_chat(queries.messages(question))
            return resampling_program(config, prompt, question_rng(seed, question.id))

        def record_of(question: Question, steps: list[dict[str, Any]], usage: Usage) -> dict[str, Any]:
            return {
                "id": question.id,
                "config_hash": run.hash,
                "question": question.text,
                "messages": queries.messages(question),
                "steps": steps,
                "generated_tokens": usage.generated_tokens,
                "prompt_tokens": usage.prompt_tokens,
                "paper_flops": usage.paper_flops(engine.num_parameters),
            }

        wall = run_pending(run, queries.questions, program_of, record_of, engine, label="genius sample",
                           batch_size=batch_size, progress=progress)

        records = list(run.records.values())
        summary = {
            "queries": len(records),
            "steps": sum(len(r["steps"]) for r in records),
            "candidates": sum(len(s["candidates"]) for r in records for s in r["steps"]),
            "generated_tokens": sum(r["generated_tokens"] for r in records),
            "paper_flops": sum(r["paper_flops"] for r in records),
            "wall_time_s": run.previous_wall_time() + wall,
            "model": engine.model_id,
        }
        run.write_summary(summary)
    return summary
