"""The offline vLLM adapter on the embedded arith model (skipped where vLLM is not installed)."""

import pytest

vllm = pytest.importorskip("vllm")

from foresight.engine.types import GenerationRequest  # noqa: E402
from foresight.engine.vllm_engine import VllmEngine  # noqa: E402


@pytest.fixture(scope="module")
def engine():
    return VllmEngine.from_spec("arith", dtype="float32", seed=0)


def test_greedy_matches_the_in_process_engine(engine, arith_engine, arith_prompt):
    request = GenerationRequest(arith_prompt, n=1, temperature=0.0, max_tokens=160, stop=("\n",))
    ((remote,),), ((local,),) = [c.samples for c in engine.generate([request])], [c.samples for c in arith_engine.generate([request])]
    assert (remote.text, remote.token_ids, remote.stop_string) == (local.text, local.token_ids, local.stop_string)
    assert abs(remote.logprob - local.logprob) < 1e-3


def test_n_seeded_samples(engine, arith_prompt):
    request = GenerationRequest(arith_prompt, n=4, temperature=1.0, max_tokens=60, seed=5)
    (first,), (again,) = engine.generate([request]), engine.generate([request])
    assert len(first.samples) == 4 and [s.text for s in first.samples] == [s.text for s in again.samples]
    assert all(s.num_tokens == len(s.token_logprobs) for s in first.samples)
