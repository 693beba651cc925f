"""Run many per-question programs over one engine, batching their requests together.

A *program* is a generator: it yields a list of `GenerationRequest`s, receives the matching
list of `Completion`s, and finally returns its result. The driver keeps up to `max_live`
programs alive, merges their pending requests into engine calls of at most `batch_size`
sample rows, routes each completion back to its program, and accounts every program's tokens.
Strategies thus read like the papers' pseudo-code while the engine always sees large batches.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable, Iterator, Protocol

from foresight.engine.types import DEFAULT_BATCH_SIZE, Completion, Engine, GenerationRequest

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


@dataclass(eq=False)
class _Live:
    """A running program, its outstanding requests and the answers gathered so far."""

    job: Job
    requests: list[GenerationRequest] = field(default_factory=list)
    answers: list[Completion | None] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    def expect(self, requests: list[GenerationRequest]) -> None:
        self.requests, self.answers = requests, [None] * len(requests)


FinishCallback = Callable[[Any, Any, Usage], None]
ErrorCallback = Callable[[Any, BaseException], None]


class ProgramCancelled(Exception):
    """Reported to `serve`'s error callback for a program dropped because its feed cancelled it."""


class JobFeed(Protocol):
    """Where a long-lived driver (`Driver.serve`) gets its jobs, and learns which to drop."""

    def take(self, block: bool) -> Job | None:
        """The next job; with `block` wait for one. None: no job now (or, when blocking, never again)."""
        ...

    def cancelled(self, key: Any) -> bool:
        """Whether the job reported under `key` is no longer wanted."""
        ...


class Driver:
    """Cross-question batching over one engine.

    Pending requests wait in one first-in-first-out queue. Each engine call takes requests from
    its head up to `batch_size` sample rows; a program whose requests are all answered advances
    at once, and its next requests join the tail. A finished program is reported immediately
    (so its record is on disk before the next engine call) and a waiting job takes its place.

    `run` drives a known set of jobs and lets any error end it; `serve` drives jobs that keep
    arriving from a feed (a server's clients), and contains each program's failure to that program.
    """

    def __init__(self, engine: Engine, batch_size: int = DEFAULT_BATCH_SIZE, max_live: int = 256) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_live < 1:
            raise ValueError(f"max_live must be >= 1, got {max_live}")
        self.engine = engine
        self.batch_size = batch_size
        self.max_live = max_live

    def run(self, jobs: Iterable[Job], on_finish: FinishCallback) -> None:
        """Run every job to completion; `on_finish(key, result, usage)` fires as each ends."""
        waiting: Iterator[Job] = iter(jobs)
        self._loop(lambda block: next(waiting, None), on_finish)

    def serve(self, feed: JobFeed, on_finish: FinishCallback, on_error: ErrorCallback) -> None:
        """Run jobs as `feed` hands them over, batched with those already live, until the feed
        closes. A program that raises, whose engine call fails, or that the feed cancels is
        dropped and reported to `on_error(key, exception)` (`ProgramCancelled` for a cancel);
        the others go on."""
        self._loop(feed.take, on_finish, on_error, feed.cancelled)

    def _loop(self, take: Callable[[bool], Job | None], on_finish: FinishCallback,
              on_error: ErrorCallback | None = None, cancelled: Callable[[Any], bool] | None = None) -> None:
        """The driving loop: admit jobs (waiting for one only when nothing is live), drop
        cancelled programs, make one engine call, advance the programs it completed."""
        queue: deque[tuple[_Live, int]] = deque()
        live: set[_Live] = set()
        while True:
            if cancelled is not None and live:
                for entry in [entry for entry in live if cancelled(entry.job.key)]:
                    self._drop(entry, live, ProgramCancelled(), on_error)
                queue = deque(item for item in queue if item[0] in live)
            while len(live) < self.max_live and (job := take(not live)) is not None:
                entry = _Live(job)
                if self._advance(entry, None, on_finish, on_error):
                    queue.extend((entry, i) for i in range(len(entry.requests)))
                    live.add(entry)
            if not queue:
                return
            batch = self._take_batch(queue)
            try:
                completions = self.engine.generate([entry.requests[i] for entry, i in batch])
            except Exception as exc:
                if on_error is None:
                    raise
                for entry in dict.fromkeys(entry for entry, _ in batch):
                    self._drop(entry, live, exc, on_error)
                queue = deque(item for item in queue if item[0] in live)
                continue
            for (entry, i), completion in zip(batch, completions):
                entry.answers[i] = completion
                entry.usage.add(completion)
            for entry in dict.fromkeys(entry for entry, _ in batch):
                if any(answer is None for answer in entry.answers):
                    continue
                if self._advance(entry, entry.answers, on_finish, on_error):
                    queue.extend((entry, i) for i in range(len(entry.requests)))
                else:
                    live.discard(entry)

    def _take_batch(self, queue: deque[tuple[_Live, int]]) -> list[tuple[_Live, int]]:
        """Requests from the head of the queue, up to batch_size rows (at least one request)."""
        batch = [queue.popleft()]
        rows = batch[0][0].requests[batch[0][1]].n
        while queue and rows + queue[0][0].requests[queue[0][1]].n <= self.batch_size:
            entry, i = queue.popleft()
            batch.append((entry, i))
            rows += entry.requests[i].n
        return batch

    @staticmethod
    def _drop(entry: _Live, live: set[_Live], error: BaseException, on_error: ErrorCallback | None) -> None:
        """End a live program early and report why."""
        live.discard(entry)
        entry.job.program.close()
        if on_error is not None:
            on_error(entry.job.key, error)

    @staticmethod
    def _advance(entry: _Live, completions: list[Completion] | None, on_finish: FinishCallback,
                 on_error: ErrorCallback | None = None) -> bool:
        """Step a program to its next requests (True), or report its result when it returns or,
        with `on_error`, when it raises (False)."""
        try:
            requests = entry.job.program.send(completions)
            while not requests:  # a program may yield an empty list: answer it at once
                requests = entry.job.program.send([])
        except StopIteration as stop:
            on_finish(entry.job.key, stop.value, entry.usage)
            return False
        except Exception as exc:
            if on_error is None:
                raise
            on_error(entry.job.key, exc)
            return False
        entry.expect(list(requests))
        return True
