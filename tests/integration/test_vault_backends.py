"""D-day with the `secrets_manager` backend: `axe customers ingest` and `axe deploy frame` on a lab host
of their own, every secret read and written by the real bitwarden-sdk over HTTPS to the
lab's Secrets Manager. (The same commands with `bw_serve`, the default, are test_ingest, test_onboard and
test_deploy.)"""
from __future__ import annotations

import base64
import json

import pytest

from helpers.dday import customer_after_onboard

pytestmark = pytest.mark.lab
CUSTOMER = "smx"


def test_ingest_and_deploy_frame_with_secrets_manager(lab, tmp_path_factory):
    from axe_lab import secrets_manager, sm_crypto
    with customer_after_onboard(lab, tmp_path_factory.mktemp("sm"), CUSTOMER,
                                env={"AXE_VAULT_BACKEND": "secrets_manager"}, onboard=False) as d:
        run, applied = d.deploy("frame")
        assert run.returncode == 0, run.stdout + run.stderr
        assert "vault: Bitwarden Secrets Manager at https://127.0.0.1:" in run.stderr
        assert applied["hosts"][CUSTOMER]["deploys"]["frame"]["action"] == "release"
        # frame reached its database with the password from Secrets Manager (on the host: no tunnel here).
        ready = json.loads(d.host.ssh("curl -fsS http://127.0.0.1:18080/frame/health/ready").stdout)
        assert ready["ready"] is True and ready["service"] == "frame"
        again, second = d.deploy("frame")
        assert again.returncode == 0 and second["changed"] == 0
        printed = list(d.outputs)
        # What the ingest and the deploy wrote is in the Secrets Manager, as EncStrings of the customer's project.
        listed = d.axe("secret", "get", "FRAME_SMX_DB_PASSWORD", "--service", "frame", "--customer", CUSTOMER)
        password = listed.stdout.strip()
        assert listed.returncode == 0 and len(password) >= 32
        assert password in d.host.ssh("cat ~/.axe/services/frame/.env.local").stdout
        stored = json.loads((secrets_manager.data_dir(lab.lab) / "state.json").read_text())
        org_key = base64.b64decode(secrets_manager.accounts(lab.lab)["organization_key"])
        keys = {sm_crypto.decrypt(org_key, s["key"]).decode() for s in stored["secrets"].values()
                if sm_crypto.decrypt(org_key, s["note"]).startswith(b"axe:smx/")}
        assert {"AZURE_SMX_BLUEPRINT_CLIENT_SECRET", "AZURE_SMX_VAULTWARDEN_CLIENT_SECRET",
                "AZURE_SMX_FRAME_MCP_CLIENT_SECRET", "FRAME_SMX_DB_PASSWORD", "FRAME_SMX_MCP_TOKEN",
                "PII_SMX_KR_PASSPHRASE_1", "PII_SMX_KR_PASSPHRASE_2"} <= keys
        assert password not in json.dumps(stored)
        # Nothing of it in what the ingest and deploy runs printed.
        assert printed and not [o for o in printed if password in o]
