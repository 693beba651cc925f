"""Throughput of cross-question batching, measured on the embedded arith model.

Same engine, same 200 held-out `arith` problems, self-consistency@8:
  (a) driver: all questions live together, requests merged into engine calls;
  (b) one question at a time: the structure of the authors' scripts;
  (c) raw engine: one `generate` call with every question's request, no driver or strategy.
Prints tokens/s of each (median of --repeats runs) and the ratios a/b and a/c.

    .venv/bin/python benchmarks/throughput.py [--questions 200] [--repeats 3] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import statistics
import time

from foresight.driver import Driver, Job
from foresight.engine.transformers_engine import TransformersEngine
from foresight.engine.types import DEFAULT_BATCH_SIZE, GenerationRequest
from foresight.strategies import make_strategy
from foresight.strategies.base import StrategyContext, question_rng
from foresight.strategies.sampling import self_consistency_program
from foresight.tasks.arith_task import ArithTask


def run_driver(engine, prompts, strategy, batch_size: int, max_live: int) -> int:
    """Run SC over `prompts` through the driver; returns generated tokens."""
    tokens = 0

    def count(_key, _result, usage) -> None:
        nonlocal tokens
        tokens += usage.generated_tokens

    jobs = (Job(i, self_consistency_program(strategy, StrategyContext(p, p, engine.render_chat, lambda text: None,
                                                                      question_rng(0, str(i)))))
            for i, p in enumerate(prompts))
    Driver(engine, batch_size=batch_size, max_live=max_live).run(jobs, count)
    return tokens


def run_raw(engine, prompts, strategy) -> int:
    requests = [GenerationRequest(p, n=strategy.n, temperature=strategy.temperature,
                                  max_tokens=strategy.max_tokens, seed=i) for i, p in enumerate(prompts)]
    return sum(s.num_tokens for c in engine.generate(requests) for s in c.samples)


def timed(function) -> tuple[float, int]:
    started = time.perf_counter()
    tokens = function()
    return time.perf_counter() - started, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    args = parser.parse_args()

    engine = TransformersEngine.from_spec("arith", max_batch_size=args.batch_size)
    task = ArithTask(size=args.questions)
    prompts = [engine.render_chat(task.messages(q)) for q in task.questions()]
    strategy = make_strategy("sc", n=8)
    modes = {
        "a_driver_all_questions": lambda: run_driver(engine, prompts, strategy, args.batch_size, max_live=len(prompts)),
        "b_one_question_at_a_time": lambda: run_driver(engine, prompts, strategy, args.batch_size, max_live=1),
        "c_raw_engine_batch": lambda: run_raw(engine, prompts, strategy),
    }
    rates: dict[str, list[float]] = {name: [] for name in modes}
    for repeat in range(args.repeats):
        for name, function in modes.items():
            seconds, tokens = timed(function)
            rates[name].append(tokens / seconds)
            print(f"run {repeat + 1} {name}: {tokens} tokens in {seconds:.1f} s = {tokens / seconds:.0f} tok/s", flush=True)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\nmedian tokens/s over {args.repeats} runs ({args.questions} questions, sc@8, batch {args.batch_size}):")
    for name, value in medians.items():
        print(f"  {name:28s} {value:9.0f}")
    print(f"  ratio a/b (batching speed-up)    {medians['a_driver_all_questions'] / medians['b_one_question_at_a_time']:.2f}x")
    print(f"  ratio a/c (driver vs raw engine) {medians['a_driver_all_questions'] / medians['c_raw_engine_batch']:.2f}x")


if __name__ == "__main__":
    main()
