"""The HTTP engine against llama-server serving SmolLM2-135M-Instruct's Q4_1 GGUF, compared
with the in-process engine on the same file (which transformers dequantizes to f32).

llama.cpp multiplies Q4_1 weights with activations quantized to 8 bits, transformers in f32,
so log-probs agree only loosely and greedy paths can part where two tokens are nearly tied.
Measured on these prompts (f32 KV cache): per token at most 0.15 nats apart, at most 0.02
nats per token on average over a common greedy path; two of the four paths parted, where the
in-process model ranked the two tokens 0.21 and 0.52 nats apart.
"""

import pytest
import torch

from foresight.engine.http_engine import HttpEngine
from foresight.engine.types import GenerationRequest

pytestmark = [pytest.mark.slow, pytest.mark.llama]

TOKEN_TOLERANCE = 0.3  # nats, any one token
MEAN_TOLERANCE = 0.05  # nats per token, summed over the common greedy path
TIE_MARGIN = 1.0  # nats: greedy paths may part only where the top two tokens are this close
QUESTIONS = (
    "What is 2 + 3? Answer with a number.",
    "Tom has 3 apples and buys 4 more. How many apples does he have now?",
    "Name a color of the sky.",
    "What is 10 minus 4?",
)


@pytest.fixture(scope="module")
def remote(llama_build, smollm2, tmp_path_factory):
    from foresight.servers.llama import LlamaServer
    from foresight.models.smollm2 import smollm2_gguf_path

    log = tmp_path_factory.mktemp("llama") / "smollm2-server.log"
    with LlamaServer(smollm2_gguf_path(), alias="smollm2-q4_1", parallel=2, exact=True, build=llama_build, log=log) as server:
        engine = HttpEngine.connect([server.url], smollm2.tokenizer)
        yield engine
        engine.close()


def test_server_reports_the_model(remote, smollm2):
    assert remote.model_id == "smollm2-q4_1"
    assert abs(remote.num_parameters - smollm2.num_parameters) / smollm2.num_parameters < 0.01


def test_greedy_logprobs_agree_within_the_quantization_bound(remote, smollm2):
    prompts = [smollm2.render_chat([{"role": "user", "content": q}]) for q in QUESTIONS]
    requests = [GenerationRequest(p, temperature=0.0, max_tokens=48) for p in prompts]
    for prompt, r, l in zip(prompts, remote.generate(requests), smollm2.generate(requests)):
        (rs,), (ls,) = r.samples, l.samples
        assert r.prompt_tokens == l.prompt_tokens
        common = next((i for i, (a, b) in enumerate(zip(rs.token_ids, ls.token_ids)) if a != b),
                      min(rs.num_tokens, ls.num_tokens))
        assert common >= 8
        diffs = [a - b for a, b in zip(rs.token_logprobs[:common], ls.token_logprobs[:common])]
        assert max(map(abs, diffs)) < TOKEN_TOLERANCE
        assert abs(sum(diffs)) < MEAN_TOLERANCE * common
        if common < min(rs.num_tokens, ls.num_tokens):  # the paths part: only at a near-tie
            ids = smollm2.encode_prompt(prompt) + list(ls.token_ids[:common])
            with torch.no_grad():
                logprobs = smollm2.model(torch.tensor([ids])).logits[0, -1].float().log_softmax(-1)
            margin = logprobs[ls.token_ids[common]] - logprobs[rs.token_ids[common]]
            assert 0 <= margin < TIE_MARGIN
