"""The base of the local server processes (llama-server, vLLM): started on a free loopback port,
healthy when /health answers, stopped with its whole process group; a real process here, a tiny
HTTP server, so these run without either server installed."""

import sys
import textwrap

import httpx
import pytest

from foresight.errors import ServerError
from foresight.servers.loopback import LoopbackServer

HEALTH_SERVER = textwrap.dedent("""
    import http.server, subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # an engine core
    print(child.pid, flush=True)
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
        def log_message(self, *args):
            pass
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
""")


class HealthServer(LoopbackServer):
    name = "the test server"
    stop_wait = 5.0

    def command(self):
        return [sys.executable, "-c", HEALTH_SERVER, str(self.port)]


class FailingServer(HealthServer):
    def command(self):
        return [sys.executable, "-c", "raise SystemExit(3)"]


def child_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_started_healthy_then_stopped_with_its_children(tmp_path):
    log = tmp_path / "server.log"
    with HealthServer(tmp_path, log=log) as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(server.url + "/health").status_code == 200
        process = server.process
    assert process.poll() is not None
    child = int(log.read_text().split()[0])
    assert not child_alive(child)


def test_kill_ends_the_process_at_once(tmp_path):
    server = HealthServer(tmp_path).start()
    server.kill()
    assert server.process.poll() is not None
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/health", timeout=1.0)


def test_a_server_that_exits_while_starting_is_named():
    with pytest.raises(ServerError, match="the test server exited with 3 while starting"):
        FailingServer(__file__).start()
