"""The bootstrap pack: every kind of bad pack is refused with a message naming what to fix."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.axelabs.onboard.plugins.module_utils import pack as packs
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
from helpers.samples import DELETE, PACK, pack


def check(data, customer="acme", domain="acme.axelabs.ai"):
    return packs.check(data, customer, domain, "pack.json")


def test_the_example_pack_is_valid_and_has_no_warnings():
    assert check(PACK) == []


def test_unknown_fields_are_warnings_not_errors():
    warnings = check(pack(**{"note": "hi", "apps.blueprint.homepage": "x"}))
    assert len(warnings) == 2
    assert any("'note' was unexpected" in w for w in warnings)


@pytest.mark.parametrize("changes, expected", [
    ({"apps.blueprint.client_id": "not-a-uuid"}, "apps.blueprint.client_id: 'not-a-uuid' does not have the expected form"),
    ({"tenant_id": "1234"}, "tenant_id: '1234' does not have the expected form"),
    ({"apps.vaultwarden": DELETE}, "apps: 'vaultwarden' is a required property"),
    ({"apps.frame_mcp.client_secret": DELETE}, "apps.frame_mcp: 'client_secret' is a required property"),
    ({"apps.frame_mcp.application_id_uri": "https://evil.example/frame/mcp"}, "is not https://acme.axelabs.ai/frame/mcp"),
    ({"apps.frame_mcp.scope": "https://acme.axelabs.ai/other"}, "apps.frame_mcp.scope"),
    ({"apps.frame_mcp.redirect_uris": ["https://evil.example/cb"]}, "neither on acme.axelabs.ai nor a known MCP client callback"),
    ({"customer": "beta"}, "the pack is for 'beta', not 'acme'"),
    ({"apps.vaultwarden.client_id": PACK["apps"]["blueprint"]["client_id"]}, "two apps share a client_id"),
    ({"apps.blueprint.client_secret": "short"}, "apps.blueprint.client_secret"),
])
def test_bad_packs_name_the_problem(changes, expected):
    with pytest.raises(ProductError) as err:
        check(pack(**changes))
    text = str(err.value)
    assert expected in text and "nothing was changed" in text


def test_unknown_schema_version_says_which_one_is_known():
    with pytest.raises(ProductError) as err:
        check(pack(schema="axelabs-bootstrap/v2"))
    assert "axelabs-bootstrap/v2" in err.value.message and "axelabs-bootstrap/v1" in err.value.message


def test_error_messages_never_carry_secret_values():
    with pytest.raises(ProductError) as err:
        check(pack(**{"apps.blueprint.client_id": "bad", "apps.blueprint.client_secret": "sec ret with spaces"}))
    text = str(err.value)
    assert "apps.blueprint.client_secret: the value (a secret, not shown) contains a space at character 4" in text
    assert not any("sec ret with spaces"[i:i + 8] in text for i in range(len("sec ret with spaces") - 7))


def test_derivations_from_the_id():
    assert packs.secret_env("acme", "frame_mcp") == "AZURE_ACME_FRAME_MCP_CLIENT_SECRET"
    assert packs.secret_env("acme-kr", "blueprint") == "AZURE_ACME_KR_BLUEPRINT_CLIENT_SECRET"
    sso = packs.sso_entry(PACK, "acme", "acme.axelabs.ai")
    assert sso["apps"]["blueprint"]["redirect_uri"] == "https://acme.axelabs.ai/api/auth/callback/azure-ad"
    assert sso["apps"]["vaultwarden"]["redirect_uri"] == "https://acme.axelabs.ai/vault/identity/connect/oidc-signin"
    assert sso["apps"]["frame_mcp"]["scopes"][-1] == "https://acme.axelabs.ai/frame/mcp/mcp.access"
    assert "client_secret" not in json.dumps(sso).replace("client_secret_env", "")
    assert [(s, e) for s, e, _ in packs.secrets(PACK, "acme")] == [
        ("blueprint", "AZURE_ACME_BLUEPRINT_CLIENT_SECRET"), ("vault", "AZURE_ACME_VAULTWARDEN_CLIENT_SECRET"),
        ("frame", "AZURE_ACME_FRAME_MCP_CLIENT_SECRET")]


TEXT = """\
# customer IT's reply, as text
tenant_id: 3f2b8c1e-5d4a-4e7b-9c21-7a6d5e4f3b2a
blueprint client_id: 0c9e1d2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f
blueprint.client_secret = bp~Q8s7R6t5U4v3W2x1Y0zA9bC8dE7fG6hI5jK4
vaultwarden_client_id: 1d0f2e3a-4b5c-4d6e-9f70-8a9b0c1d2e3f
vaultwarden_client_secret: vw~L3m2N1o0P9q8R7s6T5u4V3w2X1y0Z9aB8cD7
frame_mcp_client_id: 2e1a3f4b-5c6d-4e7f-a081-9b0c1d2e3f4a
frame_mcp_client_secret: "fm~E6f5G4h3I2j1K0l9M8n7O6p5Q4r3S2t1U0v9"
frame_mcp application_id_uri: https://acme.axelabs.ai/frame/mcp
"""


def test_the_eight_values_as_text_make_the_same_pack():
    parsed = packs.parse_text(TEXT)
    assert check(parsed) == []
    assert packs.sso_entry(parsed, "acme", "acme.axelabs.ai") == packs.sso_entry(PACK, "acme", "acme.axelabs.ai")
    assert packs.secrets(parsed, "acme") == packs.secrets(PACK, "acme")


def test_text_with_a_missing_or_unknown_value_is_named():
    with pytest.raises(ProductError, match="missing frame_mcp_application_id_uri"):
        packs.parse_text(TEXT.replace("frame_mcp application_id_uri", "# gone"))
    with pytest.raises(ProductError, match=r"text:2: unknown name 'tenant'"):
        packs.parse_text(TEXT.replace("tenant_id:", "tenant:"))


def test_unreadable_and_non_json_packs(tmp_path):
    with pytest.raises(ProductError, match="cannot read the pack"):
        packs.read(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ProductError, match="is not valid JSON"):
        packs.read(str(tmp_path / "bad.json"))
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ProductError, match="must be a JSON object"):
        packs.read(str(tmp_path / "list.json"))


# ---- fuzz: malformed packs always give a named error, never a crash ------------------------
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                           max_leaves=8)
paths = st.sampled_from(["schema", "customer", "tenant_id", "apps", "apps.blueprint", "apps.blueprint.client_id",
                         "apps.vaultwarden.client_secret", "apps.frame_mcp", "apps.frame_mcp.redirect_uris",
                         "apps.frame_mcp.application_id_uri", "apps.frame_mcp.scope"])


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(paths, json_values | st.just(DELETE), min_size=1, max_size=4))
def test_fuzzed_packs_are_accepted_or_refused_by_name(changes):
    try:
        data = pack(**changes)
    except (TypeError, KeyError):
        return  # an earlier change replaced a parent with a non-mapping: not a pack shape to test
    try:
        check(data)
    except ProductError as exc:
        assert exc.details or "schema" in exc.message
        assert "nothing was changed" in str(exc) or "axelabs-bootstrap/v1" in str(exc)
    else:
        # Accepted: then it must carry everything ingest needs.
        assert packs.sso_entry(data, "acme", "acme.axelabs.ai")["tenant_id"] == data["tenant_id"]


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_fuzzed_bytes_never_crash_the_reader(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "pack.json"
    path.write_bytes(raw)
    for fmt in ("json", "text"):
        try:
            data = packs.read(str(path), fmt)
            check(data)
        except ProductError:
            pass
