"""Seeded problem streams, shared by the generated tasks (arith, countdown).

Problem ``i`` of stream ``seed`` is drawn from its own generator seeded with ``(seed, i)``, so a
stream is deterministic, a longer list extends a shorter one, and different seeds are
independent streams: the training, held-out, test, benchmark and unlabeled seeds never share a
draw.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import numpy as np

Problem = TypeVar("Problem")


def seeded_stream(name: str, seed: int, count: int, sizes: tuple[int, int],
                  generate: Callable[[np.random.Generator, int, str], Problem]) -> list[Problem]:
    """``count`` problems ``generate(rng, size, "<name>-<seed>-<i>")``, size uniform in ``sizes``."""
    problems = []
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        size = int(rng.integers(sizes[0], sizes[1] + 1))
        problems.append(generate(rng, size, f"{name}-{seed}-{index}"))
    return problems
