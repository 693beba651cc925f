"""The ``countdown`` task: reach a target from a few numbers with + - *, each number used once.

A problem and one of its solutions::

    Question: Use 2 3 5 7 to make 40.
    7 * 5 = 35 (left 2 3 35)
    35 + 3 = 38 (left 2 38)
    38 + 2 = 40 (left 40)
    The answer is 40.

Each step line combines two of the numbers still available into one and writes out the
numbers left afterwards; the last line states the value reached. The larger operand is
written first, so ``a - b`` is never negative, and no step may produce 0 or more than
``MAX_VALUE``. Spaces around every number let the tokenizer give each number its own token.

Why this shape: an early choice decides whether the target can be reached at all, and only
looking ahead shows a dead end, the regime φ-Decoding was built for (unlike ``arith``, where
every order of the events works). Writing the numbers left after each step makes every line
checkable on its own, and lets a suffix of a solution (one step and its foresight) be checked
from the state its first line starts from.

Problems are made by combining the numbers in a uniformly random order with uniformly random
operations; the target is the result (kept when it lies in ``TARGET_RANGE``). Given the
numbers and the target, the generating path is therefore a uniform draw among the paths that
reach the target, which is the solution shipped with the problem.

Seed convention (each seed is its own independent stream, see :func:`make_problems`):

* ``TRAIN_SEED`` (10): the training data of the embedded countdown model;
* ``HELDOUT_SEED`` (11): the held-out problems its properties are measured on;
* ``TEST_SEED`` (12): unit tests;
* ``BENCHMARK_SEED`` (13): the accuracy-versus-compute benchmark;
* ``UNLABELED_SEED`` (14): Genius's unlabeled self-training queries (answers withheld);
* ``VALIDATION_SEED`` (15): labelled problems for choosing Genius's settings, so that the
  held-out set scores only the settings chosen.

Training draws its problems from ``TRAIN_SEED`` and skips any whose (numbers, target) pair
occurs in the first problems of the other three streams.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from foresight.tasks.streams import seeded_stream

TRAIN_SEED = 10
HELDOUT_SEED = 11
TEST_SEED = 12
BENCHMARK_SEED = 13
UNLABELED_SEED = 14
VALIDATION_SEED = 15

MIN_NUMBERS = 3
MAX_NUMBERS = 5
NUMBER_RANGE = (1, 9)
TARGET_RANGE = (10, 99)
MAX_VALUE = 100
OPERATIONS = ("+", "-", "*")
GENERATION_TRIES = 200

STEP_RE = re.compile(r"^(\d+) ([+\-*]) (\d+) = (\d+) \(left ((?:\d+ )*\d+)\)$")
STEP_PREFIX_LINE = "The reasoning steps are:"  # the line φ opens answers with
ANSWER_RE = re.compile(r"^The answer is (\d+)\.$")


@dataclass(frozen=True)
class CountdownProblem:
    """Numbers to combine, the target, and one valid solution (step lines and answer line)."""

    id: str
    numbers: tuple[int, ...]
    target: int
    solution: str

    @property
    def question(self) -> str:
        return question_text(self.numbers, self.target)


@dataclass(frozen=True)
class Step:
    """One step ``a op b = result`` and the numbers left after it."""

    a: int
    op: str
    b: int
    result: int
    left: tuple[int, ...]

    @property
    def line(self) -> str:
        return f"{self.a} {self.op} {self.b} = {self.result} (left {' '.join(map(str, self.left))})"


def question_text(numbers: tuple[int, ...], target: int) -> str:
    return f"Use {' '.join(map(str, numbers))} to make {target}."


def apply(op: str, a: int, b: int) -> int:
    """``a op b`` for the task's operations."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    return a * b


def legal(op: str, a: int, b: int) -> bool:
    """Whether ``a op b`` is a step the task allows: larger operand first, result in 1..MAX_VALUE."""
    return a >= b and 1 <= apply(op, a, b) <= MAX_VALUE


def make_step(state: tuple[int, ...], i: int, j: int, op: str) -> Step | None:
    """The step combining ``state[i]`` and ``state[j]`` with ``op`` (None when illegal).

    The numbers left keep their order and the result goes last."""
    a, b = max(state[i], state[j]), min(state[i], state[j])
    if not legal(op, a, b):
        return None
    rest = tuple(x for k, x in enumerate(state) if k not in (i, j))
    return Step(a, op, b, apply(op, a, b), rest + (apply(op, a, b),))


def next_steps(state: tuple[int, ...]) -> list[Step]:
    """Every legal step from ``state`` (pairs by position, each operation)."""
    steps = []
    for i in range(len(state)):
        for j in range(i + 1, len(state)):
            for op in OPERATIONS:
                step = make_step(state, i, j, op)
                if step is not None:
                    steps.append(step)
    return steps


@lru_cache(maxsize=1 << 20)
def _solutions_sorted(state: tuple[int, ...], target: int) -> int:
    if len(state) == 1:
        return int(state[0] == target)
    return sum(_solutions_sorted(tuple(sorted(s.left)), target) for s in next_steps(state))


def count_solutions(state: tuple[int, ...], target: int) -> int:
    """Number of step sequences from ``state`` that end at ``target`` (an exact solver)."""
    return _solutions_sorted(tuple(sorted(state)), target)


def reachable(state: tuple[int, ...], target: int) -> bool:
    """Whether ``target`` can still be made from the numbers in ``state``."""
    return count_solutions(state, target) > 0


def random_path(rng: np.random.Generator, numbers: tuple[int, ...]) -> list[Step]:
    """Steps combining ``numbers`` down to one value, each a uniform draw among legal steps.

    A state can have no legal step (say ``60 60``: the sum is too large, the difference 0);
    a path stuck there is drawn again."""
    while True:
        state, path = numbers, []
        while len(state) > 1:
            options = next_steps(state)
            if not options:
                break
            step = options[int(rng.integers(len(options)))]
            path.append(step)
            state = step.left
        if len(state) == 1:
            return path


def solution_text(path: list[Step]) -> str:
    """Step lines, then ``The answer is V.`` with the value reached."""
    return "\n".join([s.line for s in path] + [f"The answer is {path[-1].result}."])


def generate_problem(rng: np.random.Generator, count: int, problem_id: str = "countdown") -> CountdownProblem:
    """A problem of ``count`` numbers whose target lies in ``TARGET_RANGE`` (rejection sampling).

    Numbers that rarely land in range are redrawn with chance 0.05 per try, and always after
    ``GENERATION_TRIES`` tries in a row (numbers such as 1 1 1 can never reach 10); every draw
    that succeeds sooner is the one earlier versions made, so the seeded streams are unchanged."""
    if not MIN_NUMBERS <= count <= MAX_NUMBERS:
        raise ValueError(f"count must be in [{MIN_NUMBERS}, {MAX_NUMBERS}], got {count}")
    numbers = tuple(int(x) for x in rng.integers(NUMBER_RANGE[0], NUMBER_RANGE[1] + 1, size=count))
    tries = 0
    while True:
        path = random_path(rng, numbers)
        if TARGET_RANGE[0] <= path[-1].result <= TARGET_RANGE[1]:
            return CountdownProblem(problem_id, numbers, path[-1].result, solution_text(path))
        tries += 1
        if rng.random() < 0.05 or tries % GENERATION_TRIES == 0:
            numbers = tuple(int(x) for x in rng.integers(NUMBER_RANGE[0], NUMBER_RANGE[1] + 1, size=count))


def make_problems(seed: int, count: int, min_numbers: int = MIN_NUMBERS, max_numbers: int = MAX_NUMBERS) -> list[CountdownProblem]:
    """``count`` problems of the ``seed`` stream, number counts uniform in ``[min_numbers, max_numbers]``
    (see `foresight.tasks.streams`)."""
    return seeded_stream("countdown", seed, count, (min_numbers, max_numbers), generate_problem)


@dataclass(frozen=True)
class Reading:
    """What a solution text shows: where its chain starts, the value it ends at, and the first
    thing wrong with it (None when every line is well formed and right)."""

    start: tuple[int, ...] | None
    value: int | None
    error: str | None


def read_solution(text: str) -> Reading:
    """Read step lines and the answer line, checking each line on its own terms.

    A first line ``The reasoning steps are:`` (φ's step prefix, which the model writes itself
    when the prompt does not end with it) is skipped. Every other non-empty line but the last must be a step line whose arithmetic is right, whose
    operands are among the numbers available (the first line's operands plus the numbers it
    leaves, minus its result, define where the chain starts) and whose ``left`` list is what
    remains; the last line must be ``The answer is V.`` with V the value the steps reached
    (a single number left). Anything else, including lines after the answer, is an error.
    """
    lines = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if lines and lines[0] == STEP_PREFIX_LINE:  # a response generated without φ's prefix in the prompt
        lines = lines[1:]
    if not lines:
        return Reading(None, None, "empty solution")
    answer = ANSWER_RE.match(lines[-1])
    if answer is None:
        return Reading(None, None, f"last line is not 'The answer is N.': {lines[-1]!r}")
    if len(lines) == 1:
        return Reading(None, None, "no step lines")
    start: Counter[int] | None = None
    available: Counter[int] = Counter()
    for line in lines[:-1]:
        match = STEP_RE.match(line)
        if match is None:
            return Reading(None, None, f"malformed line: {line!r}")
        a, op, b, result = int(match[1]), match[2], int(match[3]), int(match[4])
        left = Counter(int(x) for x in match[5].split())
        if not legal(op, a, b) or apply(op, a, b) != result:
            return Reading(None, None, f"wrong arithmetic: {line!r}")
        operands = Counter([a, b])
        if start is None:
            start = left - Counter([result]) + operands
            available = start.copy()
        if operands - available:
            return Reading(None, None, f"uses a number that is not available: {line!r}")
        available = available - operands + Counter([result])
        if left != available:
            return Reading(None, None, f"wrong numbers left: {line!r}")
    if sum(available.values()) != 1:
        return Reading(None, None, "the steps leave more than one number")
    (value,) = available.elements()
    if int(answer[1]) != value:
        return Reading(None, None, f"the answer line says {answer[1]} but the steps reach {value}")
    return Reading(tuple(sorted(start.elements())), value, None)


def check_solution(numbers: tuple[int, ...], target: int, text: str) -> bool:
    """Whether ``text`` solves the problem: well formed, right arithmetic, starting from exactly
    the given numbers (so each is used once), ending at the target."""
    reading = read_solution(text)
    return reading.error is None and reading.start == tuple(sorted(numbers)) and reading.value == target


def format_answer(start: tuple[int, ...], value: int) -> str:
    """The canonical answer string ``"V from a b c"`` (starting numbers sorted)."""
    return f"{value} from {' '.join(map(str, sorted(start)))}"


def parse_answer(answer: str) -> tuple[tuple[int, ...], int] | None:
    """Inverse of :func:`format_answer` (None when ``answer`` is not of that form)."""
    match = re.fullmatch(r"(\d+) from ((?:\d+ )*\d+)", answer.strip())
    if match is None:
        return None
    return tuple(sorted(int(x) for x in match[2].split())), int(match[1])


@lru_cache(maxsize=1 << 16)
def derivable(numbers: tuple[int, ...], state: tuple[int, ...]) -> bool:
    """Whether legal steps from ``numbers`` can lead to ``state`` (both sorted multisets)."""
    if len(state) > len(numbers):
        return False
    if len(state) == len(numbers):
        return numbers == state
    return any(derivable(tuple(sorted(s.left)), state) for s in next_steps(numbers))
