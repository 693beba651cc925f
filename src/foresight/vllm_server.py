"""vLLM's OpenAI-compatible server as a local process, for the engines benchmark and by hand.

    python -m vllm.entrypoints.openai.api_server --model DIR --served-model-name NAME \\
        --dtype float32 --max-model-len 512 --enforce-eager --seed 0 --port PORT

Choice i of an n > 1 request is seeded `seed + i`, the rule `completions_api.sample_seed`
assumes, so the HTTP engine may split requests freely. `--enable-prompt-tokens-details` makes
the server report prefix-cache hits (`usage.prompt_tokens_details.cached_tokens`), which the
HTTP engine subtracts from prefill. Ready in about 27 s on idle cores.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from foresight.errors import ServerError
from foresight.llama_server import free_port, wait_until_healthy


class VllmServer:
    """One vLLM OpenAI server on 127.0.0.1; `with VllmServer(model_dir, name=...) as server:`."""

    def __init__(self, model: Path, *, name: str, dtype: str = "float32", max_model_len: int = 512,
                 port: int | None = None, log: Path | None = None) -> None:
        self.model, self.name, self.dtype, self.max_model_len = model, name, dtype, max_model_len
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 600.0) -> "VllmServer":
        """Start the process and wait until /health answers (loading takes tens of seconds)."""
        command = [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model),
            "--served-model-name", self.name, "--host", "127.0.0.1", "--port", str(self.port),
            "--dtype", self.dtype, "--max-model-len", str(self.max_model_len), "--enforce-eager",
            "--seed", "0", "--enable-prompt-tokens-details", "--no-enable-chunked-prefill",
        ]
        env = os.environ | {"VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        if not wait_until_healthy(self.process, self.url, wait, "vLLM's server", self.model):
            self.stop()
            raise ServerError(f"vLLM's server on {self.url} did not become healthy in {wait:.0f} s")
        return self

    def stop(self) -> None:
        """SIGTERM to the whole process group (the server runs its engine core as a child)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> "VllmServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
