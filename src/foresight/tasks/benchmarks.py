"""The φ paper's benchmarks as tasks: one reader per file format, one answer format per family.

Files are the shared test splits (see `datafiles`); fields per file:

| task | file | question | gold |
|---|---|---|---|
| gsm8k | gsm_test.json | `input` | `target`, a number |
| aime | aime2024_test.json | `input` | `target`, an integer |
| scibench | scibench_test.json | `input` | `target`, a number as text (unicode minus, commas, "+") |
| math500 | only `--data FILE.jsonl` | `problem` | `answer`, LaTeX |
| arc | arc-c_test.json | `input`, options "(A) ..." inside | `target` letter; 1-4 on 22 items |
| gpqa | gpqa_main_test.json | `input`, options inside | `target` letter |
| csqa | csqa_test.json | `input`, "Answer Choices: (A) ... (E)" inside | `target` letter |
| logiqa, reclor | logiqa_test.json, reclor_val.json | `context` + `question`, options `answers` | `label` 0-3 |
| strategyqa | strategyqa_test.json | `input` | `target` {"Yes": 1, "No": 0} |

ARC items labelled 1-4 get their options relabelled (A)-(D) in the question and their gold
mapped to the letter, so every ARC question is answered with a letter. Every gold is checked
when the file is read (a DataError names the row), so a run never meets a gold it cannot score.
Question ids are `<task>-<index in file>`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from foresight.errors import DataError
from foresight.tasks.base import Question
from foresight.tasks.choice_answers import extract_choice, extract_yes_no, same_choice
from foresight.tasks.datafiles import Row, benchmark_file, file_identity, read_rows, require, require_answer
from foresight.tasks.math_answers import SCIBENCH_REL_TOL, as_float, extract_math_answer, math_answers_equal, parse_math_gold
from foresight.tasks.prompts import MATH_SYSTEM_PROMPT, YES_NO_SYSTEM_PROMPT, choice_system_prompt


@dataclass(frozen=True)
class AnswerFormat:
    """How a family of tasks asks for its answer and scores it."""

    kind: str  # what a gold answer is, for error messages
    system_prompt: str
    extract: Callable[[str], "str | None"]
    equal: Callable[["str | None", "str | None"], bool]
    valid_gold: Callable[[str], bool]


class AnswerFormatTask:
    """A task of fixed questions asked and scored in one answer format (a benchmark's file, a
    user's JSONL): subclasses fill `_questions` and `answer_format`."""

    _questions: list[Question]
    answer_format: AnswerFormat

    def questions(self) -> list[Question]:
        return list(self._questions)

    def messages(self, question: Question) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": self.answer_format.system_prompt},
            {"role": "user", "content": question.text},
        ]

    def extract_answer(self, response: str) -> str | None:
        return self.answer_format.extract(response)

    def is_correct(self, prediction: str | None, gold: str | None) -> bool:
        return self.answer_format.equal(prediction, gold)


def choice_format(letters: str) -> AnswerFormat:
    return AnswerFormat(f"an option letter ({letters[0]}-{letters[-1]})", choice_system_prompt(letters),
                        lambda response: extract_choice(response, letters), same_choice,
                        lambda gold: len(gold) == 1 and gold in letters)


_NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]?\d+)?")
MATH = AnswerFormat("a math answer math-verify can read", MATH_SYSTEM_PROMPT, extract_math_answer,
                    math_answers_equal, lambda gold: bool(parse_math_gold(gold)))
#: Typed numeric golds (GSM8K, AIME) need no parse to be checked: reading them is cheap.
NUMBER = dataclasses.replace(MATH, kind="a number", valid_gold=lambda gold: _NUMBER.fullmatch(gold) is not None)
SCIBENCH = AnswerFormat("a number", MATH_SYSTEM_PROMPT, extract_math_answer,
                        lambda p, g: math_answers_equal(p, g, rel_tol=SCIBENCH_REL_TOL),
                        lambda gold: as_float(parse_math_gold(gold)) is not None)
YES_NO = AnswerFormat("Yes or No", YES_NO_SYSTEM_PROMPT, extract_yes_no, same_choice, lambda gold: gold in ("Yes", "No"))

#: A reader turns one row into (question text, gold answer as text, extra fields to keep).
Reader = Callable[[Row], "tuple[str, str, dict[str, Any]]"]


def _text(row: Row, name: str) -> str:
    require(row, name)
    value = row.fields[name]
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{row.where}: field '{name}' must be a non-empty string")
    return value


def _number_target(row: Row) -> tuple[str, str, dict[str, Any]]:
    require_answer(row, "target")
    target = row.fields["target"]
    if isinstance(target, bool) or not isinstance(target, (int, float)):
        raise DataError(f"{row.where}: field 'target' must be a number, got {target!r}")
    gold = str(int(target)) if float(target).is_integer() else repr(float(target))
    return _text(row, "input"), gold, {}


def _text_target(row: Row) -> tuple[str, str, dict[str, Any]]:
    return _text(row, "input"), require_answer(row, "target"), {}


def _math500(row: Row) -> tuple[str, str, dict[str, Any]]:
    gold = require_answer(row, "answer")
    keep = {k: row.fields[k] for k in ("unique_id", "subject", "level") if k in row.fields}
    return _text(row, "problem"), gold, keep


_NUMBERED_OPTION = re.compile(r"^\(([1-5])\)", re.MULTILINE)


def _arc(row: Row) -> tuple[str, str, dict[str, Any]]:
    text, gold, _ = _text_target(row)
    if not gold.isdigit():
        return text, gold, {}
    if not _NUMBERED_OPTION.search(text):
        raise DataError(f"{row.where}: gold '{gold}' is a number but the options are not labelled (1), (2), ...")
    relabelled = _NUMBERED_OPTION.sub(lambda m: f"({'ABCDE'[int(m.group(1)) - 1]})", text)
    letter = "ABCDE"[int(gold) - 1] if gold in ("1", "2", "3", "4", "5") else gold
    return relabelled, letter, {"original_target": gold}


def _context_question_answers(row: Row) -> tuple[str, str, dict[str, Any]]:
    require(row, "answers", "label")
    answers, label = row.fields["answers"], row.fields["label"]
    if not isinstance(answers, list) or not 2 <= len(answers) <= 5 or not all(isinstance(a, str) for a in answers):
        raise DataError(f"{row.where}: field 'answers' must be a list of 2 to 5 strings")
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(answers):
        raise DataError(f"{row.where}: field 'label' must be an option index 0-{len(answers) - 1}, got {label!r}")
    options = "\n".join(f"({'ABCDE'[i]}) {answer}" for i, answer in enumerate(answers))
    text = f"{_text(row, 'context')}\n\nQuestion: {_text(row, 'question')}\n{options}"
    return text, "ABCDE"[label], {}


def _strategyqa(row: Row) -> tuple[str, str, dict[str, Any]]:
    require(row, "target")
    target = row.fields["target"]
    if not isinstance(target, dict) or sorted(target.items()) not in ([("No", 0), ("Yes", 1)], [("No", 1), ("Yes", 0)]):
        raise DataError(f"{row.where}: field 'target' must be {{\"Yes\": 1, \"No\": 0}} or the reverse, got {target!r}")
    return _text(row, "input"), "Yes" if target["Yes"] == 1 else "No", {}


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: where its file is, how to read a row, how answers are asked for and scored."""

    name: str
    file_name: str | None  # in the shared data folder; None: only from --data
    read: Reader
    answer_format: AnswerFormat


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark("gsm8k", "gsm_test.json", _number_target, NUMBER),
        Benchmark("math500", None, _math500, MATH),
        Benchmark("aime", "aime2024_test.json", _number_target, NUMBER),
        Benchmark("scibench", "scibench_test.json", _text_target, SCIBENCH),
        Benchmark("gpqa", "gpqa_main_test.json", _text_target, choice_format("ABCD")),
        Benchmark("arc", "arc-c_test.json", _arc, choice_format("ABCDE")),
        Benchmark("csqa", "csqa_test.json", _text_target, choice_format("ABCDE")),
        Benchmark("logiqa", "logiqa_test.json", _context_question_answers, choice_format("ABCD")),
        Benchmark("reclor", "reclor_val.json", _context_question_answers, choice_format("ABCD")),
        Benchmark("strategyqa", "strategyqa_test.json", _strategyqa, YES_NO),
    )
}


class BenchmarkTask(AnswerFormatTask):
    """A benchmark's questions from its shared file, or from `path` in the same format."""

    def __init__(self, benchmark: Benchmark, path: Path | None = None) -> None:
        if path is None:
            if benchmark.file_name is None:
                raise DataError(f"task '{benchmark.name}' is not shipped; give its file with --data FILE.jsonl")
            path = benchmark_file(benchmark.file_name, benchmark.name)
        self.name = benchmark.name
        self.answer_format = benchmark.answer_format
        self.source = file_identity(path)
        self._questions = []
        for index, row in enumerate(read_rows(path)):
            text, gold, meta = benchmark.read(row)
            if not self.answer_format.valid_gold(gold):
                raise DataError(f"{row.where}: gold answer {gold!r} is not {self.answer_format.kind}")
            self._questions.append(Question(f"{self.name}-{index}", text, gold, meta))
