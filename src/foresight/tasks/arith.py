"""The ``arith`` task: order-free multi-step arithmetic word problems.

Each problem starts from an amount and applies a list of additive events to it::

    Question: Mia has 23 apples. Mia finds 45 apples. Mia gives 15 apples to Sam.
    Mia buys 3 bags with 12 apples each. How many apples does Mia have now?

and a solution is one computation per line, ending with a fixed answer line::

    23 + 45 = 68
    68 - 15 = 53
    3 * 12 = 36
    53 + 36 = 89
    The answer is 89.

Events are of three kinds: *add* (``x + a``), *subtract* (``x - a``) and *k bags of m*
(a product line ``k * m = p`` followed by ``x + p``). The difficulty of a problem,
``num_steps``, is the number of computation lines of its solution (2 to 8): one per
event, plus one more per bag event. Every intermediate value is a non-negative integer.

Why this shape: the task exists to give a tiny model something an inference-time search
can improve on. Addition is commutative, so the events may be applied in *any* order
whose running total never drops below zero, and the training solutions use a uniformly
random such order (the ``solution`` of a problem is one of them). A model trained on
this learns a spread of valid paths with different intermediate numbers; its samples
take different paths, so their arithmetic slips are not shared and voting, likelihood
ranking and look-ahead have something to choose between. With a single canonical order
the tiny model's mistakes are confident and every sample repeats them.

Seed convention (each seed is its own independent stream, see :func:`make_problems`):

* ``TRAIN_SEED`` (0): the training data stream of the embedded model;
* ``HELDOUT_SEED`` (1): the 500-problem held-out evaluation of the embedded model;
* ``TEST_SEED`` (2): unit tests;
* ``BENCHMARK_SEED`` (3): the accuracy-versus-compute benchmark;
* ``UNLABELED_SEED`` (4): Genius's unlabeled self-training queries (answers withheld);
* ``VALIDATION_SEED`` (5): labelled problems for choosing Genius's settings, so that the
  held-out set scores only the settings chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from foresight.tasks.streams import seeded_stream

TRAIN_SEED = 0
HELDOUT_SEED = 1
TEST_SEED = 2
BENCHMARK_SEED = 3
UNLABELED_SEED = 4
VALIDATION_SEED = 5

MIN_STEPS = 2
MAX_STEPS = 8

NAMES = ("Mia", "Sam", "Leo", "Ava", "Tom", "Zoe", "Max", "Ella")
ITEMS = ("apples", "marbles", "stickers", "coins", "cards", "books", "shells", "pens")
ADD_TEMPLATES = (
    "{name} finds {n} {item}.",
    "{name} buys {n} more {item}.",
    "{name} gets {n} {item} from {other}.",
)
SUB_TEMPLATES = (
    "{name} gives {n} {item} to {other}.",
    "{name} loses {n} {item}.",
    "{name} sells {n} {item}.",
)
BAG_TEMPLATE = "{name} buys {k} bags with {m} {item} each."

START_RANGE = (10, 60)
ADD_RANGE = (2, 60)
BAG_COUNT_RANGE = (2, 6)
BAG_SIZE_RANGE = (2, 12)
SUBTRACT_PROBABILITY = 0.4
MAX_BAG_EVENTS = 3
ORDER_TRIES = 200


@dataclass(frozen=True)
class ArithProblem:
    """One word problem with one valid worked solution (ending in ``The answer is N.``)."""

    id: str
    question: str
    answer: int
    solution: str
    num_steps: int


@dataclass(frozen=True)
class _Event:
    """An additive event: ``delta`` is added to the running total; bags have ``k * m``."""

    delta: int
    bags: tuple[int, int] | None = None


def _randint(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    """Uniform integer in the inclusive range ``bounds``."""
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _make_events(rng: np.random.Generator, start: int, num_steps: int) -> list[_Event]:
    """Draw events (in narrative order, never going negative) with ``num_steps`` lines."""
    num_bags = int(rng.integers(0, min(MAX_BAG_EVENTS, num_steps // 2) + 1))
    num_events = num_steps - num_bags
    bag_slots = set(rng.choice(num_events, size=num_bags, replace=False).tolist())
    events: list[_Event] = []
    total = start
    for slot in range(num_events):
        if slot in bag_slots:
            k, m = _randint(rng, BAG_COUNT_RANGE), _randint(rng, BAG_SIZE_RANGE)
            event = _Event(k * m, (k, m))
        elif total >= ADD_RANGE[0] and rng.random() < SUBTRACT_PROBABILITY:
            event = _Event(-_randint(rng, (ADD_RANGE[0], min(total, ADD_RANGE[1]))))
        else:
            event = _Event(_randint(rng, ADD_RANGE))
        total += event.delta
        events.append(event)
    return events


def _is_valid_order(start: int, events: list[_Event]) -> bool:
    """True when applying ``events`` in this order keeps the running total non-negative."""
    total = start
    for event in events:
        total += event.delta
        if total < 0:
            return False
    return True


def _random_valid_order(rng: np.random.Generator, start: int, events: list[_Event]) -> list[_Event]:
    """A uniformly random order of ``events`` that never goes negative (rejection sampling).

    The narrative order is valid by construction, so it is the fallback if no random
    permutation passes within ``ORDER_TRIES`` attempts.
    """
    for _ in range(ORDER_TRIES):
        order = [events[i] for i in rng.permutation(len(events))]
        if _is_valid_order(start, order):
            return order
    return list(events)


def _solution_lines(start: int, events: list[_Event]) -> tuple[list[str], int]:
    """Computation lines applying ``events`` to ``start`` in order, and the final total."""
    lines: list[str] = []
    total = start
    for event in events:
        if event.bags is not None:
            k, m = event.bags
            lines.append(f"{k} * {m} = {event.delta}")
        if event.delta >= 0:
            lines.append(f"{total} + {event.delta} = {total + event.delta}")
        else:
            lines.append(f"{total} - {-event.delta} = {total + event.delta}")
        total += event.delta
    return lines, total


def _event_sentence(rng: np.random.Generator, event: _Event, name: str, item: str) -> str:
    """The question sentence describing one event."""
    other = str(rng.choice([n for n in NAMES if n != name]))
    if event.bags is not None:
        k, m = event.bags
        return BAG_TEMPLATE.format(name=name, k=k, m=m, item=item)
    templates = ADD_TEMPLATES if event.delta >= 0 else SUB_TEMPLATES
    template = templates[int(rng.integers(len(templates)))]
    return template.format(name=name, n=abs(event.delta), item=item, other=other)


def generate_problem(rng: np.random.Generator, num_steps: int, problem_id: str = "arith") -> ArithProblem:
    """Generate one problem whose solutions have ``num_steps`` computation lines.

    The returned ``solution`` applies the events in a uniformly random valid order.
    """
    if not MIN_STEPS <= num_steps <= MAX_STEPS:
        raise ValueError(f"num_steps must be in [{MIN_STEPS}, {MAX_STEPS}], got {num_steps}")
    name = str(rng.choice(NAMES))
    item = str(rng.choice(ITEMS))
    start = _randint(rng, START_RANGE)
    events = _make_events(rng, start, num_steps)
    sentences = [f"{name} has {start} {item}."]
    sentences += [_event_sentence(rng, event, name, item) for event in events]
    sentences.append(f"How many {item} does {name} have now?")
    lines, answer = _solution_lines(start, _random_valid_order(rng, start, events))
    lines.append(f"The answer is {answer}.")
    return ArithProblem(
        id=problem_id,
        question=" ".join(sentences),
        answer=answer,
        solution="\n".join(lines),
        num_steps=num_steps,
    )


def make_problems(seed: int, count: int, min_steps: int = MIN_STEPS, max_steps: int = MAX_STEPS) -> list[ArithProblem]:
    """``count`` problems of the ``seed`` stream, steps uniform in ``[min_steps, max_steps]``
    (see `foresight.tasks.streams`)."""
    return seeded_stream("arith", seed, count, (min_steps, max_steps), generate_problem)
