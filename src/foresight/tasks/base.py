"""What a task is: questions with gold answers, how to prompt them, how to score a response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

STEP_BY_STEP_SYSTEM_PROMPT = (
    "Solve the problem step by step, one step per line. "
    "End with a final line of the form 'The answer is N.'"
)


@dataclass(frozen=True)
class Question:
    """One item of a task. `gold` is the reference answer as text (None when unlabeled)."""

    id: str
    text: str
    gold: str | None
    meta: dict[str, Any] = field(default_factory=dict)


class Task(Protocol):
    """A benchmark or data set, with its prompting and scoring rules."""

    name: str
    #: Where the questions come from (a file path, a generator seed), part of a run's identity.
    source: str

    def questions(self) -> list[Question]:
        """All questions, in a fixed order."""
        ...

    def messages(self, question: Question) -> list[dict[str, str]]:
        """Chat messages to render through the model's template."""
        ...

    def extract_answer(self, response: str) -> str | None:
        """The final answer a response commits to, or None when it gives none."""
        ...

    def is_correct(self, prediction: str | None, gold: str | None) -> bool:
        """Whether `prediction` matches `gold` (a missing prediction is wrong)."""
        ...
