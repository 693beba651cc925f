"""The shared vocabulary of decoding strategies, on one page.

A strategy is three things, registered under a name in `foresight.strategies.STRATEGIES`:

* a config dataclass (defaults = the papers' settings; help text on every field);
* a program function `program(config, context) -> Program`: a generator that yields engine
  requests, receives their completions, and returns a `StrategyResult`;
* a trace type: a dataclass deriving from `Trace`, the typed record of how the program reached
  its answer (written to records.jsonl with `to_json`, read back by `show` with `from_json`).

The program learns about its question only through its `StrategyContext`: the question text,
the rendered prompt, `chat()` for asking the model any further conversation through its own
chat template, the task's answer extractor, and the question's own random generator. It never
sees the gold answer, so the same program serves evaluation runs, Genius and the HTTP proxy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence, TypeVar, Union

import numpy as np

from foresight.driver import Program
from foresight.errors import DataError

AnswerExtractor = Callable[[str], "str | None"]
Message = dict[str, str]
ChatRenderer = Callable[[Sequence[Message]], str]
T = TypeVar("T", bound="Trace")


def question_rng(seed: int, question_id: str) -> np.random.Generator:
    """A question's own generator: its draws do not depend on which other questions run, so a
    question gets the same search in a batch of one or of thousands, on the CLI or the proxy."""
    digest = int.from_bytes(hashlib.sha256(question_id.encode()).digest()[:8], "little")
    return np.random.default_rng([seed, digest])


def request_seed(rng: np.random.Generator) -> int:
    """A fresh engine seed drawn from the question's generator."""
    return int(rng.integers(0, 2**62))


@dataclass(frozen=True)
class StrategyContext:
    """Everything a strategy program may know about its question, and nothing that decides
    its score (no gold answer, no checker).

    `prompt` is `messages` rendered by `render` (the model's chat template, ending inside a fresh
    assistant turn); where a client sent raw prompt text (the proxy's /v1/completions),
    `messages` is empty and `prompt` is that text. `chat(messages)` renders any other
    conversation by the very same function as the prompt, so a second question to the model
    (a self-evaluation, a vote between partial solutions) gets the template, special tokens and
    generation prompt the first one got. `rng` is the question's generator, the only source of
    seeds (`seed()` draws an engine seed from it).
    """

    question: str
    prompt: str
    render: ChatRenderer
    extract: AnswerExtractor
    rng: np.random.Generator
    messages: tuple[Message, ...] = ()
    question_id: str | None = None

    def chat(self, messages: Sequence[Message]) -> str:
        """`messages` rendered through the model's chat template, ending in a fresh assistant turn."""
        return self.render(list(messages))

    def seed(self) -> int:
        """A fresh engine seed from the question's generator."""
        return request_seed(self.rng)

    @classmethod
    def for_messages(cls, render: ChatRenderer, messages: Sequence[Message], extract: AnswerExtractor,
                     seed: int, question_id: str, question: str) -> "StrategyContext":
        """The context of a question asked as chat `messages`, seeded as `foresight run` seeds it."""
        return cls(question=question, prompt=render(list(messages)), render=render, extract=extract,
                   rng=question_rng(seed, question_id), messages=tuple(messages), question_id=question_id)


class Trace:
    """Base of the typed trace records: subclass it as a `@dataclass` whose fields are JSON
    values, `Trace` subclasses, lists of them, or Optional ones, and it reads and writes itself:

        @dataclass
        class VoteTrace(Trace):
            samples: list[SampleTrace]
            votes: int = 0

    `to_json()` gives the plain dict stored in records.jsonl; `from_json(data)` builds the typed
    record back, nested records included. A field with a default may be missing from the data
    (a record written before the field existed reads with the default); a required one missing
    is a DataError naming the type and field. A field whose records were once written in
    another shape declares `field(metadata={"older": convert})`, `convert` mapping the old JSON
    value to the current one before it is read.
    """

    #: What `show` calls this kind of trace (default: the class name).
    title: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        return {f.name: _to_json(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_json(cls: type[T], data: Any) -> T:
        if not isinstance(data, dict):
            raise DataError(f"{cls.__name__}: expected a JSON object, got {data!r:.80}")
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise DataError(f"{cls.__name__}: the trace has no field '{f.name}'")
                continue
            raw = data[f.name]
            if "older" in f.metadata:
                raw = f.metadata["older"](raw)
            values[f.name] = _from_json(hints[f.name], raw, f"{cls.__name__}.{f.name}")
        return cls(**values)


def _to_json(value: Any) -> Any:
    if isinstance(value, Trace):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    return value


def _from_json(kind: Any, raw: Any, where: str) -> Any:
    """`raw` read as type `kind`: Trace subclasses and lists of them built, other values as they are."""
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        return None if raw is None else _from_json(options[0], raw, where) if len(options) == 1 else raw
    if origin in (list, tuple):
        if not isinstance(raw, list):
            raise DataError(f"{where}: expected a list, got {raw!r:.80}")
        (item,) = typing.get_args(kind)[:1]
        return [_from_json(item, v, f"{where}[{i}]") for i, v in enumerate(raw)]
    if isinstance(kind, type) and issubclass(kind, Trace):
        return kind.from_json(raw)
    return raw


@dataclass(frozen=True)
class StrategyResult:
    """What a strategy settles on for one question, and how it got there."""

    response: str
    answer: str | None
    trace: Trace


ProgramFunction = Callable[[Any, StrategyContext], Program]


def config_dict(config: Any) -> dict[str, Any]:
    """A strategy config as a plain dict (tuples as lists), for config.json and hashing."""
    return json_ready(dataclasses.asdict(config))


def json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value
