"""Start the real `foresight serve` app on 127.0.0.1 (uvicorn in a thread, a free port)."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

from foresight.engine.transformers_engine import TransformersEngine
from foresight.serve.auth import KeyRing
from foresight.serve.app import create_app
from foresight.serve.cli import answer_rule
from foresight.serve.host import SharedDriver
from foresight.serve.limits import Limits


class LiveServer:
    """The app `foresight serve` runs, over its own arith engine, on a port of its own."""

    def __init__(self, keys: list[str] = (), **limits) -> None:
        self.limits = Limits(**limits)
        self.host = SharedDriver(TransformersEngine.from_spec("arith", max_batch_size=128))
        app = create_app(self.host, answer_rule("math"), self.limits, KeyRing(list(keys), self.limits.max_in_flight))
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self._thread.join(10)
        self.host.close()
        self._socket.close()

    def health(self) -> dict:
        return httpx.get(f"{self.url}/health").json()

    def wait_for(self, condition, timeout: float = 30.0) -> dict:
        """Poll /health until `condition(health)` holds; returns that health."""
        deadline = time.monotonic() + timeout
        while True:
            health = self.health()
            if condition(health):
                return health
            assert time.monotonic() < deadline, f"health stayed {health}"
            time.sleep(0.1)
