"""A real HTTP server on 127.0.0.1 that relays to a real llama-server, rewriting on the way.

It stands in for servers we cannot run here but must handle: one that ignores `n`
(llama-cpp-python's own server does), one that sends no log-probs. Requests and stream events
pass through `rewrite_request` and `rewrite_event`; everything else is relayed unchanged.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import httpx

Rewrite = Callable[[dict[str, Any]], dict[str, Any]]


class RewritingProxy:
    def __init__(self, upstream: str, rewrite_request: Rewrite = lambda b: b, rewrite_event: Rewrite = lambda e: e):
        self.upstream = upstream
        self.requests: list[dict[str, Any]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                response = httpx.get(proxy.upstream + self.path)
                self._reply(response.status_code, response.content, response.headers.get("content-type", "application/json"))

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                proxy.requests.append(body)
                body = rewrite_request(body)
                with httpx.stream("POST", proxy.upstream + self.path, json=body, timeout=120) as response:
                    self.send_response(response.status_code)
                    self.send_header("Content-Type", response.headers.get("content-type", "text/event-stream"))
                    self.end_headers()
                    for line in response.iter_lines():
                        if line.startswith("data: {"):
                            line = "data: " + json.dumps(rewrite_event(json.loads(line[len("data: "):])))
                        self.wfile.write((line + "\n").encode())
                        self.wfile.flush()

            def _reply(self, status: int, content: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "RewritingProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
