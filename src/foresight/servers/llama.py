"""llama.cpp's `llama-server` as a local process: find or build it, convert a model, run it.

Used by the integration tests and `benchmarks/http_throughput.py`, and handy by hand:

    bash scripts/build_llama_server.sh                 # ~11 min on 2 cores, cached by version
    python -m foresight.servers.llama convert arith /tmp/arith.gguf
    python -m foresight.servers.llama serve /tmp/arith.gguf --port 8080

The build lives in `${XDG_CACHE_HOME:-~/.cache}/foresight/llama.cpp-<version>/` (see the
script for why it is built from llama-cpp-python's sdist).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from foresight.errors import ConfigError, ServerError
from foresight.servers.loopback import LoopbackServer

#: The llama-cpp-python sdist whose vendored llama.cpp is built (its server honours n > 1).
LLAMA_CPP_PYTHON_VERSION = "0.3.36"
BUILD_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "build_llama_server.sh"


def ensure_built(version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    """The cached build directory, building it first (minutes) when missing."""
    if not BUILD_SCRIPT.is_file():
        raise ConfigError(f"llama-server is not built and {BUILD_SCRIPT} is missing: run it from a source checkout")
    env = os.environ | {"LLAMA_CPP_PYTHON_VERSION": version}
    done = subprocess.run(["bash", str(BUILD_SCRIPT)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        raise ServerError(f"building llama-server failed (exit {done.returncode}): {tail}")
    return Path(done.stdout.strip().splitlines()[-1])


def convert_to_gguf(model_dir: Path, out: Path, outtype: str = "f32", build: Path | None = None) -> Path:
    """Convert a transformers checkpoint with the vendored `convert_hf_to_gguf.py` (cached: an
    existing `out` is reused)."""
    if out.is_file():
        return out
    build = build or ensure_built()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    done = subprocess.run(
        [sys.executable, str(build / "convert_hf_to_gguf.py"), str(model_dir), "--outfile", str(partial), "--outtype", outtype],
        capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(build / "gguf-py")},
    )
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        raise ServerError(f"converting {model_dir} to GGUF failed: {tail}")
    partial.rename(out)
    return out


def embedded_arith_gguf(build: Path | None = None) -> Path:
    """The embedded arith model as an f32 GGUF, cached next to the build, keyed by its files'
    contents (a retrained model gets a new file)."""
    from foresight.models import arith_model_dir

    build = build or ensure_built()
    directory = arith_model_dir()
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer.model", "tokenizer_config.json"):
        digest.update((directory / name).read_bytes())
    return convert_to_gguf(directory, build / "models" / f"arith-{digest.hexdigest()[:12]}-f32.gguf", "f32", build)


class LlamaServer(LoopbackServer):
    """One llama-server process on 127.0.0.1; `with LlamaServer(...) as server:` starts and stops it.

    `exact=True` keeps the KV cache in f32 and flash attention off: llama-server's default f16
    cache moves an f32 model's log-probs by up to 2e-2 nats per token, f32 by about 2e-5.
    Weight repacking is off: on CPUs that report AMX it routes quantized weights to AMX kernels,
    which crash here (SIGSEGV in ggml_backend_amx_mul_mat loading SmolLM2's Q4_1).
    """

    name = "llama-server"

    def __init__(self, model: Path, *, alias: str, parallel: int = 4, context: int = 4096, threads: int = 1,
                 exact: bool = False, port: int | None = None, build: Path | None = None,
                 log: Path | None = None) -> None:
        super().__init__(model, port=port, log=log)
        self.build = build or ensure_built()
        self.alias, self.parallel, self.context, self.threads = alias, parallel, context, threads
        self.exact = exact

    def command(self) -> list[str]:
        return [
            str(self.build / "bin" / "llama-server"), "-m", str(self.model), "--alias", self.alias,
            "--host", "127.0.0.1", "--port", str(self.port), "-np", str(self.parallel),
            # the context is split over the slots: give each slot `context` tokens
            "-c", str(self.context * self.parallel), "-t", str(self.threads), "-tb", str(self.threads),
            "--no-webui", "--no-repack",
        ] + (["-fa", "off", "-ctk", "f32", "-ctv", "f32"] if self.exact else [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m foresight.servers.llama", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("convert", help="convert a model (embedded name or checkpoint directory) to GGUF")
    convert.add_argument("model")
    convert.add_argument("out", type=Path)
    convert.add_argument("--outtype", default="f32")
    serve = commands.add_parser("serve", help="run llama-server on 127.0.0.1 until interrupted")
    serve.add_argument("gguf", type=Path)
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--parallel", type=int, default=4)
    serve.add_argument("--threads", type=int, default=1)
    serve.add_argument("--exact", action="store_true", help="f32 KV cache, no flash attention (log-probs as in f32)")
    args = parser.parse_args(argv)
    if args.command == "convert":
        from foresight.engine.loading import resolve_model

        print(convert_to_gguf(resolve_model(args.model).directory, args.out, args.outtype))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops the server too
    with LlamaServer(args.gguf, alias=args.gguf.stem, parallel=args.parallel, threads=args.threads,
                     exact=args.exact, port=args.port) as server:
        print(f"serving {args.gguf} on {server.url} (Ctrl-C stops)", flush=True)
        try:
            server.process.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
