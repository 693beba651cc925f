"""One request as a driver program, seeded exactly as `foresight run` seeds a question.

`foresight run` gives question `id` under `--seed S` the generator `question_rng(S, id)` and
the prompt `engine.render_chat(task.messages(question))`. A served request gets
`question_rng(seed, question_id)` where `question_id` is `foresight.question_id` when given,
else the rendered prompt text itself; its prompt is the chat template applied to `messages`
(chat) or the `prompt` text as it is (completions). So a chat request with a question's
messages, `seed: S` and `foresight.question_id: id` gets the CLI's answer for that question.

Rendering and counting run here, on the driver thread, because the tokenizer is not shared
between threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from foresight.driver import Program
from foresight.engine.types import Engine
from foresight.serve.errors import ApiError
from foresight.serve.limits import Limits
from foresight.strategies import STRATEGIES
from foresight.strategies.base import AnswerExtractor, StrategyContext, StrategyResult, question_rng


@dataclass(frozen=True)
class ServedRequest:
    """What one search needs: the config, the prompt (messages or text), seed and question id,
    and whether its trace goes back to the client."""

    config: Any
    seed: int
    question_id: str | None
    trace: bool = False
    messages: list[dict[str, str]] | None = None
    prompt: str | None = None


@dataclass(frozen=True)
class ServedResult:
    result: StrategyResult
    prompt_tokens: int  # tokens of the client's prompt (the usage figure OpenAI reports)


def served_program(engine: Engine, request: ServedRequest, extract: AnswerExtractor, limits: Limits) -> Program:
    prompt = _prompt(engine.render_chat, request)
    tokens = engine.count_tokens(prompt)
    limits.check_prompt(tokens, "messages" if request.messages is not None else "prompt")
    rng = question_rng(request.seed, request.question_id if request.question_id is not None else prompt)
    messages = tuple(request.messages or ())
    question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), prompt)
    context = StrategyContext(question=question, prompt=prompt, render=engine.render_chat, extract=extract, rng=rng,
                              messages=messages, question_id=request.question_id)
    result = yield from STRATEGIES[request.config.name].program(request.config, context)
    return ServedResult(result, tokens)


def _prompt(render: Callable[[list[dict[str, str]]], str], request: ServedRequest) -> str:
    if request.messages is None:
        return request.prompt or ""
    from jinja2 import TemplateError

    try:
        return render(request.messages)
    except TemplateError as exc:
        raise ApiError(400, f"the model's chat template refuses these messages: {exc}", param="messages") from None
