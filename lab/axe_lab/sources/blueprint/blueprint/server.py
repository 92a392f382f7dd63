"""blueprint's web app stand-in: /, the Entra SSO callback, /health/ready.

Ready only with its Entra SSO settings (trap T10: blueprint must not boot without SSO) and
frame's MCP token."""
import os

import standin

PORT = 3000
SSO = ["AZURE_AD_CLIENT_ID", "AZURE_AD_CLIENT_SECRET", "AZURE_AD_TENANT_ID", "NEXTAUTH_URL", "NEXTAUTH_SECRET"]


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
    return problems


def home():
    page = "<html><body><h1>Blueprint</h1><p>version %s</p><a href='/api/auth/signin/azure-ad'>Sign in with Microsoft</a></body></html>"
    return 200, (page % standin.VERSION).encode()


def sso_config():
    return 200, dict(standin.identity(), service="blueprint", provider="azure-ad",
                     client_id=os.environ.get("AZURE_AD_CLIENT_ID", ""), tenant_id=os.environ.get("AZURE_AD_TENANT_ID", ""),
                     callback=os.environ.get("NEXTAUTH_URL", "") + "/api/auth/callback/azure-ad")


def callback():
    return 400, {"error": "missing code", "hint": "this is Entra's redirect target"}


if __name__ == "__main__":
    standin.serve("blueprint", PORT, {"/": home, "/api/auth/providers": sso_config,
                                      "/api/auth/callback/azure-ad": callback}, readiness)
