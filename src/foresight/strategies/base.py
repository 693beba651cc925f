"""The shared vocabulary of decoding strategies.

A strategy is a config dataclass (defaults = the papers' settings) plus a program function
`program(config, prompt, extract, rng)`: a generator that yields engine requests and returns a
`StrategyResult`. `extract` maps a response to its final answer (the task's rule), which voting
strategies need; `rng` is the question's own random generator, the only source of seeds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from foresight.driver import Program

AnswerExtractor = Callable[[str], "str | None"]


@dataclass(frozen=True)
class StrategyResult:
    """What a strategy settles on for one question, and how it got there."""

    response: str
    answer: str | None
    trace: dict[str, Any] = field(default_factory=dict)


ProgramFunction = Callable[[Any, str, AnswerExtractor, np.random.Generator], Program]


def config_dict(config: Any) -> dict[str, Any]:
    """A strategy config as a plain dict (tuples as lists), for config.json and hashing."""
    return json_ready(dataclasses.asdict(config))


def json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def request_seed(rng: np.random.Generator) -> int:
    """A fresh engine seed drawn from the question's generator."""
    return int(rng.integers(0, 2**62))
