"""Numeric answers as the embedded model and users write them, through the one math reader."""

import pytest

from foresight.tasks.answers import last_boxed
from foresight.tasks.arith_task import ArithTask
from foresight.tasks.math_answers import extract_math_answer, math_answers_equal


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("23 + 45 = 68\nThe answer is 68.", "68"),
        ("The answer is -12.", "-12"),
        ("The answer is \u221212", "-12"),
        ("so the answer is: 1,234,567 dollars", "1234567"),
        ("The answer is $3.50.", "3.5"),
        ("The answer is 2.0", "2"),
        ("The answer is 3/4", "3/4"),
        ("We get \\boxed{\\frac{1}{2}}", "1/2"),
        ("The answer is: \\boxed{42}", "42"),
        ("first \\boxed{1} then \\boxed{{7}}", "7"),
        ("The answer is 5.\nLater: the answer is 9.", "9"),
        ("The answer is \\dfrac{2}{4}.", "1/2"),  # an unboxed LaTeX answer is read whole
        ("I am not sure.", None),
        ("The answer is unknown", None),
    ],
)
def test_numeric_answers_are_read_by_value(response, expected):
    assert extract_math_answer(response) == expected


@pytest.mark.parametrize("response", ["The answer is \\dfrac{2}{4}", "The answer is 2\\sqrt{3}.", "The answer is x^{2}+1",
                                      "The answer is: \\boxed{2^{3}}"])
def test_latex_that_opens_with_the_gold_number_is_not_that_number(response):
    """The old numeric reader took the first number it found: each of these scored right against 2."""
    assert not math_answers_equal(extract_math_answer(response), "2")


def test_the_arith_task_scores_by_value():
    task = ArithTask(size=1)
    assert task.is_correct(task.extract_answer("7 + 11 = 18\nThe answer is 18."), "18")
    assert task.is_correct(task.extract_answer("The answer is 18.0"), "18")
    assert not task.is_correct(task.extract_answer("The answer is 17."), "18")
    assert not task.is_correct(None, "18")


def test_last_boxed_balances_nested_braces():
    assert last_boxed("x \\boxed{\\frac{a}{b}} y") == "\\frac{a}{b}"
    assert last_boxed("\\boxed{unclosed") is None
