"""φ-Decoding through llama-server vs the in-process engine, on the embedded arith model.

Same 100 held-out `arith` problems, φ-Decoding with paper defaults, one CPU thread for the
model on both sides (llama-server: `-t 1`, 16 slots; transformers: torch threads 1):
  (a) in-process transformers engine (driver batches of --batch-size rows);
  (b) HTTP engine over llama-server serving the same weights as an f32 GGUF, 16 requests in flight;
then a concurrency sweep (1, 2, 4, 8, 16 requests in flight) on --sweep-problems problems.
Prints generated tokens/s (median of --repeats runs for a and b), accuracy, and b/a.
The two engines sample with different random streams, so their token counts differ a little.

    .venv/bin/python benchmarks/http_throughput.py [--problems 100] [--sweep-problems 10] [--repeats 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from foresight.engine.http_engine import HttpEngine
from foresight.engine.transformers_engine import TransformersEngine
from foresight.engine.types import DEFAULT_BATCH_SIZE
from foresight.eval.evaluate import evaluate
from foresight.servers.llama import LlamaServer, embedded_arith_gguf, ensure_built
from foresight.strategies import make_strategy
from foresight.tasks.arith_task import ArithTask


def phi_run(engine, problems: int, batch_size: int) -> tuple[float, int, float]:
    """(seconds, generated tokens, accuracy) of φ-Decoding on the first `problems` questions."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        summary = evaluate(ArithTask(), make_strategy("phi"), engine, Path(out), limit=problems,
                           batch_size=batch_size, progress=False)
        return time.perf_counter() - started, summary["total_generated_tokens"], summary["accuracy"]


def measure(label: str, engine, problems: int, batch_size: int, repeats: int) -> tuple[float, float]:
    rates, accuracy = [], 0.0
    for repeat in range(repeats):
        seconds, tokens, accuracy = phi_run(engine, problems, batch_size)
        rates.append(tokens / seconds)
        print(f"{label} run {repeat + 1}: {tokens} tokens in {seconds:.1f} s = {tokens / seconds:.0f} tok/s, "
              f"accuracy {accuracy:.1%}", flush=True)
    return statistics.median(rates), accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=100)
    parser.add_argument("--sweep-problems", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    args = parser.parse_args()

    torch.set_num_threads(1)
    build = ensure_built()
    gguf = embedded_arith_gguf(build)
    local = TransformersEngine.from_spec("arith", max_batch_size=args.batch_size)
    in_process, in_process_accuracy = measure("in-process", local, args.problems, args.batch_size, args.repeats)

    sweep: dict[int, float] = {}
    with LlamaServer(gguf, alias="arith-f32", parallel=16, threads=1, build=build) as server:
        remote = HttpEngine.connect([server.url], local.tokenizer, concurrency=16)
        over_http, http_accuracy = measure("llama-server", remote, args.problems, args.batch_size, args.repeats)
        remote.close()
        for concurrency in (1, 2, 4, 8, 16):
            engine = HttpEngine.connect([server.url], local.tokenizer, concurrency=concurrency)
            seconds, tokens, _ = phi_run(engine, args.sweep_problems, args.batch_size)
            engine.close()
            sweep[concurrency] = tokens / seconds
            print(f"sweep concurrency {concurrency}: {tokens} tokens in {seconds:.1f} s", flush=True)

    print(f"\nφ-Decoding, {args.problems} arith problems, median of {args.repeats} runs:")
    print("| engine | tokens/s | accuracy |\n|---|---|---|")
    print(f"| in-process transformers | {in_process:,.0f} | {in_process_accuracy:.1%} |")
    print(f"| llama-server, 16 in flight | {over_http:,.0f} | {http_accuracy:.1%} |")
    print(f"ratio llama-server / in-process: {over_http / in_process:.2f}x")
    print(f"\nconcurrency sweep ({args.sweep_problems} problems, one run each):")
    print("| requests in flight | tokens/s |\n|---|---|")
    for concurrency, rate in sweep.items():
        print(f"| {concurrency} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
