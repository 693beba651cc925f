"""What every local inference server process shares: a free port on 127.0.0.1, a log file,
waiting for /health, and stopping the whole process group (a server may run its engine as a
child process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from foresight.errors import ServerError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(process: subprocess.Popen, url: str, wait: float, name: str, model: Path) -> bool:
    """Poll `url`/health until it answers 200 (True) or `wait` seconds pass (False); a process
    that exits meanwhile is a `ServerError` naming `name` and `model`."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"{name} exited with {process.returncode} while starting (model {model})")
        try:
            if httpx.get(f"{url}/health", timeout=2.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return False


class LoopbackServer:
    """A server process on 127.0.0.1: `with Server(...) as server:` starts it, waits until
    /health answers and stops it. A subclass names itself, gives its command line (and
    environment), and how long it may take to start and to stop."""

    name = "server"
    start_wait = 120.0  # seconds to become healthy
    stop_wait = 10.0  # seconds between SIGTERM and SIGKILL

    def __init__(self, model: Path, *, port: int | None = None, log: Path | None = None) -> None:
        self.model = model
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def start(self, wait: float | None = None) -> "LoopbackServer":
        """Start the process (in its own process group) and wait until it answers /health."""
        wait = self.start_wait if wait is None else wait
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(self.command(), stdout=output, stderr=subprocess.STDOUT,
                                        env=self.environment(), start_new_session=True)
        if not wait_until_healthy(self.process, self.url, wait, self.name, self.model):
            self.stop()
            raise ServerError(f"{self.name} on {self.url} did not become healthy in {wait:.0f} s")
        return self

    def kill(self) -> None:
        """SIGKILL to the process group: the server vanishes mid-request, as a crashed one would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after `stop_wait` seconds."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_wait)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
