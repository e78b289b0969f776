"""A webhook receiver on 127.0.0.1: a real HTTP server in a thread that records each post and
answers from a script of statuses (then 200), optionally after a pause."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Statuses answered in turn (then 200); a tuple (status, headers) adds headers.
    script: list = field(default_factory=list)
    delay: float = 0.0


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(Received(self.path, dict(self.headers), body))
            if receiver.delay:
                time.sleep(receiver.delay)
            answer = receiver.script.pop(0) if receiver.script else 200
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture(name="receiver")
def receiver_fixture():
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    host, port = server.server_address
    recorder = Receiver(url=f"http://{host}:{port}")
    server.RequestHandlerClass = _handler(recorder)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield recorder
    server.shutdown()
    server.server_close()
