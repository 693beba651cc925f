"""Weighted self-consistency (strategies/wsc.py): the weights, the samples it shares with sc and
bon, and the CLI on both embedded models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cli_runs import cli, read_records
from scripted import context

from foresight.engine.types import Completion, Sample
from foresight.errors import OptionValueError
from foresight.strategies import STRATEGIES, make_strategy
from foresight.strategies.wsc import WeightedVoteTrace

# answer "a": three long, unsure samples; answer "b": two short, sure ones; one without an answer
SAMPLES = (
    Sample("x a", num_tokens=10, logprob=-10.0, finish_reason="stop"),  # mean -1.0
    Sample("y a", num_tokens=10, logprob=-12.0, finish_reason="stop"),  # mean -1.2
    Sample("z a", num_tokens=2, logprob=-2.2, finish_reason="stop"),  # mean -1.1
    Sample("u b", num_tokens=40, logprob=-4.0, finish_reason="stop"),  # mean -0.1
    Sample("v b", num_tokens=40, logprob=-8.0, finish_reason="stop"),  # mean -0.2
    Sample("nothing", num_tokens=3, logprob=-0.3, finish_reason="stop"),
)


def extract(text):
    return text.split()[-1] if " " in text else None


def answer(name, seed=0, samples=SAMPLES, **options):
    """Run strategy `name` on the scripted samples; returns its result and its one request."""
    program = STRATEGIES[name].program(make_strategy(name, n=len(samples), **options),
                                       context("PROMPT", extract, np.random.default_rng(seed)))
    (request,) = program.send(None)
    try:
        program.send([Completion(samples, 3, 3)])
    except StopIteration as stop:
        return stop.value, request
    raise AssertionError("the program asked for more")


def test_mean_logprob_weights_let_two_sure_samples_outvote_three_unsure_ones():
    result, _ = answer("wsc")
    assert result.answer == "b" and result.response == "u b" and result.trace.chosen == 3
    weight_a = sum(math.exp(m) for m in (-1.0, -1.2, -1.1))
    weight_b = math.exp(-0.1) + math.exp(-0.2)
    assert [(t.answer, t.samples) for t in result.trace.tally] == [("b", 2), ("a", 3)]
    assert result.trace.tally[0].share == pytest.approx(weight_b / (weight_a + weight_b))
    assert result.trace.log_weights[:5] == pytest.approx([-1.0, -1.2, -1.1, -0.1, -0.2])


def test_sum_weights_favour_the_likeliest_whole_samples():
    result, _ = answer("wsc", weight="sum")
    weight_a = math.exp(-10) + math.exp(-12) + math.exp(-2.2)
    weight_b = math.exp(-4) + math.exp(-8)
    assert result.answer == "a" and result.response == "x a"  # the supporter of highest mean log-prob
    assert result.trace.tally[0].share == pytest.approx(weight_a / (weight_a + weight_b))


def test_sum_weights_do_not_underflow():
    tiny = tuple(Sample(f"s {a}", 1000, lp, "stop") for a, lp in (("a", -900.0), ("b", -1000.0), ("b", -1000.5)))
    result, _ = answer("wsc", samples=tiny, weight="sum")
    assert result.answer == "a" and result.trace.tally[0].share == pytest.approx(1.0)
    assert result.trace.tally[1].share == pytest.approx(math.exp(-100) * (1 + math.exp(-0.5)), rel=1e-9)


def test_no_weights_is_self_consistency_exactly():
    unweighted, _ = answer("wsc", weight="none")
    majority, _ = answer("sc")
    assert unweighted.answer == majority.answer == "a" and unweighted.response == majority.response
    assert [t.share for t in unweighted.trace.tally] == pytest.approx([0.6, 0.4])


def test_ties_go_to_the_answer_with_the_higher_mean_log_prob_as_in_sc():
    tied = tuple(Sample(f"s {a}", 2, lp, "stop") for a, lp in (("a", -2.0), ("b", -1.0), ("a", -2.0), ("b", -1.0)))
    unweighted, _ = answer("wsc", samples=tied, weight="none")
    majority, _ = answer("sc", samples=tied)
    assert unweighted.answer == majority.answer == "b"


def test_no_answer_at_all():
    silent = tuple(Sample("nothing", 2, -1.0, "stop") for _ in range(3))
    result, _ = answer("wsc", samples=silent)
    assert result.answer is None and result.trace.tally == [] and result.trace.chosen == 0


def test_sc_bon_and_wsc_send_the_same_request_under_one_seed():
    requests = [answer(name, seed=5)[1] for name in ("sc", "bon", "wsc")]
    assert requests[0] == requests[1] == requests[2]
    assert answer("wsc", seed=6)[1].seed != requests[0].seed


@pytest.mark.parametrize("weight, label", [("mean_logprob", "wsc@8"), ("sum", "wsc-sum@8"), ("none", "wsc-none@8")])
def test_labels(weight, label):
    assert make_strategy("wsc", weight=weight).label == label


@pytest.mark.parametrize("option, value", [("weight", "max"), ("n", 0), ("temperature", 0.0)])
def test_bad_settings_are_refused(option, value):
    with pytest.raises(OptionValueError, match=option):
        make_strategy("wsc", **{option: value})


@pytest.mark.parametrize("model", ["arith", "countdown"])
def test_sc_bon_and_wsc_choose_among_identical_samples_on_the_embedded_models(model, tmp_path, capsys):
    out = tmp_path / "runs"
    code, table, err = cli(capsys, "run", "--task", model, "--model", model, "--strategy", "sc,bon,wsc", "--n", "4",
                           "--limit", "2", "--out", str(out), "--no-progress")
    assert code == 0, err
    assert "wsc@4" in table
    runs = {label: read_records(out / label)
            for label in ("sc@4", "bon@4", "wsc@4")}
    assert [len(records) for records in runs.values()] == [2, 2, 2]
    for sc, bon, wsc in zip(*runs.values()):
        texts = [[s["text"] for s in record["trace"]["samples"]] for record in (sc, bon, wsc)]
        assert texts[0] == texts[1] == texts[2] and len(texts[0]) == 4
        trace = WeightedVoteTrace.from_json(wsc["trace"])
        assert wsc["response"] == trace.samples[trace.chosen].text
    code, shown, err = cli(capsys, "show", str(out / "wsc@4"), "--id", runs["wsc@4"][0]["id"])
    assert code == 0, err
    assert "weighted tally" in shown and "log weight" in shown


@pytest.mark.parametrize("flags, message", [
    (["--weight", "max"], "argument --weight: invalid choice"),
    (["--strategy", "sc", "--weight", "sum"], "--weight does not apply to strategy sc"),
    (["--n", "0"], "--n must be at least 1, got 0"),
])
def test_bad_flags_are_one_line_errors(flags, message, tmp_path, capsys):
    code, _, err = cli(capsys, "run", "--strategy", "wsc", "--limit", "1", "--out", str(tmp_path), *flags)
    assert code == 2 and message in err and err.count("\n") == 1
