"""Unlabeled queries for self-training: a user's JSONL file (`question` only), or `arith`
problems drawn from their own seed with the answers withheld."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from foresight.errors import ConfigError
from foresight.tasks.base import STEP_BY_STEP_SYSTEM_PROMPT, Question


@dataclass(frozen=True)
class QuerySet:
    """Questions without answers, with where they came from (part of a sampling run's identity)."""

    source: str
    questions: list[Question]

    @staticmethod
    def messages(question: Question) -> list[dict[str, str]]:
        """The chat a query is posed in; the same for sampling and for training pairs."""
        return [
            {"role": "system", "content": STEP_BY_STEP_SYSTEM_PROMPT},
            {"role": "user", "content": question.text},
        ]


def load_queries(path: str | None = None, arith_count: int | None = None) -> QuerySet:
    """Queries from `path` (JSONL, `question` and optional `id`; an `answer` field is an error),
    or `arith_count` generated `arith` problems (seed UNLABELED_SEED, 4-8 steps) without answers."""
    if (path is None) == (arith_count is None):
        raise ConfigError("give unlabeled queries either as --queries FILE.jsonl or as --arith COUNT")
    if path is not None:
        from foresight.tasks.datafiles import file_identity
        from foresight.tasks.jsonl import read_jsonl_questions

        questions, _ = read_jsonl_questions(Path(path), answers="forbidden")
        return QuerySet(file_identity(Path(path)), questions)
    if arith_count < 1:
        raise ConfigError(f"--arith needs at least 1 query, got {arith_count}")
    from foresight.tasks.arith import UNLABELED_SEED
    from foresight.tasks.arith_task import ARITH_HELDOUT_STEPS, ArithTask

    task = ArithTask(seed=UNLABELED_SEED, size=arith_count, steps=ARITH_HELDOUT_STEPS)
    withheld = [Question(q.id, q.text, None, q.meta) for q in task.questions()]
    return QuerySet(task.source, withheld)
