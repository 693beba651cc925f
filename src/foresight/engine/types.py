"""The vocabulary every engine speaks: requests in, completions out.

Strategies never see a model, only these types, so one algorithm runs unchanged on the
in-process transformers engine or on a remote server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

#: Sample rows per engine call. 128 measured fastest for the embedded model on 2 CPU cores
#: (benchmarks/throughput.py); GPU users will want more.
DEFAULT_BATCH_SIZE = 128


@dataclass(frozen=True)
class GenerationRequest:
    """Ask for `n` continuations of `prompt` (already rendered text, chat template included).

    `seed` makes the request reproducible on its own: sample `i` of a request draws from a
    random stream keyed by (seed, i), whatever else shares its batch.
    """

    prompt: str
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"GenerationRequest.n must be >= 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"GenerationRequest.temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"GenerationRequest.top_p must be in (0, 1], got {self.top_p}")
        if self.max_tokens < 1:
            raise ValueError(f"GenerationRequest.max_tokens must be >= 1, got {self.max_tokens}")


@dataclass(frozen=True)
class Sample:
    """One continuation.

    `text` excludes the stop string (and the end-of-sequence token). `num_tokens` and
    `logprob` cover every generated token, including the one that completed a stop string or
    ended the sequence: that is the compute paid and the model's own probability of ending
    there. Log-probs are under the model's raw distribution, not the temperature-scaled one.
    """

    text: str
    num_tokens: int
    logprob: float
    finish_reason: str  # "stop" (end-of-sequence or a stop string) or "length"
    stop_string: str | None = None  # the stop string that ended it; None at end-of-sequence or length
    token_ids: tuple[int, ...] = field(default=(), repr=False)
    token_logprobs: tuple[float, ...] = field(default=(), repr=False)

    @property
    def ended_sequence(self) -> bool:
        """True when the model itself ended the text (end-of-sequence), not a stop string or the cap."""
        return self.finish_reason == "stop" and self.stop_string is None

    @property
    def mean_logprob(self) -> float:
        """Summed log-prob over token count: the length-normalised score the papers use."""
        return self.logprob / self.num_tokens if self.num_tokens else 0.0


@dataclass(frozen=True)
class Completion:
    """The samples of one request, with what the prompt cost.

    `prefill_tokens` counts prompt tokens actually run through the model for this request
    (prefix-cache hits excluded), the input of the inference-FLOPs figure.
    """

    samples: tuple[Sample, ...]
    prompt_tokens: int
    prefill_tokens: int


class Engine(Protocol):
    """What a strategy's driver needs from a model backend."""

    #: Stable identifier of the model behind the engine, part of every record's key.
    model_id: str
    #: Parameter count, for FLOPs accounting.
    num_parameters: int

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        """Run all requests (batched as the engine sees fit); one Completion per request, in order."""
        ...

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        """The prompt text that continues inside a new assistant turn after `messages`."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens `text` encodes to as a prompt."""
        ...
