"""Cloudflare tunnel and DNS modules, with the official SDK talking to the lab's emulator over HTTP.
Each module call is paired check -> apply -> check -> apply; the emulator's answers are checked
against Cloudflare's published OpenAPI schema."""
from __future__ import annotations

import json
import os
import subprocess
import uuid

import cloudflare
import jsonschema
import pytest

from helpers.lab import ROOT, SHARED_DIR, VENV_BIN

pytestmark = pytest.mark.lab
SPEC = json.loads((SHARED_DIR / "specs/cloudflare-openapi-subset.json").read_text())


@pytest.fixture
def cf_env(lab):
    lab.host("acme")
    settings = dict(ln.removeprefix("export ").split("=", 1) for ln in lab.axe("lab", "env").stdout.splitlines())
    return {"CLOUDFLARE_BASE_URL": settings["AXE_LAB_CLOUDFLARE_URL"], "CLOUDFLARE_API_TOKEN": settings["AXE_LAB_CLOUDFLARE_TOKEN"],
            "AXE_CLOUDFLARE_ZONE": settings["AXE_LAB_ZONE"]}


@pytest.fixture
def sdk(cf_env):
    return cloudflare.Cloudflare(api_token=cf_env["CLOUDFLARE_API_TOKEN"], base_url=cf_env["CLOUDFLARE_BASE_URL"])


def module(cf_env, tmp_path, name, args, *extra, expect_rc=0):
    env = {**os.environ, **cf_env, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".collections")}
    proc = subprocess.run([str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", f"axelabs.onboard.{name}",
                           "-a", json.dumps(args), "-e", f"ansible_python_interpreter={VENV_BIN / 'python'}", *extra],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == expect_rc, proc.stdout + proc.stderr
    return json.loads(proc.stdout.split(" => ", 1)[1])


def zone(sdk, cf_env):
    return next(iter(sdk.zones.list(name=cf_env["AXE_CLOUDFLARE_ZONE"])))


def test_tunnel_check_apply_check_apply_and_never_a_second_one(cf_env, sdk, tmp_path):
    name = f"axe-t{uuid.uuid4().hex[:8]}"
    first = module(cf_env, tmp_path, "cloudflare_tunnel", {"name": name}, "--check")
    assert first["changed"] and first["created"] and "credentials" not in first
    made = module(cf_env, tmp_path, "cloudflare_tunnel", {"name": name})
    assert made["changed"] and made["tunnel_id"]
    # The credentials reach the play whole: the secret cloudflared must present to the edge.
    creds = made["credentials"]
    assert creds["TunnelID"] == made["tunnel_id"] and len(__import__("base64").b64decode(creds["TunnelSecret"])) == 32
    again = module(cf_env, tmp_path, "cloudflare_tunnel", {"name": name}, "--check")
    assert not again["changed"] and again["tunnel_id"] == made["tunnel_id"]
    again = module(cf_env, tmp_path, "cloudflare_tunnel", {"name": name})
    assert not again["changed"] and "credentials" not in again
    account = zone(sdk, cf_env).account.id
    assert [t.id for t in sdk.zero_trust.tunnels.cloudflared.list(account_id=account, name=name, is_deleted=False)] \
        == [made["tunnel_id"]]
    gone = module(cf_env, tmp_path, "cloudflare_tunnel", {"name": name, "state": "absent"})
    assert gone["changed"]
    assert not module(cf_env, tmp_path, "cloudflare_tunnel", {"name": name, "state": "absent"})["changed"]


def test_dns_cname_keeps_the_txt_and_is_idempotent(cf_env, sdk, tmp_path):
    z = zone(sdk, cf_env)
    name = f"c{uuid.uuid4().hex[:8]}.{z.name}"
    txt = sdk.dns.records.create(zone_id=z.id, name=name, type="TXT", content="ms=verify-12345", ttl=1)
    tunnel_id = str(uuid.uuid4())
    args = {"name": name, "tunnel_id": tunnel_id, "customer": "acme"}
    plan = module(cf_env, tmp_path, "cloudflare_dns", args, "--check", "--diff")
    assert plan["changed"] and [a["action"] for a in plan["actions"]] == ["create"]
    assert list(sdk.dns.records.list(zone_id=z.id, name={"exact": name}, type="CNAME")) == []
    assert module(cf_env, tmp_path, "cloudflare_dns", args)["changed"]
    assert not module(cf_env, tmp_path, "cloudflare_dns", args, "--check")["changed"]
    final = module(cf_env, tmp_path, "cloudflare_dns", args)
    assert not final["changed"] and final["kept"] == [{"type": "TXT", "content": "ms=verify-12345", "id": txt.id}]
    records = {r.type: r for r in sdk.dns.records.list(zone_id=z.id, name={"exact": name})}
    assert set(records) == {"TXT", "CNAME"}
    assert records["CNAME"].content == f"{tunnel_id}.cfargotunnel.com" and records["CNAME"].proxied
    assert records["CNAME"].comment == "managed by axe (axelabs.onboard) for customer acme"
    # The same name, asked for by another customer: acme's record is foreign to it (T02), untouched.
    other = module(cf_env, tmp_path, "cloudflare_dns", {**args, "customer": "beta"}, expect_rc=2)
    assert other["trap"] == "T02" and "axe's for customer acme" in other["msg"]
    assert {r.type: r.comment for r in sdk.dns.records.list(zone_id=z.id, name={"exact": name})}["CNAME"] == \
        records["CNAME"].comment


def test_stale_a_record_is_reported_then_replaced_only_when_asked(cf_env, sdk, tmp_path):
    z = zone(sdk, cf_env)
    name = f"s{uuid.uuid4().hex[:8]}.{z.name}"
    stale = sdk.dns.records.create(zone_id=z.id, name=name, type="A", content="192.0.2.10", ttl=1, proxied=True)
    args = {"name": name, "tunnel_id": str(uuid.uuid4()), "customer": "acme"}
    refused = module(cf_env, tmp_path, "cloudflare_dns", args, expect_rc=2)
    assert refused["trap"] == "T02" and f"A 192.0.2.10 (id {stale.id})" in refused["msg"]
    assert [r.id for r in sdk.dns.records.list(zone_id=z.id, name={"exact": name})] == [stale.id]
    replaced = module(cf_env, tmp_path, "cloudflare_dns", {**args, "replace_conflicting": True})
    assert [a["action"] for a in replaced["actions"]] == ["delete", "create"]
    assert [r.type for r in sdk.dns.records.list(zone_id=z.id, name={"exact": name})] == ["CNAME"]


def test_token_without_dns_permission_gets_the_named_error(cf_env, lab, tmp_path):
    no_dns = (lab.lab.state_dir / "cloudflare" / "token-no-dns").read_text().strip()
    out = module({**cf_env, "CLOUDFLARE_API_TOKEN": no_dns}, tmp_path, "cloudflare_dns",
                 {"name": f"x.{cf_env['AXE_CLOUDFLARE_ZONE']}", "tunnel_id": str(uuid.uuid4()), "customer": "acme"},
                 expect_rc=2)
    assert out["trap"] == "T09" and "lacks the permission DNS:Read" in out["msg"]
    assert no_dns not in json.dumps(out)


def test_429_and_500_bursts_are_survived(cf_env, sdk, tmp_path):
    import urllib.request
    base = cf_env["CLOUDFLARE_BASE_URL"].rsplit("/client/v4", 1)[0]
    for status, count in ((429, 2), (500, 1)):
        req = urllib.request.Request(base + "/_lab/fail", method="POST",
                                     data=json.dumps({"status": status, "count": count}).encode())
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10).read()
    name = f"axe-b{uuid.uuid4().hex[:8]}"
    made = module(cf_env, tmp_path, "cloudflare_tunnel", {"name": name})
    assert made["changed"] and made["tunnel_id"]
    module(cf_env, tmp_path, "cloudflare_tunnel", {"name": name, "state": "absent"})


def _nullable(node):
    """OpenAPI 3.0's `nullable: true` is JSON Schema's type [X, "null"]. Some fields say so only in
    prose ("If `null`, the resource has not been deleted."): those are nullable too."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        prose_null = "If `null`" in str(node.get("description", ""))
        if (node.get("nullable") or prose_null) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def _response_schema(path, method):
    schema = SPEC["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    return _nullable({**schema, "components": SPEC["components"]})


def test_emulator_answers_match_cloudflares_openapi_schema(cf_env, sdk):
    """Types and required fields must match (unknown fields are allowed, as in the SDK)."""
    z = zone(sdk, cf_env)
    account = z.account.id
    raw = sdk.with_raw_response
    name = f"axe-o{uuid.uuid4().hex[:8]}"
    tunnel = raw.zero_trust.tunnels.cloudflared.create(account_id=account, name=name, config_src="local",
                                                      tunnel_secret="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==")
    cases = [
        ("/zones", "get", raw.zones.list(name=z.name)),
        ("/zones/{zone_id}/dns_records", "get", raw.dns.records.list(zone_id=z.id)),
        ("/zones/{zone_id}/dns_records", "post", raw.dns.records.create(
            zone_id=z.id, name=f"o{uuid.uuid4().hex[:6]}.{z.name}", type="TXT", content="x", ttl=1)),
        ("/accounts/{account_id}/cfd_tunnel", "post", tunnel),
        ("/accounts/{account_id}/cfd_tunnel", "get", raw.zero_trust.tunnels.cloudflared.list(account_id=account)),
        ("/user/tokens/verify", "get", raw.user.tokens.verify()),
    ]
    for path, method, response in cases:
        jsonschema.Draft7Validator(_response_schema(path, method)).validate(response.http_response.json())
    sdk.zero_trust.tunnels.cloudflared.delete(tunnel.parse().id, account_id=account)


def test_a_lookup_that_fits_one_page_is_one_request_and_a_longer_one_reads_every_page(cf_env, sdk):
    """The SDK's own iteration asks for the page after every non-empty one (an empty round trip on each lookup);
    CloudflareClient.listed stops at a short page and still reads every page of a longer list."""
    import httpx
    from ansible_collections.axelabs.onboard.plugins.module_utils.cloudflare import CloudflareClient

    z = zone(sdk, cf_env)
    name = f"p{uuid.uuid4().hex[:8]}.{z.name}"
    made = [sdk.dns.records.create(zone_id=z.id, name=name, type="TXT", content=f"v{i}", ttl=1).id for i in range(5)]
    requests = []
    client = CloudflareClient(cf_env["CLOUDFLARE_API_TOKEN"], z.name, base_url=cf_env["CLOUDFLARE_BASE_URL"])
    client.sdk = cloudflare.Cloudflare(api_token=cf_env["CLOUDFLARE_API_TOKEN"], base_url=cf_env["CLOUDFLARE_BASE_URL"],
                                       http_client=httpx.Client(event_hooks={"request": [requests.append]}))
    client.zone()
    del requests[:]
    assert sorted(r["id"] for r in client.records_at(name)) == sorted(made)
    assert len(requests) == 1
    del requests[:]
    paged = client.listed("DNS record lookup", "DNS:Read", client.sdk.dns.records.list, 2, zone_id=z.id,
                          name={"exact": name})
    assert sorted(r.id for r in paged) == sorted(made)
    assert [r.url.params.get("page", "1") for r in requests] == ["1", "2", "3"]
    for record_id in made:
        sdk.dns.records.delete(record_id, zone_id=z.id)
