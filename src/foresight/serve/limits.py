"""What one request may ask of the server: each limit is a `foresight serve` flag with a safe
default, and a request over it is refused with a 4xx naming the field, before any work starts."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Any

from foresight.serve.errors import ApiError
from foresight.serve.mapping import BUDGET_FIELDS, strategy_budget, token_caps


@dataclass(frozen=True)
class Limits:
    """Defaults fit the embedded models on a small machine; raise them for a real deployment."""

    max_body_bytes: int = 1_000_000  # request body size (413)
    max_messages: int = 64  # chat messages per request (400)
    max_n: int = 64  # a strategy's n (400)
    max_completion_tokens: int = 4096  # every token cap of a strategy: max_tokens, max_step_tokens, vote_max_tokens (400)
    max_prompt_tokens: int = 4096  # the rendered prompt's tokens (400)
    max_budget: int = 512  # M·N·steps of a step search, n of a sampling strategy (400)
    max_in_flight: int = 64  # requests being answered per API key (429)
    request_timeout: float = 600.0  # seconds before a search is cancelled (504)

    def __post_init__(self) -> None:
        for item in fields(self):
            if getattr(self, item.name) <= 0:
                raise ValueError(f"--{item.name.replace('_', '-')} must be positive, got {getattr(self, item.name)}")

    def check_config(self, config: Any) -> None:
        """A strategy config within the n, token and budget limits."""
        n = getattr(config, "n", None)
        if n is not None and n > self.max_n:
            raise ApiError(400, f"n = {n} is over this server's limit of {self.max_n} (--max-n)", param="n")
        for field in token_caps(config):
            value = getattr(config, field)
            if value > self.max_completion_tokens:
                raise ApiError(400, f"{field} = {value} is over this server's limit of {self.max_completion_tokens} "
                                    "(--max-completion-tokens)", param="max_tokens" if field == "max_tokens" else f"foresight.{field}")
        budget = strategy_budget(config)
        if budget > self.max_budget:
            counted = "·".join(field for field in BUDGET_FIELDS if hasattr(config, field))
            raise ApiError(400, f"strategy budget {budget} ({counted}) is over this server's limit "
                                f"of {self.max_budget} (--max-budget)", param="model")

    def check_messages(self, count: int) -> None:
        if count > self.max_messages:
            raise ApiError(400, f"{count} messages is over this server's limit of {self.max_messages} (--max-messages)", param="messages")

    def check_prompt(self, tokens: int, param: str) -> None:
        if tokens > self.max_prompt_tokens:
            raise ApiError(400, f"the prompt is {tokens} tokens, over this server's limit of {self.max_prompt_tokens} "
                                "(--max-prompt-tokens)", param=param, code="context_length_exceeded")


_HELP = {
    "max_body_bytes": "largest request body in bytes",
    "max_messages": "most chat messages in a request",
    "max_n": "largest n of a strategy",
    "max_completion_tokens": "largest token cap of a strategy (max_tokens, max_step_tokens, vote_max_tokens)",
    "max_prompt_tokens": "longest rendered prompt in tokens",
    "max_budget": "largest strategy budget: the product of its n, beams, rollouts, max_steps, iterations, max_depth, votes",
    "max_in_flight": "most requests in flight per API key",
    "request_timeout": "seconds before a request's search is cancelled",
}


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("limits (each refused with a 4xx when a request goes over it)")
    for item in fields(Limits):
        group.add_argument(f"--{item.name.replace('_', '-')}", dest=item.name, type=type(item.default), default=item.default,
                           help=f"{_HELP[item.name]} (default {item.default})")


def limits_from_args(args: argparse.Namespace) -> Limits:
    from foresight.errors import ConfigError

    try:
        return Limits(**{item.name: getattr(args, item.name) for item in fields(Limits)})
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
