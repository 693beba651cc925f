"""The synthetic arith task: determinism, valid solutions, disjoint seeds."""

import re

import numpy as np
import pytest

from foresight.tasks.arith import HELDOUT_SEED, TEST_SEED, TRAIN_SEED, generate_problem, make_problems
from foresight.tasks.arith_task import ArithTask


def replay(solution: str) -> int:
    """Check each line's arithmetic and chaining; return the stated answer."""
    *lines, last = solution.split("\n")
    for line in lines:
        a, op, b, _, result = line.split()
        assert int(result) == (int(a) * int(b) if op == "*" else int(a) + int(b) if op == "+" else int(a) - int(b))
        assert int(result) >= 0
    match = re.fullmatch(r"The answer is (\d+)\.", last)
    assert match, last
    return int(match.group(1))


def test_problems_are_deterministic_and_extend():
    first = make_problems(TEST_SEED, 5)
    assert first == make_problems(TEST_SEED, 5)
    assert make_problems(TEST_SEED, 8)[:5] == first
    assert make_problems(TRAIN_SEED, 5) != first


@pytest.mark.parametrize("steps", range(2, 9))
def test_solutions_are_valid_and_have_the_asked_number_of_lines(steps):
    for index in range(20):
        problem = generate_problem(np.random.default_rng([TEST_SEED, steps, index]), steps)
        assert problem.num_steps == steps
        assert len(problem.solution.split("\n")) == steps + 1
        assert replay(problem.solution) == problem.answer


def test_solutions_apply_events_in_varied_orders():
    """Training solutions are not in narrative order: the property that lets samples diverge."""
    reordered = total = 0
    for problem in make_problems(TEST_SEED, 300, 6, 6):
        if "bags" in problem.question:
            continue
        narrative = [int(n) for n in re.findall(r"\d+", problem.question.split(".", 1)[1])]
        applied = [int(line.split()[2]) for line in problem.solution.split("\n")[:-1]]
        assert sorted(narrative) == sorted(applied)
        total += 1
        reordered += narrative != applied
    assert total > 30 and reordered / total > 0.5


def test_heldout_task_and_scoring():
    task = ArithTask(seed=HELDOUT_SEED, size=10)
    questions = task.questions()
    assert len(questions) == 10 and all(4 <= q.meta["num_steps"] <= 8 for q in questions)
    gold = questions[0].gold
    assert task.is_correct(task.extract_answer(f"1 + 2 = 3\nThe answer is {gold}."), gold)
    assert not task.is_correct(task.extract_answer("The answer is -1."), gold)
    assert task.messages(questions[0])[-1] == {"role": "user", "content": questions[0].text}
