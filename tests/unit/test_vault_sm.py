"""The secrets_manager backend's own logic without a server: the notes that say who owns a secret, where the
token comes from, what an SDK error means for the operator; and the lab's Bitwarden crypto round trip."""
import base64
import os

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import vault, vault_sm


def test_a_note_names_its_customer_and_service_and_nothing_else_is_taken_for_ours():
    note = vault_sm.note_for("acme", "frame")
    assert vault_sm.owner_of(note) == ("acme", "frame")
    assert vault_sm.owner_of("someone else's secret") is None and vault_sm.owner_of(None) is None


@pytest.mark.parametrize("sdk_error, cause", [
    ('Received error message from server: [400 Bad Request] {"error": "invalid_client"}', "was refused"),
    ('Received error message from server: [400 Bad Request] {"error_description": "The access token has expired."}',
     "has expired"),
    ("The decryption operation failed", "could not be decrypted"),
    ('Received error message from server: [404 Not Found] {"message": "Resource not found."}', "may not do this"),
    ("error sending request for url (https://127.0.0.1:1/identity/connect/token)", "does not answer"),
    ("something new", "refused create X: something new"),
])
def test_sdk_errors_become_a_cause_and_a_next_step(sdk_error, cause):
    error = vault_sm.explain(sdk_error, "create X")
    assert cause in error.message and error.next_step


def test_the_token_comes_from_the_environment_then_the_keychain_never_an_argument(tmp_path):
    assert vault_sm.read_token({"BWS_ACCESS_TOKEN": " 0.id.secret:a2V5 \n"}) == "0.id.secret:a2V5"
    security = tmp_path / "security"
    security.write_text("#!/bin/sh\n[ \"$3\" = axe.secrets-manager.token ] && echo 0.kc.secret:a2V5\n")
    security.chmod(0o755)
    assert vault_sm.read_token({}, security=str(security)) == "0.kc.secret:a2V5"
    assert vault_sm.read_token({}, security=str(tmp_path / "missing")) is None


def test_without_a_token_or_an_organization_it_says_what_to_set(tmp_path):
    with pytest.raises(vault_sm.SecretsManagerError, match="AXE_SM_ORGANIZATION_ID"):
        vault_sm.SecretsManagerBackend(organization_id=None, token="t").client()
    with pytest.raises(vault_sm.SecretsManagerError, match="security add-generic-password -U -a axe -s axe.secrets-manager"):
        vault_sm.SecretsManagerBackend(organization_id="org", security=str(tmp_path / "none")).client()


def test_the_backend_is_chosen_by_name_and_reads_its_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AXE_SM_API_URL", "https://sm.example/api")
    monkeypatch.setenv("AXE_SM_ORGANIZATION_ID", "0f0f0f0f-0000-4000-8000-000000000000")
    monkeypatch.setenv("AXE_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("AXE_SM_STATE_FILE", raising=False)
    client = vault.backend("secrets_manager")
    assert isinstance(client, vault_sm.SecretsManagerBackend)
    assert client.api_url == "https://sm.example/api" and client.identity_url == "https://identity.bitwarden.com"
    assert client.state_file == str(tmp_path / "secrets-manager.state")
    assert "token" not in repr(client).lower()
    with pytest.raises(vault.VaultError, match="unknown vault backend"):
        vault.backend("keepass")


def test_the_lab_crypto_round_trips_and_a_wrong_key_is_refused():
    from axe_lab import sm_crypto
    token_key, org_key = os.urandom(16), os.urandom(64)
    payload = sm_crypto.encrypted_payload(token_key, org_key)
    assert payload.startswith("2.") and payload.count("|") == 2
    opened = sm_crypto.decrypt(sm_crypto.payload_key(token_key), payload)
    assert base64.b64decode(__import__("json").loads(opened)["encryptionKey"]) == org_key
    with pytest.raises(ValueError, match="MAC"):
        sm_crypto.decrypt(sm_crypto.payload_key(os.urandom(16)), payload)
    assert len(sm_crypto.payload_key(token_key)) == 64
    token = sm_crypto.access_token("6b3f0000-0000-4000-8000-000000000001", "s3cr3t", token_key)
    assert token.startswith("0.6b3f0000-0000-4000-8000-000000000001.s3cr3t:")
    assert base64.b64decode(token.rpartition(":")[2]) == token_key
