"""Voting and selection rules of the sampling strategies."""

import pytest

from foresight.errors import ConfigError
from foresight.strategies import make_strategy
from foresight.strategies.sampling import majority_vote


def test_majority_vote_counts_then_breaks_ties_by_mean_logprob():
    assert majority_vote(["3", "4", "3", None], [-1.0, -0.1, -1.0, -0.01]) == "3"
    assert majority_vote(["3", "4", "4", "3"], [-0.5, -0.2, -0.3, -0.4]) == "4"
    assert majority_vote([None, None], [-1.0, -2.0]) is None


def test_make_strategy_validates_options():
    assert make_strategy("sc", n=16).label == "sc@16"
    assert make_strategy("cot").label == "cot"
    with pytest.raises(ConfigError, match="unknown strategy 'beam'"):
        make_strategy("beam")
    with pytest.raises(ConfigError, match="n must be at least 1"):
        make_strategy("bon", n=0)
    with pytest.raises(ConfigError, match="has no option n"):
        make_strategy("cot", n=4)
