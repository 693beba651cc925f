"""Self-evaluation prompts on countdown states, with labels from the exact solver.

Guided decoding and Tree-of-Thoughts (the φ paper's released baselines, see
shared/notes/released-baselines.md) ask the model itself to judge partial solutions:

* a step check: the user text ends with the GSM-style block ``# Is the above step of
  reasoning: / # (A) Correct / # (B) Incorrect / # The above step of reasoning is: `` and the
  answer is ``(A) Correct`` or ``(B) Incorrect``. Here a step is Correct when its line is well
  formed with right arithmetic on numbers that are available, *and* the target can still be
  made from the numbers it leaves (decided by :func:`foresight.tasks.countdown.reachable`);
* a vote: the ToT prompt listing numbered partial solutions; the answer is ``The best choice
  is s`` for the choice whose remaining numbers admit the most solutions (ties: lowest id; a
  malformed or unreachable choice is never best unless all are).

Step checks are drawn half Correct, half Incorrect, so that the commonest answer is not a free
score. Votes are drawn from random states, where the target is mostly out of reach and the tie
rule makes choice 1 the answer 72% of the time (see the model's TRAINING.md).

The embedded countdown model is trained on these exact texts (the user turns below, answered
by the label), so the baselines can read its verdict from the first answer tokens.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from foresight.tasks.countdown import (
    STEP_RE,
    Step,
    apply,
    count_solutions,
    next_steps,
    question_text,
    random_path,
    reachable,
)


# φ's step prefix (foresight.strategies.phi.STEP_PREFIX, not imported: it pulls in scikit-learn);
# ToT's choices open with it too.
STEP_PREFIX = "The reasoning steps are:\n\n"
CORRECT, INCORRECT = "(A) Correct", "(B) Incorrect"
VOTE_INSTRUCTION = (
    "Given an problem and several choices of partial solution, decide which choice is most promising. "
    "Analyze each choice in detail, then conclude in the last line \"The best choice is {s}\", "
    "where s the integer id of the choice."
)
MAX_VOTE_CHOICES = 9  # ToT's parser reads the last digit, so ids stay single-digit


def _verdict_block(verdict: str | None) -> str:
    """The GD block after a step: closed with a past verdict, or left open for the query."""
    if verdict is None:
        return "# Is the above step of reasoning: \n# (A) Correct \n# (B) Incorrect \n# The above step of reasoning is: "
    return f"# Is the above step of reasoning:\n# (A) Correct\n# (B) Incorrect\n# The above step of reasoning is: {verdict[:3]}"


def step_check_prompt(question: str, past: list[tuple[str, str]], step: str) -> str:
    """The guided-decoding user text: past steps with their verdicts, then the step to judge."""
    blocks = [f"{line}\n{_verdict_block(verdict)}" for line, verdict in past]
    blocks.append(f"{step}\n{_verdict_block(None)}")
    return f"Evaluate this problem following previous examples:\nQ:{question}\n\nA:\n" + "\n".join(blocks)


def vote_prompt(question: str, choices: list[str]) -> str:
    """The ToT user text listing `choices` (each the prefix and the newest step) by 1-based id."""
    listed = "".join(f"Choice {i}:\n{choice}\n" for i, choice in enumerate(choices, start=1))
    return f"{VOTE_INSTRUCTION}\nProblem:\n{question}\n{listed}"


def step_label(state: tuple[int, ...], target: int, line: str) -> str:
    """The solver's verdict on `line` as the next step from `state`."""
    match = STEP_RE.match(line.strip())
    if match is None:
        return INCORRECT
    a, op, b, result = int(match[1]), match[2], int(match[3]), int(match[4])
    left = tuple(int(x) for x in match[5].split())
    available = Counter(state)
    if a < b or apply(op, a, b) != result or Counter([a, b]) - available:
        return INCORRECT
    if Counter(left) != available - Counter([a, b]) + Counter([result]):
        return INCORRECT
    return CORRECT if count_solutions(left, target) > 0 else INCORRECT


@dataclass(frozen=True)
class JudgeExample:
    """A self-evaluation prompt (user text), the answer the solver gives, and for a vote the
    answers that pick a choice from which the target can still be made."""

    prompt: str
    answer: str
    reachable_answers: tuple[str, ...] = ()


def _bent(rng: np.random.Generator, step: Step) -> str:
    """`step`'s line with a wrong result (and the numbers left carrying it): a slip to catch."""
    wrong = step.result + int(rng.choice([-2, -1, 1, 2]))
    wrong = wrong if wrong > 0 else step.result + 1
    left = step.left[:-1] + (wrong,)
    return Step(step.a, step.op, step.b, wrong, left).line


def _prefix_and_candidates(rng: np.random.Generator, numbers: tuple[int, ...]) -> tuple[list[Step], tuple[int, ...]]:
    """A random number of random first steps (leaving at least two numbers) and the state after."""
    path = random_path(rng, numbers)
    depth = int(rng.integers(0, len(path) - 1)) if len(path) > 1 else 0
    state = path[depth - 1].left if depth else numbers
    return path[:depth], state


def _reachable_path(rng: np.random.Generator, numbers: tuple[int, ...], target: int) -> list[Step]:
    """A path to ``target`` whose every step is a uniform draw among the steps that keep it reachable."""
    state, path = numbers, []
    while len(state) > 1:
        options = [s for s in next_steps(state) if reachable(s.left, target)]
        step = options[int(rng.integers(len(options)))]
        path.append(step)
        state = step.left
    return path


def step_check_example(rng: np.random.Generator, numbers: tuple[int, ...], target: int,
                       correct_share: float = 0.5, slip_rate: float = 0.4) -> JudgeExample:
    """A step-check prompt whose label is Correct with probability ``correct_share``.

    Labels are balanced on purpose: at a random state after random steps the target is usually
    out of reach (83% of such labels are Incorrect), and a judge trained on that learns to say
    Incorrect to everything. A Correct example is the next step of a path that reaches the
    target, after that path's first steps; an Incorrect one follows a random path's first steps
    (whose past verdicts may already say Incorrect) and is, with probability ``slip_rate`` (or
    when every legal step still reaches the target), a legal step with a slipped result, else a
    legal step after which the target is out of reach. ``numbers`` must admit a solution."""
    if rng.random() < correct_share:
        path = _reachable_path(rng, numbers, target)
        depth = int(rng.integers(0, len(path)))
        prefix, line = path[:depth], path[depth].line
    else:
        prefix, state = _prefix_and_candidates(rng, numbers)
        options = next_steps(state)
        dead = [s for s in options if not reachable(s.left, target)]
        if not dead or rng.random() < slip_rate:
            line = _bent(rng, options[int(rng.integers(len(options)))])
        else:
            line = dead[int(rng.integers(len(dead)))].line
    past, before = [], numbers
    for step in prefix:
        past.append((step.line, step_label(before, target, step.line)))
        before = step.left
    return JudgeExample(step_check_prompt(question_text(numbers, target), past, line), step_label(before, target, line))


def vote_example(rng: np.random.Generator, numbers: tuple[int, ...], target: int, max_choices: int = 4) -> JudgeExample:
    """A vote prompt over 2 to `max_choices` random next steps from one random state."""
    prefix, state = _prefix_and_candidates(rng, numbers)
    head = STEP_PREFIX + "".join(s.line + "\n" for s in prefix)
    options = next_steps(state)
    count = min(len(options), int(rng.integers(2, max_choices + 1)))
    chosen = [options[i] for i in rng.choice(len(options), size=count, replace=False)]
    scores = [count_solutions(s.left, target) for s in chosen]
    best = int(np.argmax(scores)) + 1
    choices = [head + "\n" + s.line for s in chosen]
    reachable_ids = tuple(f"The best choice is {i}" for i, score in enumerate(scores, start=1) if score > 0)
    return JudgeExample(vote_prompt(question_text(numbers, target), choices), f"The best choice is {best}", reachable_ids)
