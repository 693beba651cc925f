"""A new strategy is one file plus one registry line: a strategy written and registered inside
this test runs through `foresight run`, `report`, `show` and `sweep`, with no other module
touched. It also asks the model a second question through `context.chat`, the way
self-evaluating searches (Tree-of-Thought, guided decoding) do."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from foresight.cli import main
from foresight.driver import Program
from foresight.engine.types import GenerationRequest
from foresight.strategies import STRATEGIES, RegisteredStrategy, StrategyContext, StrategyResult, Trace
from foresight.tasks.arith_task import ArithTask

CHECK = "Is the last line of your solution right? Answer yes or no."


@dataclass(frozen=True)
class RecheckConfig:
    """Greedy answer, then n sampled replies to a follow-up question about it."""

    name: str = "recheck"
    n: int = 1
    max_tokens: int = 96

    @property
    def label(self) -> str:
        return f"recheck@{self.n}"


@dataclass
class RecheckTrace(Trace):
    title = "recheck"
    first: str
    follow_up: str
    replies: list[str]


def recheck_program(config: RecheckConfig, context: StrategyContext) -> Program:
    (first,) = yield [GenerationRequest(context.prompt, temperature=0.0, max_tokens=config.max_tokens,
                                        seed=context.seed())]
    answer = first.samples[0].text
    follow_up = context.chat([*context.messages, {"role": "assistant", "content": answer},
                              {"role": "user", "content": CHECK}])
    (replies,) = yield [GenerationRequest(follow_up, n=config.n, temperature=1.0, max_tokens=8, seed=context.seed())]
    trace = RecheckTrace(first=answer, follow_up=follow_up, replies=[s.text for s in replies.samples])
    return StrategyResult(response=answer, answer=context.extract(answer), trace=trace)


@pytest.fixture
def recheck(monkeypatch):
    monkeypatch.setitem(STRATEGIES, "recheck", RegisteredStrategy(
        RecheckConfig, recheck_program, "greedy answer, then a follow-up question", RecheckTrace))


def cli(capsys, *args: str) -> str:
    assert main(list(args)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_a_strategy_registered_here_runs_through_run_report_show_and_sweep(recheck, tmp_path, capsys, arith_engine):
    out = tmp_path / "runs"
    table = cli(capsys, "run", "--strategy", "recheck", "--n", "2", "--limit", "2", "--out", str(out), "--no-progress")
    assert "recheck@2" in table
    records = [json.loads(line) for line in (out / "recheck@2" / "records.jsonl").read_text().splitlines()]
    assert len(records) == 2
    task = ArithTask()
    for record, question in zip(records, task.questions()):
        trace = RecheckTrace.from_json(record["trace"])
        assert len(trace.replies) == 2 and trace.first == record["response"]
        conversation = task.messages(question) + [{"role": "assistant", "content": trace.first},
                                                  {"role": "user", "content": CHECK}]
        assert trace.follow_up == arith_engine.render_chat(conversation)  # the model's own template

    report = cli(capsys, "report", str(out), "--out", str(tmp_path / "report"))
    assert "| arith | recheck@2 | n=2 |" in report

    shown = cli(capsys, "show", str(out / "recheck@2"), "--id", records[0]["id"])
    assert "recheck" in shown and "replies" in shown and "follow_up" in shown

    swept = cli(capsys, "sweep", "--strategy", "recheck", "--n", "1,2", "--limit", "2",
                "--out", str(tmp_path / "sweep"), "--no-progress")
    assert "recheck@1" in swept and "recheck@2" in swept
