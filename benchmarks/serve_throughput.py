"""Throughput of `foresight serve`: concurrent clients' searches share the driver's engine calls.

One `foresight serve` process (embedded arith model, one torch thread) answers the same `arith`
held-out problems three ways:
  (a) all requests sent at once by concurrent openai-SDK clients;
  (b) the same requests one at a time;
  (c) `foresight run`'s own batched loop (evaluate) on the same questions, in this process.
Prints wall time and generated tokens/s of each, the ratio b/a (what sharing the driver buys)
and a/c (the served throughput as a share of the CLI's), and how many served answers equal the
CLI's (each request carries the question's seed and id, so they are the same searches).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/serve_throughput.py [--questions 64] [--model phi]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import openai

from foresight.engine.transformers_engine import TransformersEngine
from foresight.eval.evaluate import evaluate
from foresight.serve.mapping import choose_strategy
from foresight.tasks.arith_task import ArithTask


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "foresight.cli", "serve", "--port", str(port), "--threads", "1"],
                              env=os.environ | {"OMP_NUM_THREADS": "1"}, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health").raise_for_status()
            return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("foresight serve did not start")


async def ask(client: openai.AsyncOpenAI, task: ArithTask, question, model: str, seed: int) -> tuple[str, str | None, int]:
    reply = await client.chat.completions.create(model=model, messages=task.messages(question), seed=seed,
                                                 extra_body={"foresight": {"question_id": question.id}})
    info = reply.model_extra["foresight"]
    return question.id, info["answer"], info["generated_tokens"]


async def concurrent(url: str, task, questions, model: str, seed: int) -> list:
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=3600)
    return await asyncio.gather(*(ask(client, task, q, model, seed) for q in questions))


async def sequential(url: str, task, questions, model: str, seed: int) -> list:
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=3600)
    return [await ask(client, task, q, model, seed) for q in questions]


def timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=64)
    parser.add_argument("--model", default="phi", help="served model name (strategy and budget), default phi")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    task = ArithTask()
    questions = task.questions()[: args.questions]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        asyncio.run(sequential(url, task, questions[:1], args.model, args.seed))  # warm-up
        a_wall, a = timed(lambda: asyncio.run(concurrent(url, task, questions, args.model, args.seed)))
        b_wall, b = timed(lambda: asyncio.run(sequential(url, task, questions, args.model, args.seed)))
    finally:
        server.terminate()
        server.wait(30)

    import torch

    torch.set_num_threads(1)
    engine = TransformersEngine.from_spec("arith")
    config = choose_strategy(args.model, {}, None).config
    with tempfile.TemporaryDirectory() as out:
        c_wall, summary = timed(lambda: evaluate(task, config, engine, Path(out), seed=args.seed,
                                                 limit=args.questions, progress=False))
        records = {r["id"]: r for r in map(json.loads, (Path(out) / "records.jsonl").read_text().splitlines())}

    rows = [("(a) served, all requests at once", a_wall, sum(t for *_, t in a)),
            ("(b) served, one request at a time", b_wall, sum(t for *_, t in b)),
            ("(c) foresight run, batched", c_wall, summary["total_generated_tokens"])]
    print(f"{args.questions} '{args.model}' requests on the embedded arith model, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print(f"{'mode':36s} {'wall s':>8s} {'gen tokens':>11s} {'tokens/s':>9s}")
    for name, wall, tokens in rows:
        print(f"{name:36s} {wall:8.1f} {tokens:11d} {tokens / wall:9.0f}")
    print(f"b/a wall-time ratio (concurrent speed-up): {b_wall / a_wall:.2f}x")
    print(f"a/c served throughput as a share of the CLI's: {(rows[0][2] / a_wall) / (rows[2][2] / c_wall):.2f}")
    for name, answers in (("a", a), ("b", b)):
        same = sum(answer == records[qid]["prediction"] for qid, answer, _ in answers)
        print(f"({name}) answers equal to the CLI's: {same}/{len(answers)}")


if __name__ == "__main__":
    main()
