"""Many clients share one driver: concurrent searches are batched and all answered; a client
that goes away leaves no program behind."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import openai
import pytest

from foresight.cli import main
from foresight.tasks.arith_task import ArithTask
from serving import LiveServer

CLIENTS = 32


@pytest.fixture(scope="module")
def server():
    with LiveServer() as live:
        yield live


def test_32_concurrent_sdk_clients_are_all_answered_as_the_cli_answers(server, tmp_path):
    out = tmp_path / "cli"
    assert main(["run", "--task", "arith", "--strategy", "cot", "--limit", str(CLIENTS), "--out", str(out),
                 "--no-progress", "--threads", "1"]) == 0
    expected = {r["id"]: r for r in map(json.loads, (out / "cot" / "records.jsonl").read_text().splitlines())}
    task = ArithTask()
    questions = task.questions()[:CLIENTS]
    calls = []
    generate = server.host.engine.generate
    server.host.engine.generate = lambda requests: calls.append(len(requests)) or generate(requests)

    async def client(question):
        sdk = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        reply = await sdk.chat.completions.create(model="cot", messages=task.messages(question), seed=0,
                                                  extra_body={"foresight": {"question_id": question.id}})
        return question.id, reply

    async def all_clients():
        return await asyncio.gather(*(client(q) for q in questions))

    try:
        replies = dict(asyncio.run(all_clients()))
    finally:
        del server.host.engine.generate
    assert len(replies) == CLIENTS
    for question_id, reply in replies.items():
        assert reply.choices[0].message.content == expected[question_id]["response"]
        assert reply.model_extra["foresight"]["answer"] == expected[question_id]["prediction"]
    assert sum(calls) == CLIENTS and len(calls) < CLIENTS  # several clients' requests per engine call
    assert server.health()["programs_in_flight"] == 0


CLIENT = textwrap.dedent("""
    import sys, openai
    client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="unused", max_retries=0)
    stream = client.chat.completions.create(
        model="phi@4x8", stream=True, seed=0, messages=[{"role": "user", "content": sys.argv[2]}],
        extra_body={"foresight": {"depth_pruning": False, "max_steps": 8}})
    for chunk in stream:
        print(chunk, flush=True)
""")


def test_a_client_killed_mid_stream_leaves_no_live_program(server):
    """The search (4 beams x 8 rollouts x 8 steps) would take minutes: only a cancel ends it in time."""
    question = ArithTask().questions()[5]
    process = subprocess.Popen([sys.executable, "-c", CLIENT, server.url, question.text],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        server.wait_for(lambda health: health["programs_in_flight"] == 1 and health["requests_in_flight"] == 1)
        process.kill()
        process.wait(10)
        health = server.wait_for(lambda health: health["programs_in_flight"] == 0, timeout=20)
        assert health["requests_in_flight"] == 0
        assert process.stdout.read() == b""  # killed before its answer came
    finally:
        process.kill()
