"""The `/v1/completions` wire format: request bodies and both streamed log-prob formats."""

import json

from foresight.engine.completions_api import StreamedCompletion, request_body, sample_seed
from foresight.engine.types import GenerationRequest


def test_request_body_asks_for_a_slice_of_samples_with_their_seeds():
    request = GenerationRequest("Q: 1+1?\nA:", n=8, temperature=0.7, top_p=0.9, max_tokens=32, stop=("\n",), seed=2**40 + 5)
    body = request_body("m", request, start=4, count=4, extra={"top_k": 0})
    assert body["n"] == 4 and body["seed"] == sample_seed(request.seed, 4) == 5 + 4
    assert body["stream"] is True and body["logprobs"] == 1 and body["stop"] == ["\n"] and body["top_k"] == 0
    assert "stop" not in request_body("m", GenerationRequest("x"), 0, 1, {})


def test_legacy_logprob_format_is_read():
    """vLLM and OpenAI stream `logprobs.tokens` / `token_logprobs` and one usage at the end;
    vLLM sends each chunk's token ids beside them when asked (`return_token_ids`, which the HTTP
    engine asks of vLLM servers; tests/test_vllm_server.py reads them from a real one)."""
    response = StreamedCompletion()
    events = [
        {"choices": [{"index": 0, "text": " 4", "logprobs": {"tokens": [" 4"], "token_logprobs": [-0.5]}, "finish_reason": None,
                      "token_ids": [310]}]},
        {"choices": [{"index": 1, "text": " 5", "logprobs": {"tokens": [" 5"], "token_logprobs": [-1.5]}, "finish_reason": None}]},
        {"choices": [{"index": 0, "text": "", "logprobs": {"tokens": ["\n"], "token_logprobs": [-0.25]},
                      "finish_reason": "stop", "stop_reason": "\n", "token_ids": [13]}]},
        {"choices": [{"index": 1, "text": "", "logprobs": {"tokens": ["</s>"], "token_logprobs": [-0.75]},
                      "finish_reason": "stop", "stop_reason": None}]},
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4, "prompt_tokens_details": {"cached_tokens": 3}}},
    ]
    for event in events:
        response.absorb(json.loads(json.dumps(event)))
    zero, one = response.choices[0], response.choices[1]
    assert (zero.text, zero.token_logprobs, zero.token_ids, zero.stop_reason) == (" 4", [-0.5, -0.25], [310, 13], "\n")
    assert (one.text, one.token_texts, one.token_ids, one.finish_reason) == (" 5", [" 5", "</s>"], [], "stop")
    assert (response.prompt_tokens, response.cached_tokens, response.completion_tokens) == (9, 3, 4)
