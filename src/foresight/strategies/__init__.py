"""Decoding strategies, registered by name.

`make_strategy(name, **options)` builds a config from the registry; options the strategy does
not have are rejected with a message naming them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from foresight.errors import ConfigError, OptionValueError
from foresight.strategies.base import ProgramFunction, StrategyResult
from foresight.strategies.cot import CoTConfig, cot_program
from foresight.strategies.phi import PhiConfig, phi_config, phi_program
from foresight.strategies.predictive import PredictiveConfig, predictive_program
from foresight.strategies.sampling import SamplingConfig, best_of_n_program, self_consistency_program


@dataclass(frozen=True)
class RegisteredStrategy:
    config_class: type
    program: ProgramFunction
    description: str
    build: Callable[..., Any] | None = None  # config factory taking options (default: config_class)

    @property
    def options(self) -> set[str]:
        """Names of the settings this strategy's config accepts."""
        return {f.name for f in dataclasses.fields(self.config_class)}


STRATEGIES: dict[str, RegisteredStrategy] = {
    "cot": RegisteredStrategy(CoTConfig, cot_program, "one greedy chain of thought"),
    "sc": RegisteredStrategy(SamplingConfig, self_consistency_program, "self-consistency: majority vote over n samples"),
    "bon": RegisteredStrategy(SamplingConfig, best_of_n_program, "best-of-n by mean log-prob"),
    "phi": RegisteredStrategy(PhiConfig, phi_program, "phi-Decoding: foresight step beam search", phi_config),
    "predictive": RegisteredStrategy(PredictiveConfig, predictive_program, "predictive decoding: look-ahead step sampling"),
}


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


__all__ = ["STRATEGIES", "StrategyResult", "make_strategy"]
