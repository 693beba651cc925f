"""A request's `model`, sampling fields and `foresight` options, turned into a strategy config.

The config is built by `make_strategy`, the function the CLI uses, so a bad value gets the
CLI's own message ("strategy 'phi': beams must be at least 1, got 0"). Model names are the run
labels: a strategy name (`phi`), a preset variant (`phi-released` is
`make_strategy("phi", preset="released")`), and an optional budget after `@`: `sc@8` (n) or
`phi@2x4` (beams x rollouts). An OpenAI field maps to the config field of the same name
where the strategy has one and is refused where it does not.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from foresight.errors import ConfigError, OptionValueError
from foresight.serve.errors import ApiError
from foresight.strategies import STRATEGIES, make_strategy, strategy_options

#: OpenAI request fields that are strategy config fields of the same name.
SAMPLING_FIELDS = ("n", "temperature", "top_p", "max_tokens", "stop")
#: Keys of the `foresight` object that are not strategy options.
TRACE_KEY, QUESTION_ID_KEY = "trace", "question_id"
_BUDGET = re.compile(r"([1-9][0-9]{0,5})(?:x([1-9][0-9]{0,5}))?")


def _presets() -> tuple[str, ...]:
    """The values of the strategies' `preset` field (the CLI's `--preset` choices)."""
    return _choices()["preset"]


def _choices() -> dict[str, tuple[str, ...]]:
    """Config fields that take a fixed set of values."""
    return {name: option.choices for name, option in strategy_options().items() if option.choices}


def _defaults(name: str) -> dict[str, Any]:
    """A strategy's config fields (except `name`) and their defaults."""
    return {f.name: f.default for f in dataclasses.fields(STRATEGIES[name].config_class) if f.name != "name"}


def model_ids() -> dict[str, str]:
    """Every servable model name without a budget, with its description."""
    ids = {}
    for name, registered in STRATEGIES.items():
        ids[name] = registered.description
        if "preset" in registered.options:
            default = _defaults(name)["preset"]
            ids |= {f"{name}-{preset}": f"{registered.description} ({preset} preset)"
                    for preset in _presets() if preset != default}
    return ids


def parse_model(model: str) -> tuple[str, dict[str, Any]]:
    """(strategy name, the options the model name fixes); 404 for a name that is not served."""
    base, _, budget = model.partition("@")
    name, options = base, {}
    if base not in STRATEGIES:
        name, _, preset = base.rpartition("-")
        if name not in STRATEGIES or "preset" not in STRATEGIES[name].options or preset not in _presets():
            raise ApiError(404, f"model '{model}' is not served; choose from: {', '.join(model_ids())} "
                                "(with @N for n, or @MxN for beams x rollouts)", param="model", code="model_not_found")
        options["preset"] = preset
    if budget:
        options |= _budget(model, name, budget)
    return name, options


def _budget(model: str, name: str, budget: str) -> dict[str, int]:
    fields = STRATEGIES[name].options
    match = _BUDGET.fullmatch(budget)
    if match and match.group(2) is None and "n" in fields:
        return {"n": int(match.group(1))}
    if match and match.group(2) is not None and {"beams", "rollouts"} <= fields:
        return {"beams": int(match.group(1)), "rollouts": int(match.group(2))}
    shape = "@N (n)" if "n" in fields else "@MxN (beams x rollouts)" if {"beams", "rollouts"} <= fields else "no budget"
    raise ApiError(404, f"model '{model}' is not served: strategy {name} takes {shape}", param="model", code="model_not_found")


@dataclass(frozen=True)
class StrategyChoice:
    """The config a request asked for, and what else its `foresight` object said."""

    config: Any
    trace: bool
    question_id: str | None


def choose_strategy(model: str, sampling: dict[str, Any], foresight: dict[str, Any] | None) -> StrategyChoice:
    """The validated strategy config of one request (ApiError 400/404 naming the field)."""
    name, from_model = parse_model(model)
    extra = dict(foresight or {})
    trace = extra.pop(TRACE_KEY, False)
    question_id = extra.pop(QUESTION_ID_KEY, None)
    if not isinstance(trace, bool):
        raise ApiError(400, f"foresight.{TRACE_KEY} must be true or false", param=f"foresight.{TRACE_KEY}")
    if question_id is not None and not isinstance(question_id, str):
        raise ApiError(400, f"foresight.{QUESTION_ID_KEY} must be a string", param=f"foresight.{QUESTION_ID_KEY}")

    origin: dict[str, str] = {key: "model" for key in from_model}
    options = dict(from_model)
    for field, value in sampling.items():
        if value is None:
            continue
        if field not in STRATEGIES[name].options:
            raise ApiError(400, f"{field} does not apply to strategy {name}", param=field)
        _merge(options, origin, field, value, field)
    defaults = _defaults(name)
    for field, value in extra.items():
        if field == "name":
            raise ApiError(400, "foresight.name: the strategy is chosen by model", param="foresight.name")
        if field in defaults:
            value = _typed(name, field, value, defaults[field])
        _merge(options, origin, field, value, f"foresight.{field}")
    try:
        config = make_strategy(name, **options)
    except OptionValueError as exc:  # named by the request field that set it, as the CLI names its flag
        param = origin.get(exc.option, f"foresight.{exc.option}")
        raise ApiError(400, f"{param} must be {exc.allowed}, got {exc.value}", param=param) from None
    except ConfigError as exc:
        raise ApiError(400, str(exc), param=_blame(str(exc), origin)) from None
    return StrategyChoice(config, trace, question_id)


def _merge(options: dict[str, Any], origin: dict[str, str], field: str, value: Any, param: str) -> None:
    """Add one option; the same option given twice with different values is refused."""
    if field in options and options[field] != value:
        raise ApiError(400, f"{param} = {value!r} conflicts with {field} = {options[field]!r} from {origin[field]}", param=param)
    options[field] = value
    origin.setdefault(field, param)


def _typed(name: str, field: str, value: Any, default: Any) -> Any:
    """`value` as the type of the field's default (what the CLI's flag parses to), or a 400."""
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not expected or (expected is float and not math.isfinite(value)):
        raise ApiError(400, f"strategy '{name}': {field} must be {expected.__name__}, got {value!r}", param=f"foresight.{field}")
    choices = _choices().get(field)
    if choices is not None and value not in choices:
        raise ApiError(400, f"strategy '{name}': {field} must be one of {', '.join(choices)}, got {value!r}", param=f"foresight.{field}")
    return value


def _blame(message: str, origin: dict[str, str]) -> str | None:
    """The request field a config error names: the first given option the message mentions."""
    for field, param in origin.items():
        if re.search(rf"\b{re.escape(field)}\b", message):
            return param
    return "foresight"


#: The fields whose product bounds a strategy's engine work in units of one sample.
BUDGET_FIELDS = ("n", "beams", "rollouts", "max_steps", "iterations", "max_depth", "votes")


def strategy_budget(config: Any) -> int:
    """The product of the budget fields a config has (n for the samplers; beams, rollouts and
    max_steps for the step searches; iterations, max_depth and rollouts for MCTS; votes for ToT):
    an upper bound on its engine work in units of one sample."""
    return math.prod(getattr(config, field, 1) for field in BUDGET_FIELDS)


def token_caps(config: Any) -> list[str]:
    """The config's caps on generated tokens (every integer field named *_tokens)."""
    return [f.name for f in dataclasses.fields(config)
            if f.name.endswith("tokens") and isinstance(getattr(config, f.name), int)]