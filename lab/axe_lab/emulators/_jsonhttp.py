"""What the lab's JSON API emulators share: a quiet HTTP/1.1 handler that sends and reads JSON.
Private to the emulators (each runs as a script, so this sits beside them)."""
import base64
import json
import os
from http.server import BaseHTTPRequestHandler


def save_json(path, data):
    """An emulator's state, written whole or not at all (a temp file renamed over it)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def b64url(data):
    """A JWT part: JSON, base64url without padding (the clients read the claims, never check a signature)."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class JSONHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out as two writes. With Nagle's algorithm on, the body waits for the client's
    # ACK of the headers, which a keep-alive client (the SDKs' httpx and reqwest) delays by 40 ms: every request
    # after a connection's first would cost 40 ms the real APIs do not add (measured: 42 ms, 1.5 ms with this).
    disable_nagle_algorithm = True
    content_type = "application/json"

    def end_headers(self):
        # A request that asked to close gets a response that says so: the real Bitwarden CLI sends
        # `Connection: close` yet keeps the socket in its keep-alive pool unless the answer says close,
        # then reuses the socket this server closed ("socket hang up", which kills `bw serve`).
        if self.close_connection and "connection" not in self._headers_sent():
            self.send_header("Connection", "close")
        super().end_headers()

    def _headers_sent(self):
        return b"".join(getattr(self, "_headers_buffer", [])).decode("latin-1").lower()

    def log_message(self, fmt, *args):  # quiet: the product's own output is what matters
        pass

    def _send(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_json(self):
        """The request's JSON body ({} when empty); ValueError when it is not JSON."""
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}
