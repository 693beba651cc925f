"""Typed traces: what a program records is what records.jsonl holds and what readers get back."""

import json

import pytest
from scripted import drive, sample

from foresight.errors import DataError
from foresight.strategies import read_trace
from foresight.strategies.phi import PhiConfig, phi_program
from foresight.strategies.predictive import PredictiveConfig, predictive_program
from foresight.strategies.step_traces import FinalCompletion, StepSearchTrace


@pytest.mark.parametrize(("program", "config"), [(phi_program, PhiConfig.released(max_steps=2)),
                                                 (predictive_program, PredictiveConfig(max_steps=2))])
def test_a_step_search_trace_reads_back_as_it_was_written(program, config):
    result, _ = drive(program, config, lambda step, beam, i: sample(f"s{step}{i}", mean_logprob=-0.1 * i),
                      lambda prompt: sample(f"end {len(prompt)}"))
    stored = json.loads(json.dumps(result.trace.to_json()))
    again = read_trace(config.name, stored)
    assert again == result.trace and isinstance(again, StepSearchTrace)
    assert all(isinstance(c, FinalCompletion) for c in again.final.completions)
    assert sum(c.weight for c in again.final.completions) == pytest.approx(1.0)
    assert again.stop_reason in {"max_steps", "all_beams_finished", "identical_steps", "depth_threshold"}


def test_older_records_read_with_defaults_and_plain_final_texts():
    candidate = {"beam": 0, "text": "1 + 1 = 2", "score": -0.1, "terminal": False, "kept": True,
                 "foresight": "The answer is 2.", "F": -0.2, "A": -0.2, "cluster": 0, "C": 1.0,
                 "weight": 1.0, "selected": True}  # before topped_up and qualified were recorded
    older = {"steps": [{"step": 1, "candidates": [candidate]}],
             "final": {"completions": ["1 + 1 = 2\nThe answer is 2."], "chosen": 0}}  # predictive's old final
    trace = read_trace("predictive", older)
    assert trace.stop_reason is None and trace.steps[0].stop is None and trace.steps[0].filter is None
    assert trace.steps[0].candidates[0].topped_up is False and trace.steps[0].candidates[0].qualified is None
    assert trace.final.completions[0].text == "1 + 1 = 2\nThe answer is 2." and trace.final.completions[0].weight is None
    del older["final"]
    with pytest.raises(DataError, match="StepSearchTrace: the trace has no field 'final'"):
        read_trace("predictive", older)
