"""`foresight serve` is safe by default: keys, limits (each its 4xx), loopback-only without a key."""

from __future__ import annotations

import threading

import httpx
import openai
import pytest

from foresight.cli import main
from foresight.tasks.arith_task import ArithTask
from serving import LiveServer

KEYS = ["first-key-123", "second-key-456"]
QUESTION = ArithTask().questions()[0]
CHAT = {"model": "cot", "messages": [{"role": "user", "content": QUESTION.text}], "seed": 0}


@pytest.fixture(scope="module")
def server():
    with LiveServer(keys=KEYS, max_body_bytes=20_000, max_messages=4, max_n=8, max_completion_tokens=512,
                    max_prompt_tokens=300, max_budget=64) as live:
        yield live


def post(server, body, key=KEYS[0], path="/v1/chat/completions", **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.post(f"{server.url}{path}", json=body, headers=headers, timeout=60, **kwargs)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions", "/v1/models"])
def test_no_key_or_a_wrong_key_is_401(server, path):
    body = CHAT if path == "/v1/chat/completions" else {"model": "cot", "prompt": QUESTION.text}
    call = (lambda key: httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {key}"} if key else {})) \
        if path == "/v1/models" else (lambda key: post(server, body, key=key, path=path))
    for key in (None, "wrong", KEYS[0][:-1], KEYS[0] + "x", f"{KEYS[0]} {KEYS[1]}"):
        reply = call(key)
        assert reply.status_code == 401, key
        assert reply.json()["error"]["type"] == "authentication_error"
    assert call(KEYS[1]).status_code == 200  # every configured key is accepted


def test_sdk_with_the_key_is_answered_and_without_it_refused(server):
    good = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEYS[1])
    assert good.chat.completions.create(**CHAT).choices[0].message.content
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{server.url}/v1", api_key="nope").chat.completions.create(**CHAT)


@pytest.mark.parametrize("change, status, param", [
    ({"messages": [{"role": "user", "content": "x" * 30_000}]}, 413, None),  # --max-body-bytes
    ({"messages": [{"role": "user", "content": "hi"}] * 5}, 400, "messages"),  # --max-messages
    ({"model": "sc", "n": 9}, 400, "n"),  # --max-n
    ({"model": "sc@9"}, 400, "n"),
    ({"max_tokens": 513}, 400, "max_tokens"),  # --max-completion-tokens
    ({"model": "phi", "foresight": {"max_step_tokens": 600}}, 400, "foresight.max_step_tokens"),
    ({"model": "phi"}, 400, "model"),  # --max-budget: 4 beams x 4 rollouts x 8 steps = 128 > 64
    ({"model": "phi@2x2", "foresight": {"max_steps": 17}}, 400, "model"),
    ({"model": "tot@1x2", "foresight": {"max_steps": 1}}, 400, "foresight.vote_max_tokens"),  # its 4096 default
    ({"model": "tot@1x2", "foresight": {"max_steps": 1, "vote_max_tokens": 64, "votes": 40}}, 400, "model"),  # 1·2·1·40
    ({"model": "mcts", "foresight": {"max_step_tokens": 64, "max_tokens": 64}}, 400, "model"),  # 10 iterations·5·8 = 400
    ({"messages": [{"role": "user", "content": "7 " * 400}]}, 400, "messages"),  # --max-prompt-tokens
])
def test_each_limit_is_its_4xx(server, change, status, param):
    reply = post(server, CHAT | change)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["param"] == param
    assert server.health()["programs_in_flight"] == 0


def test_body_limit_holds_without_content_length(server):
    chunks = (b'{"model": "cot", "messages": [{"role": "user", "content": "' + b"x" * 5000 for _ in range(5))
    reply = httpx.post(f"{server.url}/v1/chat/completions", content=chunks,
                       headers={"Authorization": f"Bearer {KEYS[0]}", "Content-Type": "application/json"})
    assert reply.status_code == 413


def test_prompt_limit_on_completions_names_the_prompt(server):
    reply = post(server, {"model": "cot", "prompt": "7 " * 400}, path="/v1/completions")
    assert reply.status_code == 400 and reply.json()["error"]["param"] == "prompt"
    assert reply.json()["error"]["code"] == "context_length_exceeded"


def test_requests_in_flight_per_key_and_the_timeout():
    """With one slot per key, a second request of the same key waits for nothing: 429; another
    key still gets in. A search past --request-timeout is cancelled: 504, no program left."""
    slow = {"model": "phi@2x2", "messages": CHAT["messages"], "seed": 0, "foresight": {"depth_pruning": False}}
    with LiveServer(keys=KEYS, max_in_flight=1, request_timeout=60) as server:
        first = threading.Thread(target=post, args=(server, slow))
        first.start()
        server.wait_for(lambda health: health["programs_in_flight"] == 1)
        refused = post(server, CHAT)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert post(server, CHAT, key=KEYS[1]).status_code == 200
        first.join()
    with LiveServer(request_timeout=0.01) as server:  # shorter than any search's first engine call
        reply = post(server, slow, key=None)
        assert reply.status_code == 504 and reply.json()["error"]["code"] == "timeout"
        server.wait_for(lambda health: health["programs_in_flight"] == 0, timeout=10)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.org"])
def test_non_loopback_bind_without_a_key_is_refused_before_the_model_loads(capsys, host):
    assert main(["serve", "--host", host, "--model", "/no/such/model"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"foresight: error: --host {host} is not a loopback address") and err.count("\n") == 1


@pytest.mark.parametrize("flags, text", [
    (["--api-key-file", "/no/such/file"], "--api-key-file /no/such/file: cannot read it (FileNotFoundError)"),
    (["--api-key", "has space"], "an API key must be non-empty and contain no whitespace"),
    (["--max-n", "0"], "--max-n must be positive, got 0"),
    (["--port", "70000"], "--port must be in 0..65535, got 70000"),
])
def test_bad_serve_flags_are_one_line_errors(capsys, flags, text):
    assert main(["serve", "--model", "/no/such/model", *flags]) == 2
    assert capsys.readouterr().err == f"foresight: error: {text}\n"


def test_empty_key_file_is_refused(tmp_path, capsys):
    empty = tmp_path / "keys"
    empty.write_text("\n\n")
    assert main(["serve", "--api-key-file", str(empty)]) == 2
    assert capsys.readouterr().err == f"foresight: error: --api-key-file {empty}: holds no key\n"
