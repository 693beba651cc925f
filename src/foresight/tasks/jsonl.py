"""A user's own questions: a JSONL file with `question` and `answer` fields per line.

An optional `id` field names each question (default: its line number). Answers that parse as
numbers are compared numerically; others as case-insensitive text after "The answer is".
"""

from __future__ import annotations

import re
from pathlib import Path

from foresight.errors import DataError
from foresight.tasks.answers import extract_numeric_answer, numbers_equal, parse_number
from foresight.tasks.base import STEP_BY_STEP_SYSTEM_PROMPT, Question
from foresight.tasks.datafiles import read_rows, require

_ANSWER_PHRASE = re.compile(r"answer is\s*:?\s*(.+)", re.IGNORECASE)


def read_jsonl_questions(path: Path, answers: str = "required") -> list[Question]:
    """Parse `path`; every error names the file and line.

    `answers` is "required" (labeled evaluation data) or "forbidden" (unlabeled queries for
    self-training, where a gold answer in the file would be a mistake worth stopping for).
    """
    questions: list[Question] = []
    seen: set[str] = set()
    for row in read_rows(path):
        require(row, *(("question", "answer") if answers == "required" else ("question",)))
        if answers == "forbidden" and "answer" in row.fields:
            raise DataError(
                f"{row.where}: has an 'answer' field, but these queries must be unlabeled; "
                "remove the answers (Genius trains without labels)"
            )
        if not isinstance(row.fields["question"], str) or not row.fields["question"].strip():
            raise DataError(f"{row.where}: field 'question' must be a non-empty string")
        question_id = str(row.fields.get("id", row.position))
        if question_id in seen:
            raise DataError(f"{row.where}: duplicate id '{question_id}'")
        seen.add(question_id)
        gold = row.fields.get("answer")
        questions.append(Question(question_id, row.fields["question"], None if gold is None else str(gold)))
    return questions


class JsonlTask:
    """Questions from a user's JSONL file, prompted for step-by-step answers."""

    name = "jsonl"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.source = str(path.resolve())
        self._questions = read_jsonl_questions(path)

    def questions(self) -> list[Question]:
        return list(self._questions)

    def messages(self, question: Question) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": STEP_BY_STEP_SYSTEM_PROMPT},
            {"role": "user", "content": question.text},
        ]

    def extract_answer(self, response: str) -> str | None:
        number = extract_numeric_answer(response)
        if number is not None:
            return number
        phrases = _ANSWER_PHRASE.findall(response)
        return phrases[-1].strip().rstrip(".").strip() if phrases else None

    def is_correct(self, prediction: str | None, gold: str | None) -> bool:
        if prediction is None or gold is None:
            return False
        if parse_number(gold) is not None and re.fullmatch(r"[\s$\u2212+\-\d,./]+", gold):
            return numbers_equal(parse_number(prediction), parse_number(gold))
        return prediction.strip().rstrip(".").casefold() == gold.strip().rstrip(".").casefold()
