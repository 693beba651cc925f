"""The wire format: OpenAI's chat-completions and completions bodies, plus a `foresight` field.

Request models forbid fields they do not know, so an OpenAI option foresight cannot honour
(`logprobs`, `tools`, ...) is refused with its name instead of being silently ignored. These
models are also what `/openapi.json` publishes.
"""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

#: Values a `foresight` option may take; which type each option needs is checked in `mapping`.
OptionValue = Union[bool, int, float, str]

SEED_BOUND = 2**63  # seeds are non-negative integers below this


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ChatMessage(_Strict):
    role: Literal["system", "user", "assistant"]
    content: str
    name: str | None = None


class StreamOptions(_Strict):
    include_usage: bool | None = None  # accepted for compatibility: the usage chunk is always sent


class _Common(_Strict):
    """Fields both endpoints share."""

    model: str = Field(description="strategy and budget: cot, sc@8, bon@8, phi, phi-released, phi@2x4, predictive, ...")
    max_tokens: int | None = Field(None, ge=1, description="the strategy's max_tokens")
    n: int | None = Field(None, ge=1, description="the strategy's n (samples voted over), where it has one")
    temperature: float | None = Field(None, ge=0, le=2, description="the strategy's temperature, where it has one")
    top_p: float | None = Field(None, gt=0, le=1, description="the strategy's top_p, where it has one")
    seed: int | None = Field(None, ge=0, lt=SEED_BOUND, description="seed of every random choice (default: a fresh one, reported back)")
    stop: str | list[str] | None = Field(None, description="the strategy's stop strings, where it has them")
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    foresight: dict[str, OptionValue] | None = Field(
        None, description="strategy options as the CLI's config fields (beams, rollouts, ...), plus "
                          "trace (bool: return the search trace) and question_id (str: seeds as `foresight run` does)")


class ChatCompletionRequest(_Common):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1, description="same as max_tokens")


class CompletionRequest(_Common):
    prompt: str = Field(description="the prompt text, used as it is (no chat template)")


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ForesightInfo(BaseModel):
    """What the search did: the strategy, its settings, the seeds and the compute it cost."""

    strategy: str
    config: dict[str, Any]
    seed: int
    question_id: str | None
    answer: str | None
    generated_tokens: int
    prompt_tokens: int
    prefill_tokens: int
    engine_requests: int
    samples: int
    paper_flops: float
    inference_flops: float
    trace: dict[str, Any] | None = None


class ResponseMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ResponseMessage
    finish_reason: Literal["stop"]


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    foresight: ForesightInfo


class CompletionChoice(BaseModel):
    index: int
    text: str
    finish_reason: Literal["stop"]
    logprobs: None = None


class TextCompletion(BaseModel):
    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    foresight: ForesightInfo


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    description: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok"]
    model: str
    programs_in_flight: int = Field(description="searches submitted to the shared driver and not yet ended")
    requests_in_flight: int = Field(description="HTTP requests being answered")


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(BaseModel):
    error: ErrorDetail
