"""`foresight serve`: flags, the safety checks made before any model loads, and uvicorn."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from foresight.errors import ConfigError
from foresight.tasks import ANSWER_FORMAT_NAMES



def add_serve_parser(commands) -> None:
    from foresight.engine.select import add_engine_arguments
    from foresight.serve.limits import add_limit_arguments

    serve = commands.add_parser("serve", help="serve every strategy behind an OpenAI-compatible HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other needs an API key)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--api-key", action="append", default=None, metavar="KEY",
                       help="accept requests bearing this key (repeatable); prefer --api-key-file, which ps does not show")
    serve.add_argument("--api-key-file", default=None, metavar="FILE", help="file of accepted keys, one per line")
    serve.add_argument("--answers", choices=ANSWER_FORMAT_NAMES, default="math",
                       help="how voting strategies read a response's final answer, as --answer-format scores a file: "
                            "math (numbers and LaTeX through math-verify, default), choice, yesno or text")
    add_limit_arguments(serve)
    add_engine_arguments(serve)


def run_serve_command(args: argparse.Namespace) -> int:
    from foresight.serve.auth import KeyRing, is_loopback, read_keys
    from foresight.serve.limits import limits_from_args

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be in 0..65535, got {args.port}")
    keys = read_keys(args.api_key, args.api_key_file)
    if not keys and not is_loopback(args.host):
        raise ConfigError(f"--host {args.host} is not a loopback address: give --api-key or --api-key-file to expose the server")
    limits = limits_from_args(args)
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise ConfigError("foresight serve needs the serve extra: pip install 'foresight[serve]'") from None

    from foresight.engine.select import engine_from_args
    from foresight.serve.app import create_app
    from foresight.serve.host import SharedDriver

    host = SharedDriver(engine_from_args(args), batch_size=args.batch_size)
    app = create_app(host, answer_rule(args.answers), limits, KeyRing(keys, limits.max_in_flight))
    print(f"foresight: serving {host.engine.model_id} on http://{args.host}:{args.port}/v1", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=5)
    finally:
        host.close()
    return 0


def answer_rule(name: str) -> Callable[[str], str | None]:
    """The reader of final answers for answer format `name` (one of ANSWER_FORMAT_NAMES)."""
    from foresight.tasks.jsonl import answer_format

    return answer_format(name, golds=[]).extract
