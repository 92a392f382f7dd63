"""blueprint's web app stand-in: /, the Entra SSO callback, /health/ready.

Ready only with its Entra SSO settings (trap T10: blueprint must not boot without SSO), frame's MCP token
and its user table. The SSO callback is where a user comes into being: Entra redirects there with a code
after the Microsoft sign-in; the lab has no Entra, so a lab code `lab:<email>` stands for what Entra would
vouch for, and the first sign-in creates the user (role 'user'), later ones record lastSignInAt."""
import os

import standin
from blueprint import users

PORT = 3000
SSO = ["AZURE_AD_CLIENT_ID", "AZURE_AD_CLIENT_SECRET", "AZURE_AD_TENANT_ID", "NEXTAUTH_URL", "NEXTAUTH_SECRET"]
LAB_CODE = "lab:"


def readiness():
    problems = []
    missing = standin.missing_env(SSO)
    if missing:
        problems.append("SSO not configured: missing %s" % ", ".join(missing))
    if not os.environ.get("FRAME_MCP_TOKEN"):
        problems.append("frame MCP token missing: FRAME_MCP_TOKEN")
    reason = standin.broken_reason()
    if reason:
        problems.append(reason)
    if not problems:
        try:
            users.count()
        except Exception as exc:  # the volume is missing or unwritable: say so, do not serve
            problems.append("user table: %s" % exc)
    return problems


def home():
    page = "<html><body><h1>Blueprint</h1><p>version %s</p><a href='/api/auth/signin/azure-ad'>Sign in with Microsoft</a></body></html>"
    return 200, (page % standin.VERSION).encode()


def sso_config():
    return 200, dict(standin.identity(), service="blueprint", provider="azure-ad",
                     client_id=os.environ.get("AZURE_AD_CLIENT_ID", ""), tenant_id=os.environ.get("AZURE_AD_TENANT_ID", ""),
                     callback=os.environ.get("NEXTAUTH_URL", "") + "/api/auth/callback/azure-ad")


def callback(query):
    """standin.serve hands a route that takes an argument its query string, as parse_qs reads it."""
    code = (query.get("code") or [""])[0]
    if not code:
        return 400, {"error": "missing code", "hint": "this is Entra's redirect target"}
    if not code.startswith(LAB_CODE) or "@" not in code[len(LAB_CODE):]:
        return 400, {"error": "invalid code", "hint": "the lab's Entra stand-in sends lab:<email>"}
    email = code[len(LAB_CODE):]
    user, first = users.sign_in(email, email.split("@", 1)[0])
    return 200, {"signed_in": True, "first_sign_in": first, "user": user}


if __name__ == "__main__":
    standin.serve("blueprint", PORT, {"/": home, "/api/auth/providers": sso_config,
                                      "/api/auth/callback/azure-ad": callback}, readiness)
