"""Response bodies and server-sent-event chunks, in OpenAI's shapes plus a `foresight` object.

`usage.completion_tokens` counts every token the search generated (what the answer cost, the
figure FLOPs are computed from), not only the answer's own tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from foresight.driver import Usage
from foresight.serve.programs import ServedRequest, ServedResult
from foresight.strategies.base import config_dict


@dataclass(frozen=True)
class Answer:
    """A finished search, ready to be written as a body or a stream."""

    id: str
    created: int
    model: str
    text: str
    usage: dict[str, int]
    foresight: dict[str, Any]


def make_answer(id: str, created: int, model: str, request: ServedRequest, served: ServedResult,
                usage: Usage, num_parameters: int) -> Answer:
    result = served.result
    info = {
        "strategy": request.config.label,
        "config": config_dict(request.config),
        "seed": request.seed,
        "question_id": request.question_id,
        "answer": result.answer,
        "generated_tokens": usage.generated_tokens,
        "prompt_tokens": usage.prompt_tokens,
        "prefill_tokens": usage.prefill_tokens,
        "engine_requests": usage.requests,
        "samples": usage.samples,
        "paper_flops": usage.paper_flops(num_parameters),
        "inference_flops": usage.inference_flops(num_parameters),
        "trace": result.trace.to_json() if request.trace else None,
    }
    counts = {"prompt_tokens": served.prompt_tokens, "completion_tokens": usage.generated_tokens,
              "total_tokens": served.prompt_tokens + usage.generated_tokens}
    return Answer(id, created, model, result.response, counts, info)


def chat_body(answer: Answer) -> dict[str, Any]:
    return _head(answer, "chat.completion") | {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text}, "finish_reason": "stop"}],
        "usage": answer.usage, "foresight": answer.foresight,
    }


def completion_body(answer: Answer) -> dict[str, Any]:
    return _head(answer, "text_completion") | {
        "choices": [{"index": 0, "text": answer.text, "finish_reason": "stop", "logprobs": None}],
        "usage": answer.usage, "foresight": answer.foresight,
    }


def chat_events(answer: Answer) -> Iterator[str]:
    """The answer as chat-completion chunks: the text, the finish, then usage and foresight."""
    head = _head(answer, "chat.completion.chunk")
    yield _event(head | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": answer.text}, "finish_reason": None}]})
    yield _event(head | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    yield from _closing(head, answer)


def completion_events(answer: Answer) -> Iterator[str]:
    head = _head(answer, "text_completion")
    yield _event(head | {"choices": [{"index": 0, "text": answer.text, "finish_reason": "stop", "logprobs": None}]})
    yield from _closing(head, answer)


def _closing(head: dict[str, Any], answer: Answer) -> Iterator[str]:
    yield _event(head | {"choices": [], "usage": answer.usage, "foresight": answer.foresight})
    yield "data: [DONE]\n\n"


def _head(answer: Answer, object_: str) -> dict[str, Any]:
    return {"id": answer.id, "object": object_, "created": answer.created, "model": answer.model}


def _event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload)}\n\n"
