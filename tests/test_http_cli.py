"""`foresight run --server` end to end against real servers (llama-server, and vLLM's OpenAI
server where vLLM is installed): same answers as in-process, and a server killed mid-run costs
no finished record (for vLLM: tests/test_vllm_server.py)."""

import json
import threading
import time

import pytest
from conftest import foresight, read_records

from foresight.servers.llama import LlamaServer
from foresight.servers.loopback import free_port

#: The servers these tests run on: (fixture, the model name it serves).
SERVERS = [
    pytest.param(("arith_server", "arith-f32"), marks=pytest.mark.llama, id="llama-server"),
    pytest.param(("vllm_server", "arith"), id="vllm"),
]


@pytest.fixture(params=SERVERS)
def served(request):
    """(server, the model name it serves), for each kind of server."""
    fixture, model = request.param
    return request.getfixturevalue(fixture), model


def test_greedy_cot_gives_the_same_answers_via_server_and_in_process(served, tmp_path):
    server, model = served
    common = ["run", "--task", "arith", "--strategy", "cot", "--limit", "12", "--no-progress"]
    remote = foresight(*common, "--server", server.url, "--out", str(tmp_path / "remote"))
    local = foresight(*common, "--out", str(tmp_path / "local"))
    assert remote.returncode == 0, remote.stderr
    assert local.returncode == 0, local.stderr
    by_server, in_process = read_records(tmp_path / "remote" / "cot" / "records.jsonl"), read_records(tmp_path / "local" / "cot" / "records.jsonl")
    assert [r["id"] for r in by_server] == [r["id"] for r in in_process]
    for a, b in zip(by_server, in_process):
        assert (a["prediction"], a["response"], a["generated_tokens"], a["prompt_tokens"], a["paper_flops"]) == \
               (b["prediction"], b["response"], b["generated_tokens"], b["prompt_tokens"], b["paper_flops"])
    assert by_server[0]["model"] == model and in_process[0]["model"] == "arith"


@pytest.mark.slow
@pytest.mark.llama
def test_server_killed_mid_run_then_resumed(arith_gguf, llama_build, tmp_path):
    port = free_port()
    out = tmp_path / "out"
    args = ["run", "--task", "arith", "--strategy", "sc", "--n", "4", "--limit", "30", "--batch-size", "8",
            "--server", f"http://127.0.0.1:{port}", "--retries", "2", "--retry-delay", "0.05", "--out", str(out), "--no-progress"]
    path = out / "sc@4" / "records.jsonl"
    server = LlamaServer(arith_gguf, alias="arith-f32", parallel=4, exact=True, port=port, build=llama_build).start()

    def kill_after_three_records():
        while not path.exists() or len(path.read_text().splitlines()) < 3:
            time.sleep(0.01)
        server.kill()

    killer = threading.Thread(target=kill_after_three_records, daemon=True)
    killer.start()
    failed = foresight(*args)
    killer.join(timeout=60)
    assert failed.returncode == 2
    error = failed.stderr.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("foresight: error: server http://127.0.0.1:")
    assert f"127.0.0.1:{port}" in error[0] and "failed 3 attempts" in error[0]
    kept = read_records(path)
    assert 3 <= len(kept) < 30

    with LlamaServer(arith_gguf, alias="arith-f32", parallel=4, exact=True, port=port, build=llama_build):
        resumed = foresight(*args)
    assert resumed.returncode == 0, resumed.stderr
    after = read_records(path)
    assert [r["id"] for r in after[: len(kept)]] == [r["id"] for r in kept]
    assert len(after) == 30 and len({r["id"] for r in after}) == 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "4"], "--concurrency applies only with --server"),
        (["--server", "localhost:8080"], "--server 'localhost:8080': give a URL starting with http://"),
        (["--server", "http://127.0.0.1:9", "--engine", "vllm"], "--engine vllm runs in-process"),
    ],
)
def test_bad_server_flags_fail_on_one_line(tmp_path, args, message):
    result = foresight("run", "--limit", "1", "--out", str(tmp_path / "o"), "--no-progress", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unreachable_server_fails_on_one_line(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = foresight("run", "--limit", "1", "--server", url, "--retries", "1", "--retry-delay", "0.01",
                       "--out", str(tmp_path / "o"), "--no-progress")
    assert result.returncode == 2
    assert f"foresight: error: server {url} is not reachable after 2 attempts" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_genius_sampling_runs_on_a_server(served, tmp_path):
    server, model = served
    done = foresight("genius", "sample", "--queries", "2", "--steps", "2", "--server", server.url,
                     "--out", str(tmp_path / "sample"), "--no-progress")
    assert done.returncode == 0, done.stderr
    sampled = read_records(tmp_path / "sample" / "records.jsonl")
    assert len(sampled) == 2 and all(len(r["steps"][0]["candidates"]) == 8 for r in sampled)
    assert json.loads((tmp_path / "sample" / "config.json").read_text())["identity"]["model"] == model
    refused = foresight("genius", "run", "--server", server.url, "--out", str(tmp_path / "run"))
    assert refused.returncode == 2 and "genius run trains local checkpoints" in refused.stderr
