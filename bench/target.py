"""The fast target the HTTP benches send to: a raw asyncio HTTP/1.1 server answering 200.

Run on its own (`python bench/target.py [--port 0]`) it prints `port N` and serves until
killed; bench/relay.py, trigger.py and stacks.py start it as a separate process, so it never
shares the measured process's interpreter. It parses no more than a receiver must (request
line, Content-Length, the body) and answers every request `200 {"ok":true}` with keep-alive,
pipelining included: a few tens of microseconds of CPU per request, far below any client or
relay it serves (the benches print its CPU per request from /proc so that can be checked).
Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys

ANSWER = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n"
          b"\r\n{\"ok\":true}")
BAD = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
MAX_HEAD = 64 * 1024


class Answer(asyncio.Protocol):
    """One connection: split the byte stream into requests, answer each at once."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        buffer = self.buffer
        buffer += data
        answers = 0
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    self._refuse()
                break
            length = _content_length(bytes(buffer[:end]))
            if length is None:
                self._refuse()
                return
            total = end + 4 + length
            if len(buffer) < total:
                break
            del buffer[:total]
            answers += 1
        if answers:
            self.transport.write(ANSWER * answers)

    def _refuse(self) -> None:
        assert self.transport is not None
        self.transport.write(BAD)
        self.transport.close()


def _content_length(head: bytes) -> int | None:
    """The body length (0 without the header); None for chunked or a malformed value."""
    lower = head.lower()
    if b"\r\ntransfer-encoding:" in lower:
        return None
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    stop = lower.find(b"\r\n", at + 2)
    value = lower[at + 17:stop if stop > 0 else None].strip()
    return int(value) if value.isdigit() else None


async def serve(port: int) -> None:
    """Serve on 127.0.0.1:port (0: any free port) and print the port, until killed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = await asyncio.get_running_loop().create_server(Answer, sock=sock, backlog=1024)
    print(f"port {sock.getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    try:
        asyncio.run(serve(parser.parse_args().port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
