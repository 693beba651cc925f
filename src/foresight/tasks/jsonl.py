"""A user's own questions: a JSONL file with `question` and `answer` fields per line.

An optional `id` field names each question (default: its line number). How answers are read
and scored is one answer format for the whole file, the same readers the benchmarks use:

- `math`: numbers and LaTeX read by math-verify (`\\dfrac{2}{4}` is 1/2, not 2),
- `choice`: an option letter (A-D, or A-E when some gold is E),
- `yesno`: Yes or No,
- `text`: the rest of the last "answer is" line, compared without case.

Without `--answer-format` it is inferred from the golds (all Yes/No, all letters, all math,
else all text); a file whose golds are of several kinds is refused rather than scored by a
guess. The file's content and the format are part of the task's `source`, so a run directory
is never resumed on a changed file.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from foresight.errors import DataError
from foresight.tasks.base import STEP_BY_STEP_SYSTEM_PROMPT, Question
from foresight.tasks.benchmarks import MATH, YES_NO, AnswerFormat, AnswerFormatTask, choice_format
from foresight.tasks.datafiles import Row, file_identity, read_rows, require, require_answer
from foresight.tasks.math_answers import parse_math_gold

_ANSWER_PHRASE = re.compile(r"answer is\s*:?\s*(.+)", re.IGNORECASE)
_LETTER = re.compile(r"[A-E]")
_MATH_SIGN = re.compile(r"[\d\\]")
_WORD = re.compile(r"[A-Za-z]{3,}")


def extract_text_answer(response: str) -> str | None:
    """The rest of the response's last "answer is" line, without its closing full stop."""
    phrases = _ANSWER_PHRASE.findall(response)
    answer = phrases[-1].strip().rstrip(".").strip() if phrases else ""
    return answer or None


def same_text(prediction: str | None, gold: str | None) -> bool:
    return prediction is not None and gold is not None and prediction.casefold() == gold.strip().rstrip(".").casefold()


def is_math_gold(gold: str) -> bool:
    """Whether math-verify reads `gold` as math and it holds no word (math-verify would read
    "Paris" as the product of five symbols)."""
    return not _WORD.search(re.sub(r"\\[A-Za-z]+", "", gold)) and bool(parse_math_gold(gold))


TEXT = AnswerFormat("a non-empty text", STEP_BY_STEP_SYSTEM_PROMPT, extract_text_answer, same_text, lambda gold: bool(gold.strip()))
MATH_GOLD = dataclasses.replace(MATH, kind="a math answer (a number, LaTeX or an expression, no words)", valid_gold=is_math_gold)


def gold_kind(gold: str) -> str:
    """Which answer format a gold answer looks like it belongs to (math needs a digit or LaTeX)."""
    if gold.strip().casefold() in ("yes", "no"):
        return "yesno"
    if _LETTER.fullmatch(gold.strip()):
        return "choice"
    if _MATH_SIGN.search(gold) and is_math_gold(gold):
        return "math"
    return "text"


def answer_format(name: str, golds: list[str]) -> AnswerFormat:
    """The answer format `name`; for choices, with the letters the golds reach (A-D or A-E)."""
    if name == "choice":
        return choice_format("ABCDE" if any(gold.strip().upper() == "E" for gold in golds) else "ABCD")
    return {"math": MATH_GOLD, "yesno": YES_NO, "text": TEXT}[name]


def infer_answer_format(path: Path, rows: list[tuple[Row, str]]) -> str:
    """The one format all golds of a file share; a DataError naming a row of each kind if they mix."""
    first_of: dict[str, Row] = {}
    for row, gold in rows:
        first_of.setdefault(gold_kind(gold), row)
    if len(first_of) > 1:
        examples = ", ".join(f"{kind} at {row.where}" for kind, row in first_of.items())
        raise DataError(f"{path}: the gold answers are of several kinds ({examples}); "
                        "say how to score them with --answer-format math|choice|yesno|text")
    return next(iter(first_of))


def normal_gold(name: str, gold: str) -> str:
    """A gold as its format compares it: letters upper case, Yes/No capitalised."""
    gold = gold.strip()
    return gold.upper() if name == "choice" else gold.capitalize() if name == "yesno" else gold


def read_jsonl_questions(path: Path, answers: str = "required", answer_format_name: str | None = None) -> tuple[list[Question], str | None]:
    """Parse `path`; every error names the file and line. Returns the questions and the answer
    format's name (given, or inferred from the golds; None for unlabeled queries).

    `answers` is "required" (labeled evaluation data: a missing, null or empty answer is an
    error) or "forbidden" (unlabeled queries for self-training, where a gold answer in the file
    would be a mistake worth stopping for; a null or empty one says there is none).
    """
    questions: list[Question] = []
    golds: list[tuple[Row, str]] = []
    seen: set[str] = set()
    for row in read_rows(path):
        require(row, "question")
        if answers == "required":
            golds.append((row, require_answer(row, "answer")))
        elif row.fields.get("answer") not in (None, ""):
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
        questions.append(Question(question_id, row.fields["question"], None))
    if answers != "required":
        return questions, None
    name = answer_format_name or infer_answer_format(path, golds)
    scoring = answer_format(name, [gold for _, gold in golds])
    labeled = []
    for question, (row, gold) in zip(questions, golds):
        gold = normal_gold(name, gold)
        if not scoring.valid_gold(gold):
            raise DataError(f"{row.where}: gold answer {gold!r} is not {scoring.kind} (--answer-format {name})")
        labeled.append(dataclasses.replace(question, gold=gold))
    return labeled, name


class JsonlTask(AnswerFormatTask):
    """Questions from a user's JSONL file, prompted and scored in one answer format."""

    name = "jsonl"

    def __init__(self, path: Path, answer_format_name: str | None = None) -> None:
        self.path = path
        self._questions, self.answer_format_name = read_jsonl_questions(path, answer_format_name=answer_format_name)
        self.answer_format_inferred = answer_format_name is None
        self.answer_format = answer_format(self.answer_format_name, [q.gold for q in self._questions])
        self.source = f"{file_identity(path)}, answers as {self.answer_format_name}"
