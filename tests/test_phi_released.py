"""SPEC §1 "The `released` preset", point by point, and what the paper default clusters.

Each test builds candidates (or final completions) on which the released rule and the paper rule
choose differently, and checks both: so a test fails if the preset stops doing what the authors'
script does, or if the paper default picks up a script behaviour.
"""

import numpy as np
import pytest
from scripted import drive, sample

from foresight.strategies import make_strategy
from foresight.strategies.phi import (
    PhiConfig, RELEASED_SETTINGS, _choose_final, _should_stop, _step_selection, phi_program,
)
from foresight.strategies.selection import softmax
from foresight.strategies.stepwise import Beam, Candidate

PAPER, RELEASED = PhiConfig(), PhiConfig.released()


def candidate(advantage, foresight, beam=0, step="step"):
    """A kept candidate with its foresight already valued (F_prev of its beam is 0, so F = A)."""
    made = Candidate(beam=beam, step=sample(step), foresight=sample(foresight))
    made.value = made.advantage = advantage
    return made


def open_beams(count=4):
    return [Beam(text="x\n") for _ in range(count)]


# Foresight texts in three clearly separate groups (TF-IDF + 3-means puts each group together).
MAJORITY = "seven plus five makes twelve so the answer is twelve"
OTHER = "nine times two makes eighteen so the answer is eighteen"
THIRD = "four minus one makes three so the answer is three"


def test_filter_excludes_a_high_alignment_candidate_with_non_positive_advantage():
    # Candidate 0 has the best alignment (its foresight is the majority's) but A <= 0.
    kept = [candidate(0.0, MAJORITY), candidate(0.2, MAJORITY), candidate(0.1, MAJORITY),
            candidate(0.3, OTHER), candidate(0.25, THIRD)]
    paper_pool, paper_weights, _, paper_fallback = _step_selection(PAPER, kept, 4, np.random.default_rng(0))
    assert not paper_fallback and paper_pool[0] is kept[0] and paper_weights[0] > 0
    assert kept[0].alignment == pytest.approx(3 / 5) and kept[0].qualified is None

    kept = [candidate(c.advantage, c.foresight.text) for c in kept]
    pool, weights, labels, fallback = _step_selection(RELEASED, kept, 4, np.random.default_rng(0))
    assert not fallback and kept[0] not in pool and len(pool) == 4
    assert [c.qualified for c in kept] == [False, True, True, True, True]
    # C is computed among the qualifying candidates only: 2 of the 4 share the majority foresight
    assert [c.alignment for c in pool] == [0.5, 0.5, 0.25, 0.25] and len(labels) == 4
    advantages, alignments = [c.advantage for c in pool], [c.alignment for c in pool]
    assert np.allclose(weights, (softmax(advantages, 0.1) + softmax(alignments)) / 2)


def test_filter_falls_back_to_softmax_of_advantage_over_all_kept_when_fewer_than_m_qualify():
    # Three have A > 0, but one of them has an empty foresight: 2 qualify for 4 beams.
    kept = [candidate(0.2, MAJORITY), candidate(0.1, ""), candidate(0.05, OTHER),
            candidate(-0.1, THIRD), candidate(-0.3, MAJORITY)]
    pool, weights, labels, fallback = _step_selection(RELEASED, kept, 4, np.random.default_rng(0))
    assert fallback and pool == kept and labels is None  # no clustering, so no cluster stop
    assert [c.qualified for c in kept] == [True, False, True, False, False]
    assert np.allclose(weights, softmax([c.advantage for c in kept], 0.1))
    # the paper rule has no filter and clusters all five
    kept = [candidate(c.advantage, c.foresight.text) for c in kept]
    _, _, labels, fallback = _step_selection(PAPER, kept, 4, np.random.default_rng(0))
    assert not fallback and len(labels) == 5


def test_fallback_is_recorded_in_the_trace_and_shown():
    from rich.console import Console

    from foresight.eval.show import render_record

    # every foresight scores below the beams' start value, so nothing ever qualifies
    result, _ = drive(phi_program, PhiConfig.released(max_steps=2),
                      lambda step, beam, i: sample(f"s{step}{i}"), lambda prompt: sample("end", mean_logprob=-3.0))
    first = result.trace.steps[0]
    assert (first.filter.qualified, first.filter.fallback) == (0, True)
    assert all(c.qualified is False for c in first.candidates if c.kept)
    assert result.trace.final.fallback is True
    record = {"id": "q", "strategy": "phi-released", "question": "?", "gold": "1", "prediction": None,
              "correct": False, "generated_tokens": 1, "trace": result.trace, "response": result.response}
    console = Console(width=200, record=True)
    console.print(render_record(record, result.trace))
    text = console.export_text()
    assert "A>0 filter: 0 qualified" in text and "fallback" in text and "filtered out" in text
    paper, _ = drive(phi_program, PhiConfig(max_steps=2), lambda step, beam, i: sample(f"s{step}{i}"),
                     lambda prompt: sample("end", mean_logprob=-3.0))
    assert paper.trace.steps[0].filter is None and paper.trace.final.fallback is False


def test_depth_threshold_is_strict_in_the_released_preset():
    kept = [candidate(0.1, f"path number {i}") for i in range(10)]
    labels = [0] * 7 + [1, 2, 2]  # the largest cluster holds exactly 0.7
    args = (PAPER.min_steps, kept, labels, ["a", "b", "c", "d"], open_beams())
    assert _should_stop(PAPER, *args) == "depth_threshold"
    assert _should_stop(RELEASED, *args) is None
    assert _should_stop(PhiConfig(strict_depth_threshold=True), *args) is None
    labels = [0] * 8 + [1, 2]  # 0.8 > 0.7 stops both
    assert _should_stop(RELEASED, PAPER.min_steps, kept, labels, ["a", "b", "c", "d"], open_beams()) == "depth_threshold"


def test_identical_selected_steps_stop_released_from_the_fifth_step_but_not_paper():
    kept = [candidate(0.1, text) for text in (MAJORITY, OTHER, THIRD, "one more way to the end")]
    labels = [0, 1, 2, 2]  # largest share 0.5: no cluster stop
    same = ["7 + 5 = 12"] * 4
    assert _should_stop(RELEASED, RELEASED.min_steps + 1, kept, labels, same, open_beams()) == "identical_steps"
    assert _should_stop(RELEASED, RELEASED.min_steps, kept, labels, same, open_beams()) is None
    assert _should_stop(PAPER, PAPER.min_steps + 1, kept, labels, same, open_beams()) is None
    # the paper's identical check is on the foresight texts, from T_min on
    alike = [candidate(0.1, MAJORITY) for _ in range(4)]
    assert _should_stop(PAPER, PAPER.min_steps, alike, [0] * 4, ["a", "b", "c", "d"], open_beams()) == "identical_foresight"
    assert _should_stop(RELEASED, RELEASED.min_steps + 1, alike, None, ["a", "b", "c", "d"], open_beams()) is None


def test_paper_clusters_the_foresight_texts_not_the_step_and_foresight():
    # Very different steps, two kinds of foresight: clusters and alignment follow the foresight.
    steps = ["alpha beta gamma delta", "epsilon zeta eta theta", "iota kappa lambda mu", "nu xi omicron pi"]
    kept = [candidate(0.1, MAJORITY if i % 2 else OTHER, step=steps[i]) for i in range(4)]
    _, _, labels, _ = _step_selection(PAPER, kept, 4, np.random.default_rng(0))
    assert labels[1] == labels[3] != labels[0] == labels[2]
    assert [c.alignment for c in kept] == [0.5] * 4


def finals(completions, advantages, prefixes=None):
    """Beams and their fresh completions for `_choose_final` (each beam's F_prev is 0)."""
    prefixes = prefixes or [f"beam {i}\n" for i in range(len(completions))]
    beams = [Beam(text=prefix) for prefix in prefixes]
    solutions = [(prefix + text, sample(text, mean_logprob=a)) for prefix, text, a in zip(prefixes, completions, advantages)]
    return beams, solutions


def test_released_final_rule_samples_inside_the_larger_cluster_rather_than_taking_the_argmax():
    completions = [MAJORITY, MAJORITY + " indeed", MAJORITY + " surely", OTHER]
    advantages = [0.50, 0.48, 0.46, 0.90]
    chosen = {_choose_final(RELEASED, *finals(completions, advantages), np.random.default_rng(seed))[0] for seed in range(30)}
    assert chosen == {0, 1, 2}  # every member of the larger cluster, never the high-A outsider
    _, trace = _choose_final(RELEASED, *finals(completions, advantages), np.random.default_rng(0))
    weights = [c.weight for c in trace.completions]
    assert np.allclose(weights[:3], softmax(advantages[:3], 0.1)) and weights[3] == 0
    paper = {_choose_final(PAPER, *finals(completions, advantages), np.random.default_rng(seed))[0] for seed in range(30)}
    assert 3 in paper  # the joint rule gives the outsider its share


def test_released_final_rule_filters_breaks_ties_to_the_second_cluster_and_falls_back():
    # A <= 0 for the majority: the filter leaves one of each kind, a 1:1 tie, won by the second cluster
    completions, advantages = [MAJORITY, OTHER, MAJORITY + " again", MAJORITY + " once more"], [0.2, 0.1, -0.1, 0.0]
    for seed in range(20):
        chosen, trace = _choose_final(RELEASED, *finals(completions, advantages), np.random.default_rng(seed))
        assert chosen == 1
    assert [c.qualified for c in trace.completions] == [True, True, False, False] and not trace.fallback
    # nothing qualifies: softmax(A/0.1) over all (the script negates A there; we do not)
    advantages = [-0.05, -0.6, -0.7, -0.8]
    chosen, trace = _choose_final(RELEASED, *finals(completions, advantages), np.random.default_rng(0))
    assert trace.fallback and np.allclose([c.weight for c in trace.completions], softmax(advantages, 0.1))
    picks = [_choose_final(RELEASED, *finals(completions, advantages), np.random.default_rng(s))[0] for s in range(40)]
    assert picks.count(0) > 30


def test_final_choice_clusters_completions_not_their_prefixes():
    # Beams with long, different prefixes but two kinds of completion: clusters follow the completions.
    prefixes = ["alpha beta gamma delta\n" * 3, "epsilon zeta eta theta\n" * 3, "iota kappa lambda\n" * 3, "nu xi omicron\n" * 3]
    completions = [MAJORITY, OTHER, MAJORITY, OTHER]
    _, trace = _choose_final(PAPER, *finals(completions, [0.1] * 4, prefixes), np.random.default_rng(0))
    labels = [c.cluster for c in trace.completions]
    assert labels[0] == labels[2] != labels[1] == labels[3]
    assert trace.completions[0].text == prefixes[0] + MAJORITY and trace.completions[0].completion == MAJORITY


def test_each_released_point_is_its_own_switch_and_the_label_names_it():
    released = make_strategy("phi", preset="released")
    assert all(getattr(released, name) == value for name, value in RELEASED_SETTINGS.items())
    assert released.label == "phi-released"
    assert make_strategy("phi", preset="released", advantage_filter=False).label == "phi-released-no-advantage-filter"
    paper_with_filter = make_strategy("phi", advantage_filter=True)
    assert paper_with_filter.advantage_temperature == 0.6 and paper_with_filter.label == "phi-advantage-filter"
    assert make_strategy("phi", identical_stop="selected_steps").label == "phi-identical-stop-selected_steps"


def test_released_switches_reach_the_config_from_the_cli():
    from foresight.cli import _strategies, build_parser

    args = build_parser().parse_args(["run", "--strategy", "phi", "--preset", "released", "--no-advantage-filter",
                                      "--no-strict-depth-threshold", "--identical-stop", "foresight",
                                      "--advantage-temperature", "0.3"])
    (config,) = _strategies(args)
    assert (config.advantage_filter, config.strict_depth_threshold, config.identical_stop) == (False, False, "foresight")
    assert (config.advantage_temperature, config.final_choice) == (0.3, "largest_of_2_clusters")
    args = build_parser().parse_args(["run", "--strategy", "phi", "--advantage-filter", "--final-choice", "largest_of_2_clusters"])
    (config,) = _strategies(args)
    assert config.advantage_filter and config.final_choice == "largest_of_2_clusters" and config.preset == "paper"


def test_bad_switch_values_are_one_line_errors(tmp_path):
    from foresight.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--strategy", "phi", "--identical-stop", "steps", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert main(["run", "--strategy", "phi", "--advantage-temperature", "0", "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()
