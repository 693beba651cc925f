"""Prompts of the benchmark tasks: a system prompt per answer family, optional few-shot turns.

Every prompt is a list of chat messages; the engine renders it through the model's own chat
template, so nothing here is written for one model's format. The system prompts ask for one
reasoning step per line (the unit φ-Decoding searches over) and for the answer line the
extraction rules of `math_answers` and `choice_answers` read.
"""

from __future__ import annotations

from pathlib import Path

from foresight.errors import DataError
from foresight.tasks.base import Question, Task
from foresight.tasks.datafiles import file_identity, read_rows, require

_STEPS = "Solve the problem step by step, one step per line."
MATH_SYSTEM_PROMPT = _STEPS + " End with a final line of the form 'The answer is: \\boxed{X}', where X is the final answer."
YES_NO_SYSTEM_PROMPT = (
    "Answer the question step by step, one step per line. "
    "End with a final line of the form 'The answer is Yes' or 'The answer is No'."
)


def choice_system_prompt(letters: str) -> str:
    """The multiple-choice system prompt naming the option letters, e.g. (A, B, C or D)."""
    options = ", ".join(letters[:-1]) + " or " + letters[-1]
    return _STEPS + f" End with a final line of the form 'The answer is X', where X is the letter of the correct option ({options})."


def read_few_shot(path: Path) -> list[dict[str, str]]:
    """Exemplar turns from a JSONL (or JSON array) file of objects with `question` and
    `solution` (the full worked answer, ending in the task's answer line)."""
    turns: list[dict[str, str]] = []
    for row in read_rows(path):
        require(row, "question", "solution")
        for name in ("question", "solution"):
            if not isinstance(row.fields[name], str) or not row.fields[name].strip():
                raise DataError(f"{row.where}: field '{name}' must be a non-empty string")
        turns += [{"role": "user", "content": row.fields["question"]},
                  {"role": "assistant", "content": row.fields["solution"]}]
    return turns


class FewShotTask:
    """A task whose prompts carry exemplar turns between the system prompt and the question.

    The exemplar file's content is part of `source`, so a run directory made with other
    exemplars (or none) is not resumed with these.
    """

    def __init__(self, task: Task, path: Path) -> None:
        self.task = task
        self.turns = read_few_shot(path)
        self.name = task.name
        self.source = f"{task.source} + few-shot {file_identity(path)}"

    def questions(self) -> list[Question]:
        return self.task.questions()

    def messages(self, question: Question) -> list[dict[str, str]]:
        messages = self.task.messages(question)
        split = 1 if messages and messages[0]["role"] == "system" else 0
        return messages[:split] + self.turns + messages[split:]

    def extract_answer(self, response: str) -> str | None:
        return self.task.extract_answer(response)

    def is_correct(self, prediction: str | None, gold: str | None) -> bool:
        return self.task.is_correct(prediction, gold)
