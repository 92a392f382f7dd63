"""The lab's Vaultwarden: the configuration surface of vaultwarden/server 1.36 (environment keys,
DOMAIN's path as the mount point, `/alive`, `/api/config`), without the vault itself.

What it reproduces, because the product's answers depend on it:
- start-up validation as upstream's `validate_config` does it: a DOMAIN without its protocol, and
  SSO_ENABLED without SSO_CLIENT_ID, SSO_CLIENT_SECRET and SSO_AUTHORITY (or with an authority that
  is not a URL) print "Error loading config:" and exit 12, before anything listens;
- routes mounted under DOMAIN's path, as Rocket mounts them: with DOMAIN=https://x/vault the
  service answers /vault/alive, and /alive is a 404 (so trap T21 shows through the edge);
- the first SSO login's refusals the runbook met (traps T12, T13) at a lab-only route,
  `{path}/lab/first-sso-login`, with the messages the operators saw;
- `{path}/identity/accounts/prelogin` (the Bitwarden CLI's first call at `bw login`).

`{path}/lab/settings` shows the effective values of the keys the bootstrap manages (never a secret),
so a test can see which configuration the running container has.
"""
import datetime
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MANAGED = ("DOMAIN", "SSO_ENABLED", "SSO_ONLY", "SSO_SIGNUPS_MATCH_EMAIL", "SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION",
           "SIGNUPS_ALLOWED", "INVITATIONS_ALLOWED", "ORGANIZATION_INVITE_AUTO_ACCEPT", "SSO_AUTHORITY", "SSO_CLIENT_ID")
DEFAULTS = {"DOMAIN": "http://localhost", "SSO_ENABLED": "false", "SSO_ONLY": "false", "SSO_SIGNUPS_MATCH_EMAIL": "true",
            "SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION": "false", "SIGNUPS_ALLOWED": "true", "INVITATIONS_ALLOWED": "true",
            "ORGANIZATION_INVITE_AUTO_ACCEPT": "false", "SSO_AUTHORITY": "", "SSO_CLIENT_ID": "", "SSO_CLIENT_SECRET": "",
            "ROCKET_PORT": "80", "DATA_FOLDER": "/data"}


def settings(environ):
    return dict((k, environ.get(k, v)) for k, v in DEFAULTS.items())


def truthy(value):
    # Vaultwarden parses booleans strictly; anything but true/false stops it (as it does here).
    lowered = str(value).strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError("invalid boolean %r" % value)
    return lowered == "true"


def config_errors(cfg):
    """Upstream's start-up checks that concern the stack the product writes, in upstream's words."""
    for key in ("SSO_ENABLED", "SSO_ONLY", "SSO_SIGNUPS_MATCH_EMAIL", "SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION",
                "SIGNUPS_ALLOWED", "INVITATIONS_ALLOWED"):
        try:
            truthy(cfg[key])
        except ValueError:
            return "Error parsing the environment variable %s=%r: expected true or false" % (key, cfg[key])
    domain = cfg["DOMAIN"].lower()
    if not domain.startswith("http://") and not domain.startswith("https://"):
        return ("DOMAIN variable needs to contain the protocol (http, https). "
                "Use 'http[s]://bw.example.com' instead of 'bw.example.com'")
    if truthy(cfg["SSO_ENABLED"]):
        if not cfg["SSO_CLIENT_ID"] or not cfg["SSO_CLIENT_SECRET"] or not cfg["SSO_AUTHORITY"]:
            return "`SSO_CLIENT_ID`, `SSO_CLIENT_SECRET` and `SSO_AUTHORITY` must be set for SSO support"
        parts = urlsplit(cfg["SSO_AUTHORITY"])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "Invalid sso_authority URL (%s): relative URL without a base" % cfg["SSO_AUTHORITY"]
    return None


def base_path(domain):
    return urlsplit(domain.rstrip("/")).path.rstrip("/")


def first_sso_login(cfg, email_verified):
    """What the first employee's SSO login meets, as in the runbook's D-ops-24/26."""
    if not truthy(cfg["SSO_ENABLED"]):
        return 400, "SSO sign-in is not available"
    if email_verified is None and not truthy(cfg["SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION"]):
        return 400, "Your provider does not send email verification status"  # T12
    if not truthy(cfg["SIGNUPS_ALLOWED"]) and not truthy(cfg["INVITATIONS_ALLOWED"]):
        return 400, "Failed to retrieve the invitation"  # T13
    return 200, "ok"


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def make_handler(cfg):
    base = base_path(cfg["DOMAIN"])
    domain = cfg["DOMAIN"].rstrip("/")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def _send(self, status, body, content_type="application/json"):
            data = json.dumps(body).encode() if content_type == "application/json" else body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _route(self):
            path, _, query = self.path.partition("?")
            if base and not (path == base or path.startswith(base + "/")):
                return None, query
            return path[len(base):] or "/", query

        def do_HEAD(self):
            path, dummy = self._route()
            self._send(200 if path == "/alive" else 404, "" if path == "/alive" else {})

        def do_GET(self):
            path, query = self._route()
            if path == "/alive":
                return self._send(200, now())
            if path == "/api/config":
                return self._send(200, {"version": "2026.6.0", "server": {"name": "Vaultwarden"},
                                        "settings": {"disableUserRegistration": not truthy(cfg["SIGNUPS_ALLOWED"])},
                                        "environment": {"vault": domain, "api": domain + "/api",
                                                        "identity": domain + "/identity", "sso": ""},
                                        "object": "config"})
            if path == "/lab/settings":
                return self._send(200, dict((k, cfg[k]) for k in MANAGED))
            if path == "/lab/first-sso-login":
                verified = None if "email_verified=unknown" in query else True
                status, message = first_sso_login(cfg, verified)
                return self._send(status, {"message": message} if status != 200 else {"ok": True})
            if path in ("/", ""):
                return self._send(200, "<!doctype html><title>Vaultwarden Web</title>", "text/html")
            return self._send(404, {"message": "Not found"})

        def do_POST(self):
            path, dummy = self._route()
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if path == "/identity/accounts/prelogin":
                return self._send(200, {"kdf": 0, "kdfIterations": 600000, "kdfMemory": None, "kdfParallelism": None})
            return self._send(404, {"message": "Not found"})

    return Handler


def main():
    cfg = settings(os.environ)
    problem = config_errors(cfg)
    if problem:
        # Upstream prints this and exits 12 before anything listens.
        sys.stdout.write("Error loading config:\n  %s\n\n" % problem)
        sys.stdout.flush()
        return 12
    os.makedirs(cfg["DATA_FOLDER"], exist_ok=True)
    server = ThreadingHTTPServer(("0.0.0.0", int(cfg["ROCKET_PORT"])), make_handler(cfg))
    # docker stop sends SIGTERM: leave at once (serve_forever runs on this thread, so no shutdown()).
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    sys.stdout.write("[INFO] Rocket has launched from http://0.0.0.0:%s (mount %s/, SSO %s)\n"
                     % (cfg["ROCKET_PORT"], base_path(cfg["DOMAIN"]), "on" if truthy(cfg["SSO_ENABLED"]) else "off"))
    sys.stdout.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
