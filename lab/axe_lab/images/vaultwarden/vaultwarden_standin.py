"""The lab's Vaultwarden: the configuration surface of vaultwarden/server 1.36 (environment keys,
DOMAIN's path as the mount point, `/alive`, `/api/config`), and the vault itself as far as the real
Bitwarden CLI uses it: the Bitwarden server protocol of the lab's vault server (bitwarden_server.py,
copied beside this file), mounted under DOMAIN's path, its state in DATA_FOLDER (as Vaultwarden's
database is), over plain HTTP (TLS is the edge's, as behind the Cloudflare tunnel).

What it reproduces, because the product's answers depend on it:
- start-up validation as upstream's `validate_config` does it: a DOMAIN without its protocol, and
  SSO_ENABLED without SSO_CLIENT_ID, SSO_CLIENT_SECRET and SSO_AUTHORITY (or with an authority that
  is not a URL) print "Error loading config:" and exit 12, before anything listens;
- routes mounted under DOMAIN's path, as Rocket mounts them: with DOMAIN=https://x/vault the
  service answers /vault/alive, and /alive is a 404 (so trap T21 shows through the edge);
- the first SSO login's refusals the runbook met (traps T12, T13) at a lab-only route,
  `{path}/lab/first-sso-login`, with the messages the operators saw;
- the vault's accounts: Vaultwarden's are made by signing up in the web vault; the lab's tooling makes
  them instead (axe_lab/bw_account.py) and adds them at the lab-only route `{path}/lab/accounts`.

`{path}/lab/settings` shows the effective values of the keys the bootstrap manages (never a secret),
so a test can see which configuration the running container has.
"""
import datetime
import os
import signal
import sys
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
# Beside this file in the image; in the source tree (read by the unit tests), the lab's emulators.
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "emulators")]
import bitwarden_server  # noqa: E402

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
    domain = cfg["DOMAIN"].rstrip("/")

    class Handler(bitwarden_server.Handler):
        base = base_path(cfg["DOMAIN"])

        def _send_text(self, status, text, content_type):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_HEAD(self):
            path = urlsplit(self.path).path
            self._send_text(200 if path == self.base + "/alive" else 404, "", "text/plain")

        def do_GET(self):
            path = urlsplit(self.path).path
            if path in (self.base, self.base + "/") and self.base or path == "/" and not self.base:
                return self._send_text(200, "<!doctype html><title>Vaultwarden Web</title>", "text/html")
            self._handle("GET")

        def route(self, method, path, query):
            if (method, path) == ("GET", "/alive"):
                return now()
            if (method, path) == ("GET", "/api/config"):
                answer = bitwarden_server.config_answer()
                answer.update({"version": "2026.6.0", "server": {"name": "Vaultwarden", "url": "https://github.com/dani-garcia/vaultwarden"},
                               "settings": {"disableUserRegistration": not truthy(cfg["SIGNUPS_ALLOWED"])},
                               "environment": {"vault": domain, "api": domain + "/api", "identity": domain + "/identity",
                                               "notifications": domain + "/notifications", "sso": ""}})
                return answer
            if (method, path) == ("GET", "/lab/settings"):
                return dict((k, cfg[k]) for k in MANAGED)
            if (method, path) == ("GET", "/lab/first-sso-login"):
                verified = None if "email_verified" in query and query["email_verified"] == "unknown" else True
                status, message = first_sso_login(cfg, verified)
                if status != 200:
                    raise bitwarden_server.Fail(status, {"message": message})
                return {"ok": True}
            if (method, path) == ("POST", "/lab/accounts"):
                bitwarden_server.add_accounts(self._body())
                return {"accounts": sorted(a["email"] for a in bitwarden_server.STATE["accounts"].values())}
            return super().route(method, path, query)

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
    bitwarden_server.configure(os.path.join(cfg["DATA_FOLDER"], "bitwarden-server.json"))
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
