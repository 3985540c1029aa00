"""A real HTTP receiver in a thread that records every request (for --forward-to tests)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """What arrived: (path, headers, body) per request; `fail_first` answers 500 once per id."""

    def __init__(self, fail_first: bool = False) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.fail_first = fail_first
        self.failed: set[str] = set()
        self.lock = threading.Lock()


@contextlib.contextmanager
def receiver(fail_first: bool = False) -> Iterator[tuple[str, Receiver]]:
    """Serve on 127.0.0.1:0; yields the base URL and the record."""
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
