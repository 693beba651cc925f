"""Run many per-question programs over one engine, batching their requests together.

A *program* is a generator: it yields a list of `GenerationRequest`s, receives the matching
list of `Completion`s, and finally returns its result. The driver keeps up to `max_live`
programs alive, merges all their pending requests into engine calls of at most `batch_size`
sample rows, routes each completion back to its program, and accounts every program's tokens.
Strategies thus read like the papers' pseudo-code while the engine always sees large batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable, Iterator, Sequence

from foresight.engine.types import Completion, Engine, GenerationRequest

Program = Generator[list[GenerationRequest], list[Completion], Any]


@dataclass
class Usage:
    """Tokens one program consumed. `prefill_tokens` are prompt tokens actually run."""

    generated_tokens: int = 0
    prompt_tokens: int = 0
    prefill_tokens: int = 0
    requests: int = 0
    samples: int = 0

    def add(self, completion: Completion) -> None:
        self.generated_tokens += sum(s.num_tokens for s in completion.samples)
        self.prompt_tokens += completion.prompt_tokens
        self.prefill_tokens += completion.prefill_tokens
        self.requests += 1
        self.samples += len(completion.samples)

    def paper_flops(self, num_parameters: int) -> float:
        """The φ paper's compute figure: 6 · P · generated tokens."""
        return 6.0 * num_parameters * self.generated_tokens

    def inference_flops(self, num_parameters: int) -> float:
        """Forward-pass compute: 2 · P · tokens run through the model (prefill + generated)."""
        return 2.0 * num_parameters * (self.prefill_tokens + self.generated_tokens)


@dataclass
class Job:
    """A program to run, with the key its result is reported under."""

    key: Any
    program: Program


@dataclass
class _Live:
    job: Job
    requests: list[GenerationRequest]
    usage: Usage = field(default_factory=Usage)


FinishCallback = Callable[[Any, Any, Usage], None]


class Driver:
    """Cross-question batching over one engine."""

    def __init__(self, engine: Engine, batch_size: int = 64, max_live: int = 256) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_live < 1:
            raise ValueError(f"max_live must be >= 1, got {max_live}")
        self.engine = engine
        self.batch_size = batch_size
        self.max_live = max_live

    def run(
        self,
        jobs: Iterable[Job],
        on_finish: FinishCallback,
        on_tokens: Callable[[int], None] | None = None,
    ) -> None:
        """Run every job to completion; `on_finish(key, result, usage)` fires as each ends."""
        waiting: Iterator[Job] = iter(jobs)
        live: list[_Live] = []
        exhausted = False
        while True:
            while not exhausted and len(live) < self.max_live:
                job = next(waiting, None)
                if job is None:
                    exhausted = True
                    break
                started = self._advance(_Live(job, []), None, on_finish)
                if started is not None:
                    live.append(started)
            if not live:
                return
            answers = self._answer_all(live, on_tokens)
            live = [
                advanced
                for entry, completions in zip(live, answers)
                if (advanced := self._advance(entry, completions, on_finish)) is not None
            ]

    def _answer_all(
        self, live: Sequence[_Live], on_tokens: Callable[[int], None] | None
    ) -> list[list[Completion]]:
        """Send every live program's pending requests in engine calls of <= batch_size rows."""
        flat = [(i, request) for i, entry in enumerate(live) for request in entry.requests]
        answers: list[list[Completion]] = [[] for _ in live]
        batch: list[tuple[int, GenerationRequest]] = []
        rows = 0
        for item in flat:
            if batch and rows + item[1].n > self.batch_size:
                self._send(batch, answers, live, on_tokens)
                batch, rows = [], 0
            batch.append(item)
            rows += item[1].n
        if batch:
            self._send(batch, answers, live, on_tokens)
        return answers

    def _send(self, batch, answers, live, on_tokens) -> None:
        completions = self.engine.generate([request for _, request in batch])
        for (owner, _), completion in zip(batch, completions):
            answers[owner].append(completion)
            live[owner].usage.add(completion)
        if on_tokens is not None:
            on_tokens(sum(s.num_tokens for c in completions for s in c.samples))

    @staticmethod
    def _advance(entry: _Live, completions: list[Completion] | None, on_finish: FinishCallback) -> _Live | None:
        """Step a program to its next request list; report it and drop it when it returns."""
        try:
            requests = entry.job.program.send(completions)
            while not requests:  # a program may yield an empty list: answer it at once
                requests = entry.job.program.send([])
        except StopIteration as stop:
            on_finish(entry.job.key, stop.value, entry.usage)
            return None
        entry.requests = list(requests)
        return entry
