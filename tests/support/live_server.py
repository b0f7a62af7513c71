"""A real HTTP server for browser and API-fuzzing tests: Django's threaded WSGI
server in this process, bound to a free loopback port.

Its request threads use their own database connections, so they only see
committed data; live tests therefore commit what they create and use unique names.
"""

import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from tests.support.database import in_fresh_thread
from tests.support.tiers import needs_tier

T = TypeVar("T")


class _QuietHandler(WSGIRequestHandler):
    # An idle keep-alive connection ends after this many seconds, so shutdown never hangs.
    timeout = 5

    def log_message(self, format, *args):
        pass


@dataclass(frozen=True)
class LiveServer:
    port: int

    def url(self, host: str, path: str = "/") -> str:
        """`host` is a tenant host such as acme.localhost, which resolves to loopback."""
        return f"http://{host}:{self.port}{path}"


class _JoiningServer(ThreadedWSGIServer):
    # Request threads are joined on close, so none still holds a database
    # connection when pytest-django drops the test database.
    daemon_threads = False
    block_on_close = True

    def handle_error(self, request, client_address):
        # Clients going away or idling out are normal here; anything else is printed.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


@needs_tier("live")
@contextmanager
def live_server() -> Iterator[LiveServer]:
    server = _JoiningServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield LiveServer(port=server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def committed(fn: Callable[..., T], *args, **kwargs) -> T:
    """Run `fn` on its own database connection, in autocommit, and return its result.

    A test's own connection sits in a transaction that is rolled back; data the
    live server must see has to be committed on another connection.
    """
    return in_fresh_thread(functools.partial(fn, *args, **kwargs))
