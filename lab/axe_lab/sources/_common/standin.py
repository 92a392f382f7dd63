"""A lab stand-in service's HTTP side: JSON routes, /health/ready, one log line per problem.

Shared by the frame, blueprint and hive stand-ins (copied into each repository).
"""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = open(os.path.join(HERE, "VERSION")).read().strip()
COLOUR = os.environ.get("AXE_COLOUR", "")


def log(message):
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def broken_reason():
    """The `broken` ref ships a BROKEN file: the service starts but never becomes ready."""
    path = os.path.join(HERE, "BROKEN")
    return open(path).read().strip() if os.path.exists(path) else None


def missing_env(names):
    return [n for n in names if not os.environ.get(n)]


def serve(name, port, routes, readiness, base_path=""):
    """routes: {path: callable() -> (status, body)}, or callable(query) for a route that reads its query string
    (parse_qs's {name: [values]}); readiness: callable() -> [problems]."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # the access log is noise in `docker logs`
            pass

        def _send(self, status, body):
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if base_path and path.startswith(base_path + "/"):
                path = path[len(base_path):]
            if path == "/health/ready":
                problems = readiness()
                for problem in problems:
                    log("ERROR readiness: %s" % problem)
                status = 503 if problems else 200
                return self._send(status, {"service": name, "version": VERSION, "colour": COLOUR,
                                           "ready": not problems, "problems": problems})
            if path == "/health/live":
                return self._send(200, {"service": name, "live": True})
            handler = routes.get(path)
            if handler is None:
                return self._send(404, {"error": "not found", "path": self.path})
            try:
                query = parse_qs(urlsplit(self.path).query)
                status, body = handler(query) if handler.__code__.co_argcount else handler()
            except Exception as exc:  # the stand-in reports, the client sees a 500
                log("ERROR %s: %s" % (path, exc))
                status, body = 500, {"error": str(exc)}
            return self._send(status, body)

    log("%s %s%s listening on :%d" % (name, VERSION, " (%s)" % COLOUR if COLOUR else "", port))
    reason = broken_reason()
    if reason:
        log("ERROR startup: %s" % reason)
    # PID 1 in a container gets no default SIGTERM handler: without this, `docker stop` waits 10 s and kills.
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def identity():
    return {"version": VERSION, "colour": COLOUR}
