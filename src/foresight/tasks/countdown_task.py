"""The `countdown` task as a `Task`: generated problems or a user's file, scored by a checker.

What an answer is here. Nearly every sample of a model trained on solutions claims the target,
so the answer string cannot be the final number alone. `extract_answer` reads the whole
solution (`foresight.tasks.countdown.read_solution`) and returns `"V from a b c d"`: the value
the steps reach and the numbers the chain starts from, or None when any line is malformed,
has wrong arithmetic or uses a number it does not have. The gold answer is `"target from the
given numbers"`, so a response is right exactly when the checker accepts it.

What a vote means (self-consistency): samples with a broken line abstain; every other sample
votes for the value its arithmetically right chain reaches. A bent sum that "lands" on the
target therefore never counts, and an honest dead end votes for the number it really reached.
"""

from __future__ import annotations

from pathlib import Path

from foresight.errors import DataError
from foresight.tasks.base import Question
from foresight.tasks.countdown import (
    HELDOUT_SEED,
    MAX_NUMBERS,
    MIN_NUMBERS,
    derivable,
    format_answer,
    make_problems,
    parse_answer,
    question_text,
    read_solution,
)
from foresight.tasks.datafiles import Row, read_rows, require

COUNTDOWN_HELDOUT_SIZE = 300
COUNTDOWN_SYSTEM_PROMPT = (
    "Combine the given numbers with + - * to make the target, using each number exactly once. "
    "Write one step per line as 'a + b = c (left x y c)', larger number first, listing the numbers "
    "left after the step, and end with a final line of the form 'The answer is N.'"
)


class CountdownTask:
    """By default the 300 held-out problems of 3 to 5 numbers (seed HELDOUT_SEED, never trained
    on); benchmarks pick other seeds; `data` reads problems from a file instead."""

    name = "countdown"

    def __init__(self, seed: int = HELDOUT_SEED, size: int = COUNTDOWN_HELDOUT_SIZE,
                 numbers: tuple[int, int] = (MIN_NUMBERS, MAX_NUMBERS), data: Path | None = None) -> None:
        if data is not None:
            self._questions = [_question_from_row(row) for row in read_rows(data, "countdown problems")]
            self.source = f"countdown file {data.resolve()}"
            return
        self._questions = [
            Question(p.id, p.question, format_answer(p.numbers, p.target), {"numbers": len(p.numbers)})
            for p in make_problems(seed, size, *numbers)
        ]
        self.source = f"countdown(seed={seed}, size={size}, numbers={numbers[0]}-{numbers[1]})"

    def questions(self) -> list[Question]:
        return list(self._questions)

    def messages(self, question: Question) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": COUNTDOWN_SYSTEM_PROMPT},
            {"role": "user", "content": question.text},
        ]

    def extract_answer(self, response: str) -> str | None:
        reading = read_solution(response)
        if reading.error is not None:
            return None
        return format_answer(reading.start, reading.value)

    def is_correct(self, prediction: str | None, gold: str | None) -> bool:
        if prediction is None or gold is None:
            return False
        return parse_answer(prediction) == parse_answer(gold) is not None

    def path_reaches_gold(self, prediction: str | None, gold: str | None) -> bool:
        """For step values, where the text read is one step and its foresight (the steps before
        it are not in the text): the path reaches the target from a state the given numbers lead to."""
        if prediction is None or gold is None:
            return False
        read, wanted = parse_answer(prediction), parse_answer(gold)
        if read is None or wanted is None:
            return False
        return read[1] == wanted[1] and derivable(wanted[0], read[0])


def _question_from_row(row: Row) -> Question:
    """A problem from a data row: `numbers` (3 to 5 positive integers), `target`, optional `id`."""
    require(row, "numbers", "target")
    numbers, target = row.fields["numbers"], row.fields["target"]
    if (not isinstance(numbers, list) or not MIN_NUMBERS <= len(numbers) <= MAX_NUMBERS
            or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in numbers)):
        raise DataError(f"{row.where}: 'numbers' must be a list of {MIN_NUMBERS} to {MAX_NUMBERS} positive integers")
    if not isinstance(target, int) or isinstance(target, bool) or target < 1:
        raise DataError(f"{row.where}: 'target' must be a positive integer")
    numbers_tuple = tuple(numbers)
    question_id = str(row.fields.get("id", f"countdown-{row.position}"))
    return Question(question_id, question_text(numbers_tuple, target), format_answer(numbers_tuple, target),
                    {"numbers": len(numbers_tuple)})
