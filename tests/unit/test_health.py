"""`axe health`'s verdicts without a host: which container states make a service healthy, and the CLI's refusals."""
import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import stack
from axe import cli

FRAME = next(e for e in stack.STACK if e["service"] == "frame")
VAULT = next(e for e in stack.STACK if e["service"] == "vault")


@pytest.mark.parametrize("states, ok", [
    ({"axe-frame-proxy": "running", "frame-postgres": "running", "frame-mcp-blue": "running", "frame-mcp-green": "missing"}, True),
    ({"axe-frame-proxy": "running", "frame-postgres": "running", "frame-mcp-blue": "exited", "frame-mcp-green": "running"}, True),
    ({"axe-frame-proxy": "running", "frame-postgres": "running", "frame-mcp-blue": "exited", "frame-mcp-green": "missing"}, False),
    ({"axe-frame-proxy": "restarting", "frame-postgres": "running", "frame-mcp-blue": "running"}, False),
])
def test_a_blue_green_service_needs_its_proxy_and_one_colour(states, ok):
    assert stack.container_verdict(states, FRAME) is ok


def test_a_single_container_service_needs_it_running():
    assert stack.container_verdict({"axe-vaultwarden": "running"}, VAULT)
    assert not stack.container_verdict({"axe-vaultwarden": "missing"}, VAULT)


def test_every_service_is_checked_from_outside_and_all_but_the_tunnel_from_the_host():
    assert stack.services() == ["cloudflared", "frame", "blueprint", "hive", "vault"]
    assert all(e["external_path"].startswith("/") for e in stack.STACK)
    assert [e["service"] for e in stack.STACK if not e["local_url"]] == ["cloudflared"]


@pytest.mark.parametrize("argv, words", [(["health"], "no customer given"), (["health", "Bad_Id"], "T25")])
def test_health_refuses_before_any_request(argv, words, capsys, monkeypatch, tmp_path):
    (tmp_path / "customers.yaml").write_text("customers: {}\n")
    monkeypatch.setenv("AXE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("AXE_CONFIG", str(tmp_path / "none.env"))
    monkeypatch.setenv("AXE_CUSTOMERS_FILE", str(tmp_path / "customers.yaml"))
    assert cli.main(argv) == 2
    assert words in capsys.readouterr().err


def _yaml(path):
    import yaml
    from pathlib import Path
    return yaml.safe_load((Path(__file__).resolve().parents[2] / path).read_text())


def test_the_stack_table_agrees_with_the_roles_and_cloudflareds_ingress():
    """module_utils/stack.py repeats what the roles declare; this keeps the two from drifting apart."""
    from urllib.parse import urlsplit
    ports = {rule["name"]: rule["port"] for rule in _yaml("roles/cloudflared/defaults/main.yml")["cloudflared_ingress"]}
    vault = _yaml("roles/vault/vars/main.yml")
    for entry in stack.STACK:
        service = entry["service"]
        if not entry["local_url"]:
            continue
        assert urlsplit(entry["local_url"]).port == ports[service], service
        if service == "vault":
            assert entry["containers"] == [_yaml("roles/vault/defaults/main.yml")["vault_service"]]
            assert "vault_definition" in vault
            continue
        definition = _yaml(f"roles/{service}/vars/main.yml")[f"{service}_definition"]
        assert entry["external_path"] == definition["external_path"], service
        assert urlsplit(entry["local_url"]).path == definition["external_path"], service
        slots = [s["service"] for s in definition["slots"].values()]
        fixed = ([definition["proxy"]["service"]] if definition.get("proxy") else []) + list(definition.get("support") or [])
        if definition.get("proxy"):
            assert (sorted(entry["containers"]), sorted(entry["colours"])) == (sorted(fixed), sorted(slots)), service
            # What a failed deploy measures as "what cloudflared forwards to" is the port cloudflared forwards to.
            assert definition["proxy"]["port"] == ports[service], service
        else:
            assert (entry["containers"], entry["colours"]) == (slots, []), service
