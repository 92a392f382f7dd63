"""Write a demo bootstrap pack (axelabs-bootstrap/v1) for a lab customer: random secrets, mode 600.

What customer IT would send back on D-7; the demo makes one so it has something to ingest.
Usage: demo_pack.py CUSTOMER PATH
"""
import json
import os
import secrets
import sys
import uuid


def main(customer: str, path: str) -> None:
    domain = f"{customer}.axelabs.ai"
    app = lambda: {"client_id": str(uuid.uuid4()), "client_secret": secrets.token_urlsafe(30)}  # noqa: E731
    pack = {"schema": "axelabs-bootstrap/v1", "customer": customer, "tenant_id": str(uuid.uuid4()),
            "apps": {"blueprint": app(), "vaultwarden": app(),
                     "frame_mcp": dict(app(), application_id_uri=f"https://{domain}/frame/mcp",
                                       scope=f"https://{domain}/frame/mcp/mcp.access",
                                       redirect_uris=["https://claude.ai/api/mcp/auth_callback",
                                                      "https://claude.com/api/mcp/auth_callback"])}}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(pack, fh, indent=2)


if __name__ == "__main__":
    main(*sys.argv[1:3])
