"""The lab's `bw serve` stand-in keeps the real CLI's contract, checked against Bitwarden's spec;
and the product's vault client (bw_serve backend) handles locking and a stale cache (T17, T19)."""
from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import vault
from helpers.lab import SHARED_DIR

pytestmark = pytest.mark.lab
SPEC = json.loads((SHARED_DIR / "specs/bitwarden-vault-management-api.json").read_text())


def conforms(instance, schema_name):
    """Validate against a component schema. The spec writes optional fields as plain types and its own
    examples send null for them (totp, notes, folderId), so nulls are dropped before validating."""
    def drop_nulls(v):
        if isinstance(v, dict):
            return {k: drop_nulls(x) for k, x in v.items() if x is not None}
        if isinstance(v, list):
            return [drop_nulls(x) for x in v]
        return v
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(drop_nulls(instance))


def call(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.fixture
def vault_url(lab):
    lab.host("acme")
    from axe_lab import services
    return services.vault_url(lab.lab)


def test_status_and_envelopes_match_the_spec(vault_url):
    status, body = call(vault_url + "/status")
    assert status == 200
    conforms(body, "status")
    assert body["data"]["template"]["status"] == "unlocked"
    status, body = call(vault_url + "/list/object/organizations")
    assert body["data"]["object"] == "list" and body["data"]["data"][0]["name"] == "AXE Labs"
    status, body = call(vault_url + "/object/item/00000000-0000-0000-0000-000000000000")
    assert status == 400 and body == {"success": False, "message": "Not found."}  # the real CLI: any failure is 400


def test_host_and_origin_rules_of_the_real_cli(vault_url):
    port = vault_url.rsplit(":", 1)[1]
    assert call(vault_url + "/status", headers={"Host": f"evil.example:{port}"})[0] == 403
    assert call(vault_url + "/status", headers={"Origin": "http://localhost"})[0] == 403
    assert call(vault_url + "/status", headers={"Host": f"localhost:{port}"})[0] == 200


def test_the_backend_sends_spec_shaped_items_and_round_trips(vault_url):
    client = vault.backend("bw_serve", url=vault_url)
    body = vault.new_item(client.organization_id(), client.collection_id("emu", create=True), "emu", "frame",
                          "EMU_TEST_SECRET", "v1")
    conforms(body, "item.template")
    assert client.put("emu", "frame", "EMU_TEST_SECRET", "v1") == "create"
    status, listed = call(vault_url + "/list/object/items?search=axe/emu/frame/EMU_TEST_SECRET")
    item = listed["data"]["data"][0]
    conforms(item, "item.template")
    assert item["object"] == "item" and item["login"]["password"] == "v1"
    assert client.put("emu", "frame", "EMU_TEST_SECRET", "v1") == "unchanged"
    assert client.put("emu", "frame", "EMU_TEST_SECRET", "v2") == "update"
    assert client.get("emu", "frame", "EMU_TEST_SECRET") == "v2"
    assert client.delete("emu", "frame", "EMU_TEST_SECRET") is True
    assert client.get("emu", "frame", "EMU_TEST_SECRET") is None


def test_stale_cache_is_synced_before_reading_t19(vault_url):
    """Another client pushed a secret a moment ago: this bw serve's cache misses it until /sync."""
    client = vault.backend("bw_serve", url=vault_url)
    org, col = client.organization_id(), client.collection_id("emu", create=True)
    item = vault.new_item(org, col, "emu", "hive", "EMU_PUSHED_ELSEWHERE", "from-another-client")
    call(vault_url + "/_lab/server-item", "POST", item)
    status, listed = call(vault_url + "/list/object/items?search=EMU_PUSHED_ELSEWHERE")
    assert listed["data"]["data"] == []  # the stale cache, as the trap describes
    fresh = vault.backend("bw_serve", url=vault_url)  # a new run: syncs once before its first read
    assert fresh.get("emu", "hive", "EMU_PUSHED_ELSEWHERE") == "from-another-client"
    fresh.delete("emu", "hive", "EMU_PUSHED_ELSEWHERE")


def test_locked_vault_is_a_t17_error_with_the_fix(vault_url):
    assert call(vault_url + "/lock", "POST")[0] == 200
    try:
        with pytest.raises(vault.VaultError) as err:
            vault.backend("bw_serve", url=vault_url).status()
        assert err.value.trap == "T17" and "BW_SESSION" in err.value.next_step
        status, body = call(vault_url + "/list/object/items")
        assert (status, body) == (400, {"success": False, "message": "Vault is locked."})
    finally:
        password = next(Path(os.environ["AXE_STATE_DIR"]).rglob("vault/password")).read_text()
        assert call(vault_url + "/unlock", "POST", {"password": password})[1]["data"]["title"] == "Your vault is now unlocked!"


def test_a_dead_vault_url_names_the_way_to_start_it():
    with pytest.raises(vault.VaultError) as err:
        vault.backend("bw_serve", url="http://127.0.0.1:9").status()
    assert "does not answer" in err.value.message and "bw serve" in err.value.next_step
