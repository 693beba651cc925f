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
import sys
from pathlib import Path

from foresight.servers.loopback import LoopbackServer


class VllmServer(LoopbackServer):
    """One vLLM OpenAI server on 127.0.0.1; `with VllmServer(model_dir, name=...) as server:`.
    Its engine core is a child process, which stopping the process group ends too."""

    name = "vLLM's server"
    start_wait = 600.0  # loading takes tens of seconds, minutes on busy cores
    stop_wait = 30.0

    def __init__(self, model: Path, *, name: str, dtype: str = "float32", max_model_len: int = 512,
                 port: int | None = None, log: Path | None = None) -> None:
        super().__init__(model, port=port, log=log)
        self.served_name, self.dtype, self.max_model_len = name, dtype, max_model_len

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model),
            "--served-model-name", self.served_name, "--host", "127.0.0.1", "--port", str(self.port),
            "--dtype", self.dtype, "--max-model-len", str(self.max_model_len), "--enforce-eager",
            "--seed", "0", "--enable-prompt-tokens-details", "--no-enable-chunked-prefill",
        ]

    def environment(self) -> dict[str, str]:
        return os.environ | {"VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
