"""φ-Decoding's control flow (SPEC §1) on scripted model outputs, and end to end on the real model.

The scripted tests answer the program's requests with constructed samples, so that each rule
(depth pruning and T_min, the kept trigger step, finished beams, empty texts) is exercised
exactly; the real-model tests check seeding and the trace on the embedded model.
"""

import dataclasses

from scripted import drive, sample

from foresight.strategies import make_strategy
from foresight.strategies.phi import PhiConfig, phi_program


def test_t_min_is_respected_and_the_trigger_step_is_kept():
    config = PhiConfig()
    result, _ = drive(phi_program, config, lambda step, beam, i: sample(f"step{step}"), lambda prompt: sample("same ending"))
    steps = result.trace.steps
    assert len(steps) == config.min_steps  # identical foresight from step 1, but no stop before T_min
    assert result.trace.stop_reason == "identical_foresight" and steps[-1].stop == "identical_foresight"
    assert all(step.stop is None for step in steps[:-1])
    assert f"step{config.min_steps}\n" in result.response  # the step that triggered the stop is kept
    assert f"step{config.min_steps + 1}" not in result.response


def test_largest_cluster_share_stops_at_delta():
    endings = ["12 + 30 = 42 The answer is 42"] * 3 + ["7 * 7 = 49 The answer is 49"]
    config = PhiConfig(beams=2, rollouts=2, width_pruning=False)
    counter = iter(range(10_000))
    result, _ = drive(phi_program, config, lambda step, beam, i: sample(f"s{step}"),
                      lambda prompt: sample(endings[next(counter) % 4]))
    assert result.trace.stop_reason == "depth_threshold" and len(result.trace.steps) == config.min_steps
    last = [c for c in result.trace.steps[-1].candidates if c.kept]
    assert sorted(c.C for c in last) == [0.25, 0.75, 0.75, 0.75]


def test_without_depth_pruning_runs_t_max_steps():
    config = PhiConfig(depth_pruning=False, max_steps=6)
    result, _ = drive(phi_program, config, lambda step, beam, i: sample(f"step{step}"), lambda prompt: sample("same"))
    assert len(result.trace.steps) == 6 and result.trace.stop_reason == "max_steps"


def test_finished_beams_stop_stepping_and_skip_completion():
    config = PhiConfig(beams=2, rollouts=2)
    result, seen = drive(phi_program, config, lambda step, beam, i: sample(f"The answer is {step}", ended=step == 2),
                         lambda prompt: sample("The answer is 2"))
    assert result.trace.stop_reason == "all_beams_finished" and len(result.trace.steps) == 2
    assert result.answer == "2" and result.response.endswith("The answer is 2")
    assert not any(r.stop != ("\n",) and r.prompt.endswith("The answer is 2") for batch in seen for r in batch)


def test_all_empty_texts_do_not_break_the_search():
    result, _ = drive(phi_program, PhiConfig(), lambda step, beam, i: sample(""), lambda prompt: sample(""))
    assert result.trace.stop_reason == "identical_foresight"
    for step in result.trace.steps:
        kept = [c for c in step.candidates if c.kept]
        assert all(c.C == 1.0 for c in kept)


def test_width_pruning_and_the_trace_fields():
    scores = [-0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -0.1, -4.0]
    result, _ = drive(phi_program, PhiConfig(), lambda step, beam, i: sample(f"c{i}", mean_logprob=scores[i % 16]),
                      lambda prompt: sample("x " + prompt[-3:]))
    first = result.trace.steps[0].candidates
    assert len(first) == 16 and [c.kept for c in first].count(False) == 1 and not first[-1].kept
    expected = {"beam", "text", "score", "kept", "topped_up", "foresight", "F", "A", "cluster", "C", "weight", "selected"}
    assert expected <= set(first[0].to_json())
    assert sum(c.selected for c in first) == 4
    assert abs(sum(c.weight for c in first if c.kept) - 1.0) < 1e-9


def test_no_foresight_ablation_requests_no_rollouts():
    config = PhiConfig(foresight=False, max_steps=3)
    _, seen = drive(phi_program, config, lambda step, beam, i: sample(f"s{step}"), lambda prompt: sample("final"))
    rollouts = [r for batch in seen for r in batch if r.stop != ("\n",)]
    assert len(rollouts) == config.beams  # only the final completions


def test_released_preset_differs_exactly_where_the_spec_says():
    paper, released = PhiConfig(), PhiConfig.released()
    differing = {f.name for f in dataclasses.fields(PhiConfig) if getattr(paper, f.name) != getattr(released, f.name)}
    assert differing == {"advantage_temperature", "alignment_temperature", "advantage_filter", "strict_depth_threshold",
                         "identical_stop", "final_choice", "preset"}
    assert (released.advantage_temperature, released.alignment_temperature) == (0.1, 1.0)
    assert released.advantage_filter and released.strict_depth_threshold
    assert (released.identical_stop, released.final_choice) == ("selected_steps", "largest_of_2_clusters")
    assert make_strategy("phi", preset="released").label == "phi-released"
    assert make_strategy("phi", foresight=False, depth_pruning=False).label == "phi-no-foresight-no-depth-pruning"


def test_same_seed_same_search_on_the_real_model(arith_engine, arith_prompt):
    from strategy_checks import same_seed_same_search

    config = PhiConfig(max_steps=5)
    steps = same_seed_same_search(phi_program, config, arith_engine, arith_prompt)["result"].trace.steps
    assert 1 <= len(steps) <= 5 and all(len(s.candidates) <= config.beams * config.rollouts for s in steps)


def test_step_value_accuracy_counts_only_discriminative_steps():
    from foresight.eval.step_values import step_value_counts
    from foresight.strategies.sampling import VoteTrace
    from foresight.strategies.step_traces import CandidateTrace, FinalTrace, StepSearchTrace, StepTrace
    from foresight.tasks.math_answers import extract_math_answer, math_answers_equal

    def candidate(text, foresight, weight, kept=True):
        return CandidateTrace(beam=0, text=text, score=0.0, terminal=False, kept=kept, foresight=foresight, F=0.0,
                              A=0.0, cluster=-1, C=0.0, weight=weight, selected=False)

    trace = StepSearchTrace(steps=[StepTrace(number, candidates) for number, candidates in enumerate([
        [candidate("1 + 1 = 2", "The answer is 5.", 0.7), candidate("1 + 2 = 3", "The answer is 6.", 0.3)],
        [candidate("a", "The answer is 5.", 0.2), candidate("b", "The answer is 6.", 0.8)],
        [candidate("c", "The answer is 5.", 0.5), candidate("d", "The answer is 5.", 0.5)],
        [candidate("e", "The answer is 6.", 0.9, kept=False), candidate("f", "The answer is 5.", 0.1)],
    ], start=1)], final=FinalTrace([], chosen=0))
    counts = step_value_counts(trace, extract_math_answer, math_answers_equal, "5")
    assert counts == {"discriminative_steps": 2, "accurate_steps": 1}
    assert step_value_counts(trace, extract_math_answer, math_answers_equal, None) is None
    assert step_value_counts(VoteTrace([], votes=0), extract_math_answer, math_answers_equal, "5") is None


def test_the_embedded_model_is_trained_on_phi_step_format(arith_engine):
    """Step search starts in-distribution: the arith model's answers open with phi's step prefix."""
    from foresight.engine.types import GenerationRequest
    from foresight.models.train_arith import ANSWER_PREFIX
    from foresight.strategies.phi import STEP_PREFIX

    assert ANSWER_PREFIX == STEP_PREFIX
    prompt = arith_engine.render_chat([{"role": "user", "content": "Mia has 12 pens. Mia finds 30 pens. How many pens does Mia have now?"}])
    (completion,) = arith_engine.generate([GenerationRequest(prompt, temperature=0.0, max_tokens=60)])
    assert completion.samples[0].text.startswith(STEP_PREFIX)
