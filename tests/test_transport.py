"""The WebSocket transport of a real gevent server, as a browser would open it."""
from __future__ import annotations

import base64
import os
import socket

from tests.support import running_server


def _handshake(base: str, extensions: str) -> str:
    """Open a raw Engine.IO WebSocket offering `extensions`; return the server's response head."""
    host, port = base.removeprefix("http://").split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Extensions: {extensions}\r\n"
               f"Origin: {base}\r\n\r\n")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    return head.split(b"\r\n\r\n")[0].decode("latin-1")


def test_websocket_compression_offered_by_a_browser_is_declined(tmp_path):
    with running_server(tmp_path) as base:
        head = _handshake(base, "permessage-deflate; client_max_window_bits")
    assert head.startswith("HTTP/1.1 101"), head
    assert "sec-websocket-extensions" not in head.lower(), head
