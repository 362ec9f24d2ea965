"""A headless Debian chromium (Playwright, no browser download) and console servers.

The console runs over ``ConsoleWorld`` (in-memory adapters) in a WSGI server
on loopback, in a thread of the test process, so a test can change the
world and watch a page pick the change up.
"""

import os
import threading
from collections.abc import Callable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from tests.support.console_world import ConsoleWorld

CHROMIUM = os.environ.get("MONITORING_CHROMIUM", "/usr/bin/chromium")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass


def serve(app: Any) -> tuple[str, Callable[[], None]]:
    """The base URL of ``app`` served on loopback, and how to stop it."""
    server = make_server("127.0.0.1", 0, app, _Server, _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}", stop


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: `make chromium` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def world() -> ConsoleWorld:
    return ConsoleWorld()


@pytest.fixture(scope="module")
def base_url(world: ConsoleWorld) -> Iterator[str]:
    # With alerts: the screenshots show the Alerts column and an SLA's alerts.
    url, stop = serve(world.app(prometheus="http://127.0.0.1:9090"))
    yield url
    stop()
