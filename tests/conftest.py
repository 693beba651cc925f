"""Shared fixtures: the real embedded models, loaded once per test session."""

from __future__ import annotations

import pytest

from foresight.engine.transformers_engine import TransformersEngine


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
