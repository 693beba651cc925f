"""The shared driver: one thread runs `Driver.serve` over the engine for every request.

Request handlers (on the asyncio loop) `submit` a program and await the concurrent future it
returns; the driver thread takes submitted programs between engine calls, so all requests in
flight are batched together. The future is also the cancel switch: cancelling it (a client that
disconnected, a timeout) makes the driver drop the program before its next engine call.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, InvalidStateError
from typing import Any, Callable

from foresight.driver import Driver, Job, Program, ProgramCancelled, Usage
from foresight.engine.types import DEFAULT_BATCH_SIZE, Engine

_CLOSED = object()


class SharedDriver:
    """A long-lived driver thread fed from a queue; also the feed (`JobFeed`) it reads."""

    def __init__(self, engine: Engine, batch_size: int = DEFAULT_BATCH_SIZE, max_live: int = 1024) -> None:
        self.engine = engine
        self._driver = Driver(engine, batch_size=batch_size, max_live=max_live)
        self._inbox: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._thread = threading.Thread(target=self._serve, name="foresight-driver", daemon=True)
        self._thread.start()

    @property
    def programs_in_flight(self) -> int:
        """Programs submitted and not yet finished, failed or dropped."""
        with self._lock:
            return self._in_flight

    def submit(self, program: Program) -> Future:
        """Queue a program; the future resolves to (result, usage), or to the error it raised."""
        future: Future = Future()
        with self._lock:
            self._in_flight += 1
        self._inbox.put(Job(future, program))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Stop after the programs in flight (new ones are no longer taken)."""
        self._inbox.put(_CLOSED)
        self._thread.join(timeout)

    # ----- the feed, called on the driver thread ---------------------------------------------

    def take(self, block: bool) -> Job | None:
        while True:
            try:
                job = self._inbox.get(block=block)
            except queue.Empty:
                return None
            if job is _CLOSED:
                return None
            if not job.key.cancelled():
                return job
            job.program.close()
            self._ended()

    @staticmethod
    def cancelled(key: Future) -> bool:
        return key.cancelled()

    def _serve(self) -> None:
        self._driver.serve(self, self._finished, self._failed)

    def _finished(self, future: Future, result: Any, usage: Usage) -> None:
        self._settle(future, lambda: future.set_result((result, usage)))

    def _failed(self, future: Future, error: BaseException) -> None:
        if isinstance(error, ProgramCancelled):
            self._ended()
        else:
            self._settle(future, lambda: future.set_exception(error))

    def _settle(self, future: Future, settle: Callable[[], None]) -> None:
        try:
            settle()
        except InvalidStateError:  # cancelled between the driver's last check and now
            pass
        self._ended()

    def _ended(self) -> None:
        with self._lock:
            self._in_flight -= 1
