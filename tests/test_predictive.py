"""Predictive decoding (SPEC §2) on scripted outputs and on the real model."""

import numpy as np
from scripted import context, drive, sample

from foresight.engine.types import Sample
from foresight.strategies.predictive import PredictiveConfig, look_ahead_score, predictive_program
from foresight.strategies.stepwise import Candidate


def test_score_is_the_mean_over_step_and_foresight_tokens():
    candidate = Candidate(beam=0, step=Sample("a", 2, -1.0, "stop", "\n"), foresight=Sample("b", 8, -2.0, "stop"))
    assert look_ahead_score(candidate) == -3.0 / 10


def test_every_candidate_is_rolled_out_and_the_best_look_ahead_wins():
    config = PredictiveConfig(max_steps=3, selection_temperature=0.01)

    def foresight(prompt):
        good = prompt.endswith("c5\n")  # the candidate whose rollout the model finds most likely
        return sample("rollout", mean_logprob=-0.1 if good else -3.0, tokens=20)

    result, seen = drive(predictive_program, config, lambda step, beam, i: sample(f"c{i}"), foresight)
    assert len(result.trace.steps) == 3
    for step in result.trace.steps:
        assert len(step.candidates) == 8 and all(c.foresight == "rollout" for c in step.candidates)
        assert [c.selected for c in step.candidates].index(True) == 5
    assert result.response.startswith("c5\nc5\nc5\n")
    rollouts_per_step = [len(batch) for batch in seen if batch[0].stop != ("\n",)]
    assert rollouts_per_step == [8, 8, 8, 1]  # 8 look-aheads per step, then the final completion


def test_runs_on_the_real_model(arith_engine, arith_prompt):
    from foresight.driver import Driver, Job

    out = {}
    program = predictive_program(PredictiveConfig(max_steps=3),
                                 context(arith_prompt, lambda t: t, np.random.default_rng(0), arith_engine.render_chat))
    Driver(arith_engine).run([Job("q", program)], lambda key, result, usage: out.update(result=result, usage=usage))
    assert out["result"].response and out["usage"].samples >= 3 * 16
