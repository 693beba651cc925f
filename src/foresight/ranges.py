"""Allowed ranges of settings, defined once for both places that check them.

A config dataclass checks its fields with `Range.check` in `__post_init__` (so a library user
gets the same refusal as the command line), and a command-line flag that is no config field
(engine and run flags) parses through `Range.flag`, so a bad value is a one-line usage error
before anything loads. Every test is written so that NaN fails it.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any, Callable

from foresight.errors import OptionValueError


@dataclass(frozen=True)
class Range:
    """A test a value must pass, and the words that say what passes it."""

    test: Callable[[Any], bool]
    allowed: str

    def check(self, config: Any, *names: str) -> None:
        """Raise OptionValueError for the first of `config`'s fields `names` outside the range."""
        for name in names:
            value = getattr(config, name)
            if not self.test(value):
                raise OptionValueError(name, self.allowed, value)

    def flag(self, kind: type = int) -> Callable[[str], Any]:
        """An argparse `type` reading an int (or float) in this range."""

        def parse(text: str) -> Any:
            try:
                value = kind(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None
            if not self.test(value):
                raise argparse.ArgumentTypeError(f"must be {self.allowed}, got {text}")
            return value

        return parse


AT_LEAST_0 = Range(lambda v: v >= 0, "at least 0")
AT_LEAST_1 = Range(lambda v: v >= 1, "at least 1")
POSITIVE = Range(lambda v: 0 < v < math.inf, "a finite number above 0")
NON_NEGATIVE = Range(lambda v: 0 <= v < math.inf, "a finite number of at least 0")
UNIT_INTERVAL = Range(lambda v: 0 < v <= 1, "in (0, 1]")
FRACTION = Range(lambda v: 0 <= v < 1, "in [0, 1)")
#: A cap on generated tokens: the engine sets aside room for that many per row, so the cap is
#: bounded by the longest context of current models (128K tokens).
TOKEN_COUNT = Range(lambda v: 1 <= v <= 2**17, f"between 1 and {2**17}")
#: Seeds reach numpy's and torch's global seeding (Genius training), which take 32 bits.
SEED = Range(lambda v: 0 <= v < 2**32, f"between 0 and {2**32 - 1}")
