"""`axe onboard`: from nothing to a tunnel, a CNAME, a running cloudflared and /cdn-cgi/trace 200
through the edge; a dry run changes nothing; a second apply changes nothing; the edge fails when
DNS, credentials or ingress are wrong; a stale A record stops the run until --force-dns (T02)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import cloudflare
import pytest

from helpers.samples import CUSTOMERS_YAML

pytestmark = pytest.mark.lab


def edge_get(edge, host, path):
    req = urllib.request.Request(edge + path, headers={"Host": host})
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def poll(fetch, done, seconds=10.0):
    import time
    deadline = time.monotonic() + seconds
    while True:
        result = fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_onboard_from_nothing_then_no_change_and_the_edge_proves_it(lab, tmp_path):
    customer = "onb"
    domain = f"{customer}.axelabs.ai"
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML.replace("acme", customer))
    env = {"AXE_CUSTOMERS_FILE": str(customers)}
    lab.host("acme")  # the lab and its emulators are up
    settings = dict(ln.removeprefix("export ").split("=", 1) for ln in lab.axe("lab", "env").stdout.splitlines())
    sdk = cloudflare.Cloudflare(api_token=settings["AXE_LAB_CLOUDFLARE_TOKEN"], base_url=settings["AXE_LAB_CLOUDFLARE_URL"])
    zone = next(iter(sdk.zones.list(name="axelabs.ai")))
    edge = settings["AXE_LAB_EDGE_URL"]
    with lab.fresh(customer) as host:
        sdk.dns.records.create(zone_id=zone.id, name=domain, type="TXT", content="MS=ms12345678", ttl=1)
        stale = sdk.dns.records.create(zone_id=zone.id, name=domain, type="A", content="192.0.2.77", ttl=1, proxied=True)
        # Dry run: the plan, and nothing anywhere changes.
        plan = lab.axe("onboard", customer, "--json", env=env)
        assert plan.returncode == 1  # T02 stops even the plan: the stale A record is not ours
        assert f"A 192.0.2.77 (id {stale.id})" in plan.stdout and "T02" in plan.stdout
        plan = lab.axe("onboard", customer, "--force-dns", "--json", env=env)
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert json.loads(plan.stdout)["changed"] == 1
        assert list(sdk.zero_trust.tunnels.cloudflared.list(account_id=zone.account.id, name=f"axe-{customer}",
                                                            is_deleted=False)) == []
        assert host.ssh("test -e ~/.cloudflared", check=False).returncode != 0
        assert edge_get(edge, domain, "/cdn-cgi/trace")[0] == 530

        applied = lab.axe("onboard", customer, "--force-dns", "--apply", "--yes", "--json", env=env)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        status, body = edge_get(edge, domain, "/cdn-cgi/trace")
        assert status == 200 and f"h={domain}" in body
        records = {r.type: r for r in sdk.dns.records.list(zone_id=zone.id, name={"exact": domain})}
        assert set(records) == {"TXT", "CNAME"}  # the TXT survived (T03), the stale A is gone (T02)
        assert host.ssh("stat -c %a ~/.cloudflared/*-*.json").stdout.strip() == "600"
        assert "state = running" in host.ssh("launchctl print gui/501/ai.axelabs.cloudflared").stdout
        # The ingress ends in a 404 catch-all; a path with no service behind it yet answers 502.
        assert edge_get(edge, domain, "/frame/health/ready")[0] == 502
        assert edge_get(edge, "other.axelabs.ai", "/")[0] == 530  # no DNS record: error 1016

        again = lab.axe("onboard", customer, "--apply", "--yes", "--json", env=env)
        assert again.returncode == 0 and json.loads(again.stdout)["changed"] == 0
        pid = host.ssh("launchctl print gui/501/ai.axelabs.cloudflared | grep 'pid ='").stdout
        assert host.ssh("test -e ~/.axe/lock", check=False).returncode != 0  # released after the run

        # Another run holds the host's lock: the plan warns, an apply stops naming the holder,
        # and --lock-wait waits for it.
        host.ssh("mkdir -p ~/.axe/lock && echo '{\"run_id\": \"other\", \"holder\": \"kim@mac\", "
                 "\"purpose\": \"axe deploy frame onb\", \"since\": \"2026-11-24T11:00:00+0000\"}' > ~/.axe/lock/details.json"
                 " && rm ~/.cloudflared/config.yml")
        plan = json.loads(lab.axe("onboard", customer, "--json", env=env).stdout)
        assert "locked by kim@mac" in " ".join(plan["hosts"][customer]["warnings"])
        blocked = lab.axe("onboard", customer, "--apply", "--yes", "--json", env=env)
        messages = " ".join(json.loads(blocked.stdout)["hosts"][customer]["messages"])
        assert blocked.returncode == 1 and "locked by kim@mac" in messages and "axe deploy frame onb" in messages
        assert host.ssh("test -e ~/.cloudflared/config.yml", check=False).returncode != 0  # nothing was done
        release = __import__("subprocess").Popen(["ssh", "-F", str(lab.ssh_config), host.host,
                                                  "sleep 3; rm -rf ~/.axe/lock"])
        waited = lab.axe("onboard", customer, "--apply", "--yes", "--lock-wait", "60", "--json", env=env)
        release.wait(30)
        assert waited.returncode == 0 and json.loads(waited.stdout)["changed"] == 1, waited.stdout

        # A wrong ingress rule (catch-all only) makes the edge answer 404 where the service was routed.
        host.ssh("sed -i '/hostname:/,/service: http:/d' ~/.cloudflared/config.yml && "
                 "launchctl kickstart -k gui/501/ai.axelabs.cloudflared")
        assert poll(lambda: edge_get(edge, domain, "/frame/health/ready"), lambda r: r[0] == 404)[0] == 404
        # Wrong credentials: the edge refuses the connector, the name answers 1033.
        host.ssh("sed -i 's/\"TunnelSecret\": \"[^\"]*\"/\"TunnelSecret\": \"d3Jvbmc=\"/' ~/.cloudflared/*-*.json && "
                 "launchctl kickstart -k gui/501/ai.axelabs.cloudflared; sleep 1")
        status, body = poll(lambda: edge_get(edge, domain, "/cdn-cgi/trace"), lambda r: r[0] != 200)
        assert (status, body) == (530, "error code: 1033\n")
        # A re-run puts the config back, but cannot know the credentials are bad: it stops and says so.
        stuck = lab.axe("onboard", customer, "--apply", "--yes", "--json", env=env)
        message = " ".join(json.loads(stuck.stdout)["hosts"][customer]["messages"])
        assert stuck.returncode == 1 and "1033" in message and "Invalid tunnel secret" in message
        assert "remove /Users/axe/.cloudflared/" in message
        # As it says: without credentials on the host, axe rotates the tunnel secret and installs new ones.
        host.ssh("rm ~/.cloudflared/*-*.json")
        fixed = lab.axe("onboard", customer, "--apply", "--yes", "--json", env=env)
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert poll(lambda: edge_get(edge, domain, "/frame/health/ready"), lambda r: r[0] == 502)[0] == 502
        assert pid  # it was running before the breakage
