"""Unlabeled queries for self-training: a user's JSONL file (`question` only), or problems of a
task that generates them (`arith`, `countdown`) drawn from its own seed with the answers withheld.

Withheld means the `Question`s handed to sampling carry no gold (None): sampling, pairs and
training cannot read a label because there is none to read. `genius run` keeps the labelled
stream aside for one thing only, the after-the-fact report of how often chosen and rejected
trajectories are right.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from foresight.errors import ConfigError
from foresight.tasks.base import STEP_BY_STEP_SYSTEM_PROMPT, Question, Task

Messages = list[dict[str, str]]


def step_by_step_messages(question: Question) -> Messages:
    """The chat a query from a file is posed in (the one a task without a format of its own uses)."""
    return [
        {"role": "system", "content": STEP_BY_STEP_SYSTEM_PROMPT},
        {"role": "user", "content": question.text},
    ]


@dataclass(frozen=True)
class QuerySet:
    """Questions without answers, with where they came from (part of a sampling run's identity)
    and the chat each is posed in: the same for sampling and for the training pairs."""

    source: str
    questions: list[Question]
    messages: Callable[[Question], Messages] = step_by_step_messages


def withheld(task: Task) -> QuerySet:
    """A task's questions with their answers removed, posed in the task's own chat."""
    return QuerySet(task.source, [Question(q.id, q.text, None, q.meta) for q in task.questions()], task.messages)


def load_queries(path: str | None = None, task: str | None = None, count: int | None = None,
                 posed_as: Task | None = None) -> QuerySet:
    """Queries from `path` (JSONL, `question` and optional `id`; an `answer` field is an error),
    posed in `posed_as`'s chat when given; or `count` problems of `task`'s unlabeled stream."""
    if (path is None) == (count is None):
        raise ConfigError("give unlabeled queries either as --queries-file FILE.jsonl or as --queries N (problems of --task)")
    if path is not None:
        from foresight.tasks.datafiles import file_identity
        from foresight.tasks.jsonl import read_jsonl_questions

        questions, _ = read_jsonl_questions(Path(path), answers="forbidden")
        if posed_as is None:
            return QuerySet(file_identity(Path(path)), questions)
        # the chat is part of what decides the trajectories, so of the sampling run's identity
        return QuerySet(f"{file_identity(Path(path))}, posed as {posed_as.name}", questions, posed_as.messages)
    if count < 1:
        raise ConfigError(f"--queries needs at least 1 query, got {count}")
    from foresight.tasks import unlabeled_stream

    return withheld(unlabeled_stream(task or "arith", count))
