"""`axe health`'s verdicts without a host: which container states make a service healthy, and the CLI's refusals."""
import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue, stack
from axe import cli

STACK = catalogue.stack(catalogue.load())
FRAME = next(e for e in STACK if e["service"] == "frame")
VAULT = next(e for e in STACK if e["service"] == "vault")


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
    assert [e["service"] for e in STACK] == ["cloudflared", "frame", "blueprint", "hive", "vault"]
    assert all(e["external_path"].startswith("/") for e in STACK)
    assert [e["service"] for e in STACK if not e["local_url"]] == ["cloudflared"]


@pytest.mark.parametrize("argv, words", [(["health"], "no customer given"), (["health", "Bad_Id"], "T25")])
def test_health_refuses_before_any_request(argv, words, capsys, monkeypatch, tmp_path):
    (tmp_path / "customers.yaml").write_text("customers: {}\n")
    monkeypatch.setenv("AXE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("AXE_CONFIG", str(tmp_path / "none.env"))
    monkeypatch.setenv("AXE_CUSTOMERS_FILE", str(tmp_path / "customers.yaml"))
    assert cli.main(argv) == 2
    assert words in capsys.readouterr().err


def test_the_catalogue_derives_health_and_ingress_from_the_roles_data():
    """One fact, one place: each role's definition gives its port once; the health URL on the host, the
    containers to look at and cloudflared's rule all come from it."""
    by_name = {d["name"]: d for d in catalogue.load()}
    assert FRAME == {"service": "frame", "containers": ["axe-frame-proxy", "frame-postgres"],
                     "colours": ["frame-mcp-blue", "frame-mcp-green"],
                     "local_url": "http://127.0.0.1:%d/frame/health/ready" % by_name["frame"]["proxy"]["port"],
                     "external_path": "/frame/health/ready"}
    assert VAULT["containers"] == [by_name["vault"]["container"]] and VAULT["colours"] == []
    rules = catalogue.ingress(list(by_name.values()))
    assert [r["name"] for r in rules][-1] == "blueprint" and rules[-1]["path"] == ""  # the catch-all, tried last
    assert {r["name"]: r["port"] for r in rules} == {n: catalogue.port(d) for n, d in by_name.items()}


def _role(root, name, **definition):
    import yaml
    (root / "roles" / name / "vars").mkdir(parents=True)
    (root / "roles" / name / "vars" / "main.yml").write_text(yaml.safe_dump({f"{name}_definition": {"name": name, **definition}}))


def test_a_new_role_of_data_joins_the_catalogue_in_its_order_and_a_clash_is_refused(tmp_path):
    _role(tmp_path, "zeta", order=1, container="zeta-app", port=18100, ingress_path="^/zeta/", external_path="/zeta/ok")
    _role(tmp_path, "alpha", order=2, container="alpha-app", port=18101, ingress_path="", external_path="/ok")
    (tmp_path / "roles" / "engine" / "vars").mkdir(parents=True)  # a role that is not a service: not in the catalogue
    (tmp_path / "roles" / "engine" / "vars" / "main.yml").write_text("engine_settings: {}\n")
    assert catalogue.names(catalogue.load(str(tmp_path))) == ["zeta", "alpha"]
    _role(tmp_path, "beta", order=3, container="beta-app", port=18100, ingress_path="^/beta/", external_path="/b")
    with pytest.raises(catalogue.CatalogueError, match="zeta and beta both claim port 18100"):
        catalogue.load(str(tmp_path))


def test_a_second_catch_all_is_refused(tmp_path):
    _role(tmp_path, "one", order=1, container="one", port=1, ingress_path="", external_path="/a")
    _role(tmp_path, "two", order=2, container="two", port=2, ingress_path="", external_path="/b")
    with pytest.raises(catalogue.CatalogueError, match="both claim ingress path ''"):
        catalogue.load(str(tmp_path))
