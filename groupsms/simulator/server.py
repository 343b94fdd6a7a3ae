"""The simulator's HTTPS server: one thread per connection, keep-alive, TLS handshake in that thread.

Only the transport lives here (reading requests, answering, dropping connections on purpose); what a
request means is `Simulator.handle_send`.
"""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 5.0  # seconds a kept-alive connection may sit idle (or a request may take to arrive)
MAX_BODY = 64 * 1024
CONTROL_PREFIX = "/_simulator/"  # simulator/control.py: handsets, for app processes sharing one simulator


@dataclass
class Reply:
    status: int = 200
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, simulator) -> None:
        self.ssl_context = context
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves a FQDN for the bound address: a DNS lookup we do not need.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, address = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle stall on small answers
        # The handshake runs in the connection's own thread (_Handler.setup), never in the accept loop.
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address) -> None:
        log.debug("simulator connection from %s ended with an error", client_address, exc_info=True)

    def track(self, sock: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(sock)

    def close_connections(self) -> None:
        """Wake every connection thread (idle keep-alive ones included) so stop() does not wait."""
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    server_version = "groupsms-vonage-simulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: SimulatorHTTPServer

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()
        self.server.track(self.request, True)

    def finish(self) -> None:
        self.server.track(self.request, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        log.debug("simulator: " + format, *args)

    def handle_one_request(self) -> None:
        # Wait for the next request's first bytes without consuming them, so a "drop_before_read"
        # fault can close the connection before the request is read.
        try:
            head = self.rfile.peek(1)
        except (OSError, ValueError):
            head = b""
        if not head:
            self.close_connection = True
            return
        if self.server.simulator.take_pre_read_fault():
            self._drop()
            return
        super().handle_one_request()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.request.shutdown(socket.SHUT_RDWR)  # TCP close, no TLS close_notify, no HTTP answer
        except OSError:
            pass

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding"):
            self._send(Reply(411, {"error": "Content-Length required"}))
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(Reply(413, {"error": "bad Content-Length"}))
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        body = self._read_body()
        if body is None:
            return
        path, _, query = self.path.partition("?")
        if path.startswith(CONTROL_PREFIX):
            from groupsms.simulator import control

            self._send(control.handle(self.server.simulator, "POST", path, query, body, self.headers))
            return
        if path != "/sms/json":
            self._send(Reply(404, {"error": f"no such endpoint: {path}"}))
            return
        reply = self.server.simulator.handle_send(query, body, self.headers, self.client_address)
        if reply.drop:
            self._drop()
        else:
            self._send(reply)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/account/numbers" and self.command == "GET":  # the Numbers API: what the account owns
            from groupsms.simulator.numbers_api import handle_owned_numbers

            self._send(handle_owned_numbers(self.server.simulator, query, self.headers))
            return
        if path.startswith(CONTROL_PREFIX) and self.command == "GET":
            from groupsms.simulator import control

            self._send(control.handle(self.server.simulator, "GET", path, query, b"", self.headers))
            return
        self._send(Reply(405, {"error": "the simulator implements POST /sms/json and GET /account/numbers"}))

    do_PUT = do_DELETE = do_PATCH = do_GET

    def _send(self, reply: Reply) -> None:
        payload = json.dumps(reply.body if reply.body is not None else {}).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (e.g. after its timeout): nothing to answer
            self.close_connection = True
