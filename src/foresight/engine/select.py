"""Which engine a command runs on, chosen by its command-line flags (one place for every command).

    --model SPEC            the model: embedded name, checkpoint directory or .gguf file
    --server URL            run on an OpenAI-compatible server instead (repeatable: load is
                            spread over all); --model (or --tokenizer) then gives only the
                            tokenizer and chat template, never weights
    --engine vllm           run in-process on vLLM (the `vllm` extra) instead of transformers
"""

from __future__ import annotations

import argparse
import os

from foresight.engine.types import DEFAULT_BATCH_SIZE
from foresight.errors import ConfigError
from foresight.ranges import AT_LEAST_0, AT_LEAST_1, NON_NEGATIVE, POSITIVE

#: Flags that only mean something with --server, and their defaults.
SERVER_DEFAULTS = {"tokenizer": None, "num_parameters": None, "concurrency": 16, "retries": 3,
                   "retry_delay": 0.5, "timeout": 600.0}


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the model/engine flags to a command's parser."""
    parser.add_argument("--model", default="arith", help="embedded name (arith, smollm2), checkpoint directory or .gguf file")
    parser.add_argument("--engine", choices=("transformers", "vllm"), default="transformers",
                        help="in-process engine (default transformers; vllm needs the vllm extra)")
    parser.add_argument("--batch-size", type=AT_LEAST_1.flag(), default=DEFAULT_BATCH_SIZE, help=f"most sample rows per engine call (default {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--threads", type=AT_LEAST_1.flag(), default=None, help="CPU threads for torch (default: torch's choice)")
    server = parser.add_argument_group("inference servers")
    server.add_argument("--server", action="append", default=None, metavar="URL",
                        help="OpenAI-compatible completions server (llama-server, vLLM, SGLang); repeat to spread load")
    server.add_argument("--tokenizer", default=None, help="with --server: tokenizer source if not --model (name, directory or .gguf)")
    server.add_argument("--num-parameters", type=AT_LEAST_1.flag(), default=None, help="with --server: parameter count for FLOPs, if the server does not report it")
    server.add_argument("--concurrency", type=AT_LEAST_1.flag(), default=None, help=f"with --server: requests in flight (default {SERVER_DEFAULTS['concurrency']})")
    server.add_argument("--retries", type=AT_LEAST_0.flag(), default=None, help=f"with --server: retries of a failed request (default {SERVER_DEFAULTS['retries']})")
    server.add_argument("--retry-delay", type=NON_NEGATIVE.flag(float), default=None, help=f"with --server: first retry delay in seconds, doubling (default {SERVER_DEFAULTS['retry_delay']})")
    server.add_argument("--timeout", type=POSITIVE.flag(float), default=None, help=f"with --server: seconds to wait for a server's next bytes (default {SERVER_DEFAULTS['timeout']:.0f})")


def check_threads(threads: int | None) -> None:
    """More torch threads than CPUs only slows every thread down (and a huge count exhausts the
    machine), so --threads is bounded by the CPUs here."""
    cpus = os.cpu_count() or 1
    if threads is not None and threads > cpus:
        raise ConfigError(f"--threads must be at most {cpus} (the CPUs of this machine), got {threads}")


def check_engine_args(args: argparse.Namespace) -> None:
    """Refuse flag combinations no engine can honour, before anything loads (each value's own
    range is checked where argparse reads it)."""
    if not args.model.strip():
        raise ConfigError("--model needs a name (arith, smollm2), a checkpoint directory or a .gguf file, got an empty one")
    check_threads(args.threads)
    if args.server and args.engine != "transformers":
        raise ConfigError(f"--engine {args.engine} runs in-process; it cannot be combined with --server")
    given = [name for name in SERVER_DEFAULTS if getattr(args, name) is not None]
    if given and not args.server:
        raise ConfigError(f"--{given[0].replace('_', '-')} applies only with --server")


def engine_from_args(args: argparse.Namespace):
    """The engine the flags ask for; bad combinations are one-line `ConfigError`s."""
    check_engine_args(args)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if args.server:
        return _http_engine(args)
    if args.engine == "vllm":
        from foresight.engine.vllm_engine import VllmEngine

        return VllmEngine.from_spec(args.model)
    from foresight.engine.transformers_engine import TransformersEngine

    return TransformersEngine.from_spec(args.model, max_batch_size=args.batch_size)


def _http_engine(args: argparse.Namespace):
    from foresight.engine.http_engine import HttpEngine, RetryPolicy
    from foresight.engine.loading import count_parameters, load_tokenizer, resolve_model

    option = {name: getattr(args, name) if getattr(args, name) is not None else default
              for name, default in SERVER_DEFAULTS.items()}
    location = resolve_model(option["tokenizer"] or args.model)
    retry = RetryPolicy(attempts=option["retries"] + 1, delay=option["retry_delay"], timeout=option["timeout"])
    return HttpEngine.connect(
        args.server, load_tokenizer(location), num_parameters=option["num_parameters"],
        concurrency=option["concurrency"], retry=retry, count_local=lambda: count_parameters(location),
    )
