"""Numeric answer extraction on the formats models actually produce."""

import pytest

from foresight.tasks.answers import extract_numeric_answer, last_boxed, numbers_equal, parse_number


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("23 + 45 = 68\nThe answer is 68.", "68"),
        ("The answer is -12.", "-12"),
        ("The answer is \u221212", "-12"),
        ("so the answer is: 1,234,567 dollars", "1234567"),
        ("The answer is $3.50.", "3.5"),
        ("The answer is 2.0", "2"),
        ("The answer is 3/4", "0.75"),
        ("We get \\boxed{\\frac{1}{2}}", "0.5"),
        ("The answer is: \\boxed{42}", "42"),
        ("first \\boxed{1} then \\boxed{{7}}", "7"),
        ("The answer is 5.\nLater: the answer is 9.", "9"),
        ("I am not sure.", None),
        ("The answer is unknown", None),
    ],
)
def test_extract_numeric_answer(response, expected):
    assert extract_numeric_answer(response) == expected


def test_last_boxed_balances_nested_braces():
    assert last_boxed("x \\boxed{\\frac{a}{b}} y") == "\\frac{a}{b}"
    assert last_boxed("\\boxed{unclosed") is None


def test_numbers_compare_by_value():
    assert numbers_equal("18", "18.0")
    assert numbers_equal(parse_number("1,000"), "1000")
    assert not numbers_equal("17", "18")
    assert not numbers_equal(None, "18")
