"""The HTTP engine against a real llama-server serving the embedded arith model (f32 GGUF).

The server is built once and cached (tests/conftest.py: `llama_build`); these tests compare it
token for token with the in-process transformers engine on the same weights.
"""

import threading

import pytest

from foresight.engine.http_engine import HttpEngine, RetryPolicy
from foresight.engine.types import GenerationRequest
from foresight.errors import ConfigError, ServerError
from foresight.tasks.arith_task import ArithTask

from proxy import RewritingProxy

pytestmark = pytest.mark.llama

#: Summed log-prob agreement, f32 GGUF on llama-server (f32 KV cache, no flash attention) vs
#: f32 safetensors in transformers, over greedy continuations of 81 to 107 tokens. Measured: at
#: most 1.4e-4 nats per sample and 2.2e-5 per token (8 prompts).
ARITH_LOGPROB_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def engine(arith_server, arith_engine):
    engine = HttpEngine.connect([arith_server.url], arith_engine.tokenizer, retry=RetryPolicy(attempts=2, delay=0.05))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def prompts(arith_engine):
    task = ArithTask(size=8)
    return [arith_engine.render_chat(task.messages(q)) for q in task.questions()]


def test_connect_reads_model_and_parameter_count_from_the_server(engine, arith_engine):
    assert engine.model_id == "arith-f32"
    assert engine.num_parameters == arith_engine.num_parameters == 492_160
    assert engine.servers[0].max_n == 4  # the server's slots


def test_greedy_matches_the_in_process_engine(engine, arith_engine, prompts):
    requests = [GenerationRequest(p, n=1, temperature=0.0, max_tokens=160) for p in prompts]
    remote, local = engine.generate(requests), arith_engine.generate(requests)
    worst = 0.0
    for r, l in zip(remote, local):
        (rs,), (ls,) = r.samples, l.samples
        assert (rs.text, rs.token_ids, rs.finish_reason, rs.stop_string) == (ls.text, ls.token_ids, ls.finish_reason, ls.stop_string)
        assert rs.num_tokens == ls.num_tokens == len(rs.token_logprobs)
        assert rs.ended_sequence  # the end-of-sequence token is counted and its log-prob summed
        worst = max(worst, abs(rs.logprob - ls.logprob))
        assert r.prompt_tokens == l.prompt_tokens
    assert worst < ARITH_LOGPROB_TOLERANCE


def test_stop_strings_end_samples_like_in_process(engine, arith_engine, prompts):
    requests = [GenerationRequest(p, n=1, temperature=0.0, max_tokens=160, stop=(" = ", "\n")) for p in prompts]
    for r, l in zip(engine.generate(requests), arith_engine.generate(requests)):
        (rs,), (ls,) = r.samples, l.samples
        assert rs.stop_string == ls.stop_string is not None
        assert (rs.text, rs.num_tokens, rs.token_ids) == (ls.text, ls.num_tokens, ls.token_ids)
        assert abs(rs.logprob - ls.logprob) < ARITH_LOGPROB_TOLERANCE  # includes the stop's own token


def test_n_samples_are_seeded_and_splitting_draws_the_same_ones(engine, prompts):
    request = GenerationRequest(prompts[0], n=10, temperature=1.0, max_tokens=60, seed=7)
    (first,), (again,) = engine.generate([request]), engine.generate([request])
    assert len(first.samples) == 10  # 4 slots: sent as 4 + 4 + 2
    assert [s.text for s in first.samples] == [s.text for s in again.samples]
    assert len({s.text for s in first.samples}) > 1
    for sample in first.samples:
        assert sample.num_tokens == len(sample.token_ids) == len(sample.token_logprobs)
        assert sample.finish_reason in ("stop", "length")


def test_a_server_that_ignores_n_gets_one_request_per_sample(engine, arith_server, arith_engine, prompts):
    request = GenerationRequest(prompts[1], n=3, temperature=1.0, max_tokens=60, seed=11)
    (native,) = engine.generate([request])
    with RewritingProxy(arith_server.url, rewrite_request=lambda body: body | {"n": 1}) as proxy:
        ignoring = HttpEngine.connect([proxy.url], arith_engine.tokenizer)
        (fallback,) = ignoring.generate([request])
        ignoring.close()
    assert [s.text for s in fallback.samples] == [s.text for s in native.samples]
    assert [b["n"] for b in proxy.requests] == [3, 1, 1]
    assert ignoring.servers[0].honours_n is False


def test_a_server_without_logprobs_is_refused(arith_server, arith_engine, prompts):
    def drop_logprobs(event):
        for choice in event.get("choices", []):
            choice["logprobs"] = None
        return event

    with RewritingProxy(arith_server.url, rewrite_event=drop_logprobs) as proxy:
        engine = HttpEngine.connect([proxy.url], arith_engine.tokenizer)
        with pytest.raises(ServerError, match=f"server {proxy.url} returned no log-probs"):
            engine.generate([GenerationRequest(prompts[0], max_tokens=20)])
        engine.close()


def test_load_spreads_over_servers_and_survives_one_dying(arith_server, arith_gguf, llama_build, arith_engine, prompts):
    from foresight.servers.llama import LlamaServer

    requests = [GenerationRequest(p, n=2, temperature=1.0, max_tokens=40, seed=i) for i, p in enumerate(prompts)]
    with LlamaServer(arith_gguf, alias="arith-f32", parallel=4, exact=True, build=llama_build) as second:
        proxies = [RewritingProxy(arith_server.url), RewritingProxy(second.url)]
        with proxies[0], proxies[1]:
            engine = HttpEngine.connect([p.url for p in proxies], arith_engine.tokenizer, concurrency=4,
                                        retry=RetryPolicy(attempts=3, delay=0.05))
            spread = engine.generate(requests)
            assert all(len(p.requests) > 0 for p in proxies)
            second.kill()
            survived = engine.generate(requests)
            engine.close()
    assert [[s.text for s in c.samples] for c in spread] == [[s.text for s in c.samples] for c in survived]


def test_unreachable_server_fails_with_its_name(arith_engine):
    from foresight.servers.loopback import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServerError, match=f"server {url} is not reachable after 2 attempts"):
        HttpEngine.connect([url], arith_engine.tokenizer, retry=RetryPolicy(attempts=2, delay=0.01))


def test_a_tokenizer_of_another_model_is_refused(arith_server):
    from foresight.engine.loading import load_tokenizer, resolve_model
    with pytest.raises(ConfigError, match="vocabulary of 512 tokens but the local tokenizer has 49152"):
        HttpEngine.connect([arith_server.url], load_tokenizer(resolve_model("smollm2")))


def test_requests_run_concurrently(arith_server, arith_engine, prompts):
    """With concurrency 4 the server sees several requests at once (its slots fill)."""
    import httpx

    engine = HttpEngine.connect([arith_server.url], arith_engine.tokenizer, concurrency=4)
    busy: list[int] = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            slots = httpx.get(f"{arith_server.url}/slots").json()
            busy.append(sum(1 for s in slots if s.get("is_processing")))

    watcher = threading.Thread(target=watch)
    watcher.start()
    engine.generate([GenerationRequest(p, n=1, temperature=1.0, max_tokens=200, seed=3) for p in prompts * 4])
    stop.set()
    watcher.join()
    engine.close()
    assert max(busy) > 1
