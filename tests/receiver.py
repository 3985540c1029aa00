"""A real HTTP receiver in a thread that records every request (for --forward-to tests), and
can answer each with a handler of the test's (a provider's documented verifier, say)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """What arrived: (path, headers, body) per request; `fail_first` answers 500 once per id."""

    def __init__(self, fail_first: bool = False) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.fail_first = fail_first
        self.failed: set[str] = set()
        self.errors: list[Exception] = []  # what `answer` raised, for the test to show
        self.lock = threading.Lock()


Answer = Callable[[dict[str, str], bytes], int]


@contextlib.contextmanager
def receiver(fail_first: bool = False, answer: Answer | None = None
             ) -> Iterator[tuple[str, Receiver]]:
    """Serve on 127.0.0.1:0; yields the base URL and the record. `answer(headers, body)` (lower-
    cased header names) gives each request's status; an exception in it answers 500."""
    record = Receiver(fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with record.lock:
                record.requests.append((self.path, headers, body))
                msg_id = headers.get("webhook-id", "")
                status = 200
                if record.fail_first and msg_id not in record.failed:
                    record.failed.add(msg_id)
                    status = 500
            if answer is not None:
                try:
                    status = answer(headers, body)
                except Exception as exc:  # handed to the test through record.errors
                    with record.lock:
                        record.errors.append(exc)
                    status = 500
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", record
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
