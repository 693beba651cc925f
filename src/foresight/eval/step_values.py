"""Step-value accuracy: how often a step search's value estimate points at a step that leads to
the gold answer (the φ paper's appendix D analysis, as we define it precisely here).

A step is *discriminative* when, among its kept candidates with a foresight path, at least one
path reaches the gold answer and at least one does not. The step's value estimate is accurate
when the candidate with the highest selection weight is one whose path reaches the gold answer.
Step-value accuracy = accurate discriminative steps / discriminative steps. Steps where every
path agrees on correctness say nothing about the estimate and are left out.

A search whose valued steps are not a step search's (MCTS's children valued by Q) gives its
trace a method `valued_steps()`: per step, each valued candidate as (the text its path leads to,
the value the search chose by).
"""

from __future__ import annotations

from typing import Callable

from foresight.strategies.base import Trace
from foresight.strategies.step_traces import CandidateTrace, StepSearchTrace, StepTrace


def valued_candidates(step: StepTrace) -> list[CandidateTrace]:
    """The candidates of a step that the search valued by where their path leads: kept ones
    with a foresight, or whose step ended the solution."""
    return [c for c in step.candidates if c.kept and (c.foresight or c.terminal)]


def step_value_counts(trace: Trace, extract: Callable[[str], str | None],
                      is_correct: Callable[[str | None, str | None], bool], gold: str | None) -> dict[str, int] | None:
    """(discriminative steps, accurate ones) of one question's trace; None when the strategy
    estimates no step values or the question has no gold answer."""
    if gold is None:
        return None
    if isinstance(trace, StepSearchTrace):
        steps = [[(c.path, c.weight) for c in valued_candidates(step)] for step in trace.steps]
    elif hasattr(trace, "valued_steps"):
        steps = trace.valued_steps()
    else:
        return None
    discriminative = accurate = 0
    for valued in steps:
        reaches = [is_correct(extract(path), gold) for path, _ in valued]
        if all(reaches) or not any(reaches):
            continue
        discriminative += 1
        best = max(range(len(valued)), key=lambda i: valued[i][1])
        accurate += reaches[best]
    return {"discriminative_steps": discriminative, "accurate_steps": accurate}
