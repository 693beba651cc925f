"""The typed trace of the step searches (φ-Decoding, predictive decoding): every step's
candidates with the values the search gave them, why stepping ended, and the final completions.

`foresight show`, step-value accuracy and `benchmarks/step_search_diagnostics.py` read these
types, so a field renamed here is renamed for all of them. Fields that older records lack have
defaults (they read as "not recorded"); predictive records written before the final completions
had one shape held plain texts there, and read back as completions with only their text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from foresight.strategies.base import Trace


@dataclass
class CandidateTrace(Trace):
    """One proposed step of one beam. F, A and C are the paper's names: the value (phi: the
    foresight's mean log-prob), the advantage F - F_prev of the parent, the alignment (share of
    foresight paths in its cluster)."""

    beam: int
    text: str  # the step's own text
    score: float  # the step's mean log-prob
    terminal: bool  # the step ended the whole solution
    kept: bool  # survived in-width pruning
    foresight: str  # the rollout after the step ("" when there is none)
    F: float
    A: float
    cluster: int  # -1: not clustered
    C: float
    weight: float  # selection probability
    selected: bool
    topped_up: bool = False  # came back through the pruning's top-up
    qualified: bool | None = None  # passed phi's positive-advantage filter (None: no filter)

    @property
    def path(self) -> str:
        """The step and its foresight: where this candidate's path leads."""
        return self.text + "\n" + self.foresight


@dataclass
class FilterTrace(Trace):
    """phi's positive-advantage filter at one step."""

    qualified: int  # kept candidates with A > 0 and non-empty foresight
    fallback: bool  # too few qualified: the draw went by softmax(A/τ1) over every kept candidate


@dataclass
class StepTrace(Trace):
    step: int  # 1-based
    candidates: list[CandidateTrace]
    stop: str | None = None  # why stepping ended after this step (phi; None: it went on)
    filter: FilterTrace | None = None  # phi with the positive-advantage filter only


@dataclass
class FinalCompletion(Trace):
    """One beam's finished solution as the final choice saw it. `weight` is its probability of
    being chosen (predictive's argmax: 1 for the chosen one, 0 for the others)."""

    text: str  # the whole solution: the beam's steps and its completion
    completion: str = ""  # the completion alone (a beam that had finished: its last step)
    weight: float | None = None
    A: float | None = None  # phi: advantage of the completion over its beam's F_prev
    C: float | None = None  # phi: alignment of the completion
    cluster: int = -1
    qualified: bool | None = None  # phi with the filter: passed it


def _older_completions(completions: Any) -> Any:
    """Predictive records before the one shape listed the final completions as plain texts."""
    if isinstance(completions, list):
        return [{"text": c} if isinstance(c, str) else c for c in completions]
    return completions


@dataclass
class FinalTrace(Trace):
    completions: list[FinalCompletion] = field(metadata={"older": _older_completions})
    chosen: int
    fallback: bool = False  # phi: no completion qualified (or too few to cluster): softmax(A/τ1) over all


@dataclass
class StepSearchTrace(Trace):
    """A whole step search: its steps, why it stopped, and the final choice."""

    title = "step search"
    steps: list[StepTrace]
    final: FinalTrace
    stop_reason: str | None = None  # "max_steps", "all_beams_finished", phi's pruning reasons
