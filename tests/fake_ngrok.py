#!/usr/bin/env python3
"""A fake ngrok v3 agent for offline tests, driven by the real pyngrok (tunnel-ngrok.md).

`start --none --log stdout …` serves the agent API on 127.0.0.1, prints the three startup
lines pyngrok waits for, and runs one loopback forwarder per endpoint as its `public_url`.
Like the real agent it needs an authtoken (`--authtoken`, or `authtoken:` in `--config`).
FAKE_NGROK_MODE selects a failure: `crash` (an agent error, exit 1) or `silent` (no output);
FAKE_NGROK_PIDFILE receives the agent's pid; FAKE_NGROK_ARGVFILE its argv and, per `--config`
file, its permission bits and text (JSON).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ENDPOINTS: dict[str, dict[str, Any]] = {}
HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


def forwarder(upstream: str) -> ThreadingHTTPServer:
    """A loopback 'public' server relaying each request to `upstream`, adding X-Forwarded-*."""
    target = urllib.parse.urlsplit(upstream)

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def relay(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP]
            headers += [("X-Forwarded-For", self.client_address[0]),
                        ("X-Forwarded-Proto", "https"),
                        ("X-Forwarded-Host", self.headers.get("host", ""))]
            conn = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
            try:
                conn.putrequest(self.command, self.path, skip_host=False,
                                skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                answer = conn.getresponse()
                data = answer.read()
            except OSError:
                self.send_response(502)
                self.send_header("ngrok-error-code", "ERR_NGROK_8012")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            finally:
                conn.close()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = relay

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Api(BaseHTTPRequestHandler):
    """The agent's local API: /api/endpoints (list, create) and /api/endpoints/<name>."""

    def reply(self, status: int, record: Any = None) -> None:
        data = json.dumps(record).encode() if record is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/api/endpoints":
            self.reply(200, {"endpoints": [e["record"] for e in ENDPOINTS.values()]})
        elif self.path.removeprefix("/api/endpoints/") in ENDPOINTS:
            self.reply(200, ENDPOINTS[self.path.removeprefix("/api/endpoints/")]["record"])
        else:
            self.reply(404, {"error_code": 404, "msg": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        options = json.loads(self.rfile.read(length) or b"{}")
        name = options.get("name") or f"ep{len(ENDPOINTS)}"
        upstream = options["upstream"]["url"]
        server = forwarder(upstream)
        record = {"name": name, "public_url": f"http://127.0.0.1:{server.server_address[1]}",
                  "uri": f"/api/endpoints/{name}", "upstream": {"url": upstream}}
        ENDPOINTS[name] = {"record": record, "server": server}
        self.reply(201, record)

    def do_DELETE(self) -> None:
        found = ENDPOINTS.pop(self.path.removeprefix("/api/endpoints/"), None)
        if found:
            found["server"].shutdown()
        self.reply(204 if found else 404)

    def log_message(self, *args: Any) -> None:
        pass


def has_token(args: list[str]) -> bool:
    """An authtoken on the command line or in the --config file."""
    if "--authtoken" in args:
        return True
    if "--config" in args:
        path = args[args.index("--config") + 1]
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                return "authtoken:" in handle.read()
    return False


def log(line: str) -> None:
    print(line, flush=True)


def start(args: list[str]) -> int:
    mode = os.environ.get("FAKE_NGROK_MODE", "")
    if os.environ.get("FAKE_NGROK_PIDFILE"):
        with open(os.environ["FAKE_NGROK_PIDFILE"], "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
    if os.environ.get("FAKE_NGROK_ARGVFILE"):
        configs = [args[i + 1] for i, arg in enumerate(args) if arg == "--config"]
        seen = {"argv": sys.argv, "configs": [
            {"mode": os.stat(path).st_mode & 0o777, "text": Path(path).read_text("utf-8")}
            for path in configs]}
        with open(os.environ["FAKE_NGROK_ARGVFILE"], "w", encoding="utf-8") as handle:
            json.dump(seen, handle)
    if mode == "silent":
        time.sleep(3600)
        return 0
    if mode == "crash":
        log('t=2026 lvl=crit msg="command failed" err="session limit reached\\n\\n'
            'ERR_NGROK_108\\n"')
        return 1
    if not has_token(args):
        log('t=2026 lvl=crit msg="command failed" err="authentication failed: Usage of ngrok '
            'requires a verified account and authtoken.\\n\\nERR_NGROK_4018\\n"')
        return 1
    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    log(f'lvl=info msg="starting web service" obj=web addr=127.0.0.1:{api.server_address[1]}')
    log('lvl=info msg="client session established" obj=tunnels.session')
    log('lvl=info msg="tunnel session started" obj=tunnels.session')
    while True:
        time.sleep(3600)


def main(args: list[str]) -> int:
    if args[:1] == ["--version"] or args[:1] == ["version"]:
        log("ngrok version 3.99.0")
        return 0
    if args[:2] == ["config", "add-authtoken"]:
        log("Authtoken saved to configuration file")
        return 0
    if args[:1] == ["start"]:
        return start(args[1:])
    log(f"unknown command {args}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
