"""One contract for the vault, run against both backends in the lab, each through the vendor's real client:
`bw_serve` (the real `bw serve` of @bitwarden/cli, at the pinned version the lab's operator runs and at the
current release, each logged in to the lab's Bitwarden-protocol server) and `secrets_manager` (the
unmodified bitwarden-sdk over HTTPS to the lab's Secrets Manager emulator). The `axe` commands here always
go through the lab operator's pinned CLI, so the current-release case also proves two real CLIs agree.
Then what only Secrets Manager has: its crypto (a wrong token key fails to decrypt; the server holds
EncStrings only) and its refusals (bad, expired, no project access), each named for the operator."""
from __future__ import annotations

import base64
import json
import os
import stat
import urllib.request
from pathlib import Path

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import vault, vault_sm
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
from helpers.samples import CUSTOMERS_YAML

pytestmark = pytest.mark.lab
BACKENDS = ["bw_serve", "bw_serve-current", "secrets_manager"]
# What `axe` itself runs: the current CLI is refused by axe (T18), so axe commands go through the pinned one.
AXE_BACKENDS = ["bw_serve", "secrets_manager"]
ENV = "FRAME_CONTRACT_DB_PASSWORD"


@pytest.fixture(scope="module")
def lab_env(lab):
    lab.host("acme")  # the lab's emulators are up
    return dict(line.removeprefix("export ").split("=", 1) for line in lab.axe("lab", "env").stdout.splitlines())


def sm_accounts(lab) -> dict:
    from axe_lab import secrets_manager
    return secrets_manager.accounts(lab.lab)


def sm_backend(lab, lab_env, tmp_path, token=None):
    return vault_sm.SecretsManagerBackend(
        api_url=lab_env["AXE_SM_API_URL"], identity_url=lab_env["AXE_SM_IDENTITY_URL"],
        organization_id=lab_env["AXE_SM_ORGANIZATION_ID"], ca_file=lab_env["AXE_SM_CA_FILE"],
        state_file=str(tmp_path / "state" / "secrets-manager.state"), token=token or sm_accounts(lab)["tokens"]["operator"])


@pytest.fixture(scope="module")
def current_cli_serve(lab, lab_env, tmp_path_factory):
    """The current @bitwarden/cli release as another operator: its own CLI state, logged in with the master
    password, its own real `bw serve`."""
    from axe_lab import operator_bw, services
    appdir = tmp_path_factory.mktemp("bw-current")
    exe = services.bin_dir(lab.lab) / f"bw-{operator_bw.CURRENT}"
    # Logged in with the master password (again after a login the CLI ended before it finished, T26).
    session = operator_bw.log_in(lab.lab, exe, services.vault_server_url(lab.lab), appdir=appdir)
    proc, url = operator_bw.start_serve(exe, session, appdir / "serve.log", appdir=appdir)
    yield url
    operator_bw.stop(proc)


def make_backend(request, lab, lab_env, tmp_path):
    if request.param == "bw_serve":
        return vault.backend("bw_serve", url=lab_env["AXE_VAULT_URL"])
    if request.param == "bw_serve-current":
        status = json.load(urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            request.getfixturevalue("current_cli_serve") + "/status", timeout=30))
        assert status["data"]["template"]["status"] == "unlocked"
        return vault.backend("bw_serve", url=request.getfixturevalue("current_cli_serve"))
    return sm_backend(lab, lab_env, tmp_path)


@pytest.fixture(params=BACKENDS)
def backend(request, lab, lab_env, tmp_path):
    return make_backend(request, lab, lab_env, tmp_path)


@pytest.fixture(params=AXE_BACKENDS)
def axe_backend(request, lab, lab_env, tmp_path):
    return make_backend(request, lab, lab_env, tmp_path)


def test_create_read_update_delete_and_list_by_customer(backend):
    customer, other = f"contract-{backend.name[:2]}", f"other-{backend.name[:2]}"
    assert backend.plan_put(customer, "frame", ENV, "first-value-1") == "create"
    assert backend.put(customer, "frame", ENV, "first-value-1") == "create"
    assert backend.put(other, "frame", ENV, "other-customer-value") == "create"
    assert backend.get(customer, "frame", ENV) == "first-value-1" and backend.exists(customer, "frame", ENV)
    assert backend.plan_put(customer, "frame", ENV, "first-value-1") == "unchanged"
    assert backend.put(customer, "frame", ENV, "first-value-1") == "unchanged"
    assert backend.plan_put(customer, "frame", ENV, "second-value-2") == "update"
    assert backend.put(customer, "frame", ENV, "second-value-2") == "update"
    assert backend.get(customer, "frame", ENV) == "second-value-2"
    assert backend.get(other, "frame", ENV) == "other-customer-value"  # per customer, never mixed up
    assert backend.get(customer, "hive", ENV) is None  # the owning service is part of the name
    assert backend.list(customer) == [("frame", ENV)]
    assert backend.delete(customer, "frame", ENV) is True
    assert backend.delete(customer, "frame", ENV) is False
    assert backend.get(customer, "frame", ENV) is None and backend.list(customer) == []
    assert backend.delete(other, "frame", ENV) is True


def test_a_missing_secret_is_none_here_and_an_error_naming_the_fix_in_axe(axe_backend, lab, tmp_path):
    backend = axe_backend
    assert backend.get("nobody", "frame", "FRAME_NOBODY_DB_PASSWORD") is None
    assert backend.list("nobody") == []
    run = lab.axe("secret", "get", "FRAME_NOBODY_DB_PASSWORD", "--service", "frame", "--customer", "nobody",
                  env={"AXE_VAULT_BACKEND": backend.name})
    assert run.returncode == 1 and run.stdout == ""
    assert "axe/nobody/frame/FRAME_NOBODY_DB_PASSWORD is not in the vault" in run.stderr
    assert "axe secret push FRAME_NOBODY_DB_PASSWORD --service frame --customer nobody --apply" in run.stderr


def test_check_mode_writes_nothing_and_the_value_is_never_printed(axe_backend, lab, tmp_path):
    backend = axe_backend
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML.replace("beta", "contract").replace("BETA", "CONTRACT"))
    env = {"AXE_VAULT_BACKEND": backend.name, "AXE_CUSTOMERS_FILE": str(customers)}
    value = f"contract-{backend.name}-value-9f8e7d"
    name = "FRAME_CONTRACT_DB_PASSWORD"
    plan = lab.axe("secret", "push", name, "--service", "frame", "--customer", "contract", "--json", env=env,
                   input_text=value + "\n")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert json.loads(plan.stdout)["changed"] == 1  # it would create it
    if backend.name == "secrets_manager":
        assert "vault: Bitwarden Secrets Manager at https://127.0.0.1:" in plan.stderr
        assert "token from the Keychain item axe.secrets-manager.token" in plan.stderr
    assert backend.get("contract", "frame", name) is None  # the check run wrote nothing
    applied = lab.axe("secret", "push", name, "--service", "frame", "--customer", "contract", "--apply", "--yes",
                      "--json", env=env, input_text=value + "\n")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    got = lab.axe("secret", "get", name, "--service", "frame", "--customer", "contract", env=env)
    assert got.stdout == value + "\n"  # `get` prints the value and nothing else
    for run in (plan, applied):
        assert value not in run.stdout + run.stderr
    state = Path(os.environ["AXE_STATE_DIR"])
    runs = [p for p in (state / "runs").rglob("*") if p.is_file()]
    assert runs and not [p for p in runs if value.encode() in p.read_bytes()]
    assert backend.delete("contract", "frame", name) is True


# ---- Secrets Manager only: the crypto and the refusals, as the real service gives them ----------------------
def test_the_server_holds_only_ciphertext_the_organization_key_opens(lab, lab_env, tmp_path):
    from axe_lab import secrets_manager, sm_crypto
    backend = sm_backend(lab, lab_env, tmp_path)
    backend.put("crypto", "hive", "HIVE_CRYPTO_MCP_TOKEN", "plain-text-never-on-the-server")
    try:
        stored = json.loads((secrets_manager.data_dir(lab.lab) / "state.json").read_text())
        raw = json.dumps(stored)
        assert "plain-text-never-on-the-server" not in raw and "HIVE_CRYPTO_MCP_TOKEN" not in raw
        org_key = base64.b64decode(sm_accounts(lab)["organization_key"])
        secret = next(s for s in stored["secrets"].values()
                      if sm_crypto.decrypt(org_key, s["key"]) == b"HIVE_CRYPTO_MCP_TOKEN")
        assert secret["value"].startswith("2.")
        assert sm_crypto.decrypt(org_key, secret["value"]) == b"plain-text-never-on-the-server"
        assert sm_crypto.decrypt(org_key, secret["note"]).startswith(b"axe:crypto/hive")
        project = stored["projects"][secret["projectIds"][0]]
        assert sm_crypto.decrypt(org_key, project["name"]) == b"crypto"  # one project per customer
        # The SDK's state file (the session) is private.
        assert stat.S_IMODE(os.stat(tmp_path / "state" / "secrets-manager.state").st_mode) == 0o600
    finally:
        backend.delete("crypto", "hive", "HIVE_CRYPTO_MCP_TOKEN")


def test_a_token_with_the_wrong_key_logs_in_and_then_fails_to_decrypt(lab, lab_env, tmp_path):
    head, _, _key = sm_accounts(lab)["tokens"]["operator"].partition(":")
    wrong = head + ":" + base64.b64encode(os.urandom(16)).decode()
    with pytest.raises(ProductError) as caught:
        sm_backend(lab, lab_env, tmp_path, token=wrong).status()
    assert "could not be decrypted with the access token's key" in str(caught.value)
    assert "copy the whole access token again" in str(caught.value)
    assert wrong not in str(caught.value) and head.split(".")[2] not in str(caught.value)


@pytest.mark.parametrize("account, message, next_step", [
    ("bad-secret", "the Secrets Manager access token was refused", "make a new access token"),
    ("expired", "the Secrets Manager access token has expired", "make a new access token"),
    ("no-project-access", "the machine account may not do this", "give the machine account read and write access"),
])
def test_refusals_name_their_cause(lab, lab_env, tmp_path, account, message, next_step):
    tokens = sm_accounts(lab)["tokens"]
    if account == "bad-secret":
        version, client_id, _secret_and_key = tokens["operator"].split(".", 2)
        token = f"{version}.{client_id}.not-the-secret:{tokens['operator'].rpartition(':')[2]}"
    else:
        token = tokens[account]
    backend = sm_backend(lab, lab_env, tmp_path, token=token)
    with pytest.raises(ProductError) as caught:
        backend.put("refused", "frame", "FRAME_REFUSED_DB_PASSWORD", "never-stored-value")
    text = str(caught.value)
    assert message in text and next_step in text
    assert "never-stored-value" not in text and token not in text


def test_no_token_anywhere_says_where_to_put_one(lab):
    run = lab.axe("secret", "push", "FRAME_NOBODY_DB_PASSWORD", "--service", "frame", "--customer", "nobody",
                  env={"AXE_VAULT_BACKEND": "secrets_manager", "AXE_SECURITY": "/nonexistent/security"},
                  input_text="x\n", drop=("BWS_ACCESS_TOKEN",))
    assert run.returncode != 0
    assert "no Secrets Manager access token: BWS_ACCESS_TOKEN is unset and the keychain has no item " \
           "axe.secrets-manager.token" in run.stdout + run.stderr
