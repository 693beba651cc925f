"""Answer extraction and scoring on tricky responses: math (math-verify), letters, Yes/No."""

import pytest

from foresight.tasks import load_task
from foresight.tasks.choice_answers import extract_choice, extract_yes_no
from foresight.tasks.math_answers import extract_math_answer, math_answers_equal


@pytest.mark.parametrize(
    ("response", "gold"),
    [
        ("So x = 2.\nThe answer is: \\boxed{\\frac{\\sqrt{2}}{2}}", "\\frac{\\sqrt2}{2}"),  # nested braces
        ("The answer is: \\boxed{\\frac{3}{4}}", "0.75"),
        ("The answer is: \\boxed{\\dfrac{3}{4}}", "\\frac{3}{4}"),
        ("The answer is: \\boxed{-12}", "-12"),
        ("The answer is \u221212 degrees.", "-12"),  # unicode minus, unit
        ("The answer is: \\boxed{1,234,567}", "1234567"),  # thousands separators
        ("The answer is: 1,234 dollars.", "1234"),
        ("The answer is: \\boxed{18 \\text{ dollars}}", "18.0"),  # unit inside the box; GSM8K's float gold
        ("The answer is $18.00.", "18"),
        ("The answer is: \\boxed{5 \\text{ m}}", "5"),
        ("We try \\boxed{3} first, but that fails.\nThe answer is: \\boxed{7}", "7"),  # the last box counts
        ("The answer is 5.\nChecking again, the answer is 9.", "9"),  # the last phrase counts
        ("The answer is: \\boxed{x^{2}+7x+10}", "x^2+7x+10"),
        ("The answer is: \\boxed{(3, \\frac{\\pi}{2})}", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("The answer is: \\boxed{\\{7\\}}", "7"),
    ],
)
def test_math_answers_that_match(response, gold):
    prediction = extract_math_answer(response)
    assert prediction is not None
    assert math_answers_equal(prediction, gold)


@pytest.mark.parametrize(
    ("response", "gold"),
    [
        ("We try \\boxed{7} first.\nThe answer is: \\boxed{3}", "7"),  # an earlier box does not count
        ("The answer is: \\boxed{-12}", "12"),  # the sign matters
        ("The answer is: \\boxed{\\frac{3}{4}}", "\\frac{4}{3}"),
        ("The answer is: \\boxed{1,235}", "1234"),
    ],
)
def test_math_answers_that_do_not_match(response, gold):
    assert not math_answers_equal(extract_math_answer(response), gold)


@pytest.mark.parametrize("response", ["I am not sure.", "The answer is:", "The answer is unknown",
                                      "The answer is: \\boxed{\\frac{1}{2}", ""])
def test_no_math_answer_is_none_and_wrong(response):
    assert extract_math_answer(response) is None
    assert not math_answers_equal(None, "1")


def test_votes_on_equal_numbers_agree():
    answers = {extract_math_answer(r) for r in ("The answer is: \\boxed{18}", "The answer is 18.00",
                                                 "The answer is: \\boxed{{18}}", "The answer is $18")}
    assert answers == {"18"}
    assert extract_math_answer("The answer is: \\boxed{\\dfrac{6}{8}}") == "3/4"


@pytest.mark.benchmark_data
def test_scibench_counts_answers_within_five_percent():
    scibench = load_task("scibench")
    gold = "\u22121.642876"  # a real SciBench target: unicode minus
    assert scibench.is_correct(scibench.extract_answer("The answer is: \\boxed{-1.64}"), gold)
    assert not scibench.is_correct(scibench.extract_answer("The answer is: \\boxed{-1.80}"), gold)
    assert not scibench.is_correct(scibench.extract_answer("The answer is: \\boxed{1.64}"), gold)
    assert scibench.is_correct(scibench.extract_answer("The answer is: \\boxed{89034}"), "89,034.79")
    assert scibench.is_correct(scibench.extract_answer("The answer is 65.5 kJ/mol"), "+65.49")
    gsm8k = load_task("gsm8k")  # math tasks other than SciBench compare exactly
    assert not gsm8k.is_correct(gsm8k.extract_answer("The answer is: \\boxed{17.5}"), "18")


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Step 1...\nThe answer is C", "C"),
        ("The answer is (C).", "C"),
        ("(C)", "C"),
        ("Looking at the options...\n(B)", "B"),
        ("(C) Planetary days will become shorter.", "C"),  # one option restated as the answer
        ("(A) is wrong.\n(C) Planetary days will become shorter.", None),  # a list of options
        ("The options are:\n(A) x\n(B) y\n(C) z", None),
        ("answer: c", "C"),
        ("Answer: (b) library", "B"),
        ("The correct answer is d.", "D"),
        ("The answer is: $\\boxed{A}$", "A"),
        ("The answer is: \\boxed{\\text{(D)}}", "D"),
        ("The answer is **B**", "B"),
        ("(A) is tempting, (B) too.\nThe answer is (D).\nThis answer is consistent with the text.", "D"),
        ("The answer is A. On reflection, the answer is C.", "C"),  # the last one counts
        ("The answer is a bank.", None),  # an article, not an option
        ("The answer is E", None),  # outside A-D
        ("I cannot decide between the options.", None),
    ],
)
def test_choice_letters(response, expected):
    assert extract_choice(response, "ABCD") == expected


def test_five_option_tasks_accept_e():
    assert extract_choice("The answer is (E)", "ABCDE") == "E"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Frost is common in May in the north.\nThe answer is Yes", "Yes"),
        ("The answer is: no.", "No"),
        ("answer: YES", "Yes"),
        ("The answer is \\boxed{No}", "No"),
        ("The answer is no. Rethinking it, the answer is yes.", "Yes"),
        ("The answer is not obvious.", None),
        ("Maybe.", None),
    ],
)
def test_yes_no(response, expected):
    assert extract_yes_no(response) == expected
