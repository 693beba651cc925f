"""Decoding strategies, registered by name.

A new strategy is one module (its config, trace and program; see `foresight.strategies.base`)
plus one line in `STRATEGIES`. `make_strategy(name, **options)` builds a config from the
registry; options the strategy does not have are rejected with a message naming them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from foresight.errors import ConfigError, OptionValueError
from foresight.options import Option, collect_options
from foresight.strategies.base import ProgramFunction, StrategyContext, StrategyResult, Trace
from foresight.strategies.cot import CoTConfig, CoTTrace, cot_program
from foresight.strategies.guided import GuidedConfig, GuidedTrace, guided_program
from foresight.strategies.mcts import MCTSConfig, MCTSTrace, mcts_program
from foresight.strategies.phi import PhiConfig, phi_config, phi_program
from foresight.strategies.predictive import PredictiveConfig, predictive_program
from foresight.strategies.sampling import (
    BestOfNTrace, SamplingConfig, VoteTrace, best_of_n_program, self_consistency_program,
)
from foresight.strategies.step_traces import StepSearchTrace
from foresight.strategies.tot import TotConfig, TotTrace, tot_program
from foresight.strategies.wsc import WeightedVoteConfig, WeightedVoteTrace, weighted_vote_program


@dataclass(frozen=True)
class RegisteredStrategy:
    """A strategy as the registry knows it: config class, program, one-line description, the
    type of its trace, and optionally a config factory taking the options (default: the config
    class itself)."""

    config_class: type
    program: ProgramFunction
    description: str
    trace: type[Trace]
    build: Callable[..., Any] | None = None

    @property
    def options(self) -> set[str]:
        """Names of the settings this strategy's config accepts."""
        return {f.name for f in dataclasses.fields(self.config_class)}


STRATEGIES: dict[str, RegisteredStrategy] = {
    "cot": RegisteredStrategy(CoTConfig, cot_program, "one greedy chain of thought", CoTTrace),
    "sc": RegisteredStrategy(SamplingConfig, self_consistency_program, "self-consistency: majority vote over n samples",
                             VoteTrace),
    "bon": RegisteredStrategy(SamplingConfig, best_of_n_program, "best-of-n by mean log-prob", BestOfNTrace),
    "phi": RegisteredStrategy(PhiConfig, phi_program, "phi-Decoding: foresight step beam search", StepSearchTrace,
                              phi_config),
    "predictive": RegisteredStrategy(PredictiveConfig, predictive_program, "predictive decoding: look-ahead step sampling",
                                     StepSearchTrace),
    "tot": RegisteredStrategy(TotConfig, tot_program, "Tree-of-Thought: BFS, the model votes among partial solutions", TotTrace),
    "wsc": RegisteredStrategy(WeightedVoteConfig, weighted_vote_program, "weighted self-consistency: votes weighted by confidence", WeightedVoteTrace),
    "mcts": RegisteredStrategy(MCTSConfig, mcts_program, "RAP-style MCTS over steps, reward = step mean log-prob", MCTSTrace),
    "guided": RegisteredStrategy(GuidedConfig, guided_program, "self-evaluation guided stochastic beam search", GuidedTrace),
}


def strategy_options() -> dict[str, Option]:
    """Every registered strategy's options, one per field name (the `run` and `sweep` flags)."""
    return collect_options({name: registered.config_class for name, registered in STRATEGIES.items()})


def read_trace(name: str, data: dict[str, Any]) -> Trace | dict[str, Any]:
    """A record's stored trace as its strategy's trace type, or as stored when no strategy of
    that name is registered (a run of a strategy since removed); a DataError names what does
    not fit."""
    registered = STRATEGIES.get(name)
    return data if registered is None else registered.trace.from_json(data)


def make_strategy(name: str, **options: Any):
    """Config of strategy `name` with the given options (None values mean: the default)."""
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy '{name}'; choose from: {', '.join(STRATEGIES)}")
    registered = STRATEGIES[name]
    given = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(given) - registered.options)
    if unknown:
        raise ConfigError(f"strategy '{name}' has no option {', '.join(unknown)}")
    build = registered.build or registered.config_class
    try:
        return build(name=name, **{k: v for k, v in given.items() if k != "name"})
    except OptionValueError:
        raise  # a ConfigError already; it keeps the field's name for the command line's message
    except ValueError as exc:
        raise ConfigError(f"strategy '{name}': {exc}") from None


__all__ = ["STRATEGIES", "RegisteredStrategy", "StrategyContext", "StrategyResult", "Trace", "make_strategy"]
