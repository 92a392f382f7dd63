"""D-day step 1 against the lab vault: `axe customers ingest`, `axe secret push/get`, and the proof
that no secret value is left anywhere a run writes."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers.samples import CUSTOMERS_YAML, PACK, SECRETS, write_pack

pytestmark = pytest.mark.lab


class Outputs(list):
    """Everything the commands printed, to search for secrets at the end."""

    def run(self, lab, *args, **kw):
        proc = lab.axe(*args, **kw)
        self.append(proc.stdout + proc.stderr)
        return proc


def vault_items(lab, customer):
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault
    from axe_lab import services
    return vault.backend("bw_serve", url=services.vault_url(lab.lab)).list(customer)


def test_ingest_dry_run_apply_reapply_changed_pack_and_no_secret_left(lab, tmp_path):
    lab.host("acme")  # the lab (and its vault) is up, and axe's settings point at it
    customer = "ingest1"
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML.replace("acme", customer))
    env = {"AXE_CUSTOMERS_FILE": str(customers)}
    data = json.loads(json.dumps(PACK).replace("acme", customer))
    pack_file = write_pack(tmp_path / f"axelabs-bootstrap-{customer}.json", data)
    out = Outputs()
    original = customers.read_bytes()

    # 1. Dry run: the plan names the three items and the file diff, and changes nothing.
    plan = out.run(lab, "customers", "ingest", customer, str(pack_file), "--json", env=env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    report = json.loads(plan.stdout)
    assert report["mode"] == "plan" and report["changed"] == 1 and report["applied"] is False
    items = report["hosts"][customer]["ingest"]["vault_items"]
    assert [(i["env"], i["action"]) for i in items] == [
        (f"AZURE_{customer.upper()}_BLUEPRINT_CLIENT_SECRET", "create"),
        (f"AZURE_{customer.upper()}_VAULTWARDEN_CLIENT_SECRET", "create"),
        (f"AZURE_{customer.upper()}_FRAME_MCP_CLIENT_SECRET", "create")]
    assert customers.read_bytes() == original
    assert vault_items(lab, customer) == []
    human = out.run(lab, "customers", "ingest", customer, str(pack_file), env=env)
    assert "+      tenant_id: \"3f2b8c1e" in human.stdout and "dry run: nothing was changed" in human.stdout

    # 2. Without a terminal and without --yes, --apply refuses.
    refused = out.run(lab, "customers", "ingest", customer, str(pack_file), "--apply", env=env)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert customers.read_bytes() == original

    # 3. Apply: the entry and the vault hold exactly what the pack says.
    applied = out.run(lab, "customers", "ingest", customer, str(pack_file), "--apply", "--yes", "--json", env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert json.loads(applied.stdout)["mode"] == "apply"
    text = customers.read_text()
    assert f'tenant_id: "{PACK["tenant_id"]}"' in text
    assert "    - rc-main       # the only entity" in text  # another customer's bytes, untouched
    for app, service in (("blueprint", "blueprint"), ("vaultwarden", "vault"), ("frame_mcp", "frame")):
        got = out.run(lab, "secret", "get", f"AZURE_{customer.upper()}_{app.upper()}_CLIENT_SECRET",
                      "--customer", customer, "--service", service, env=env)
        assert got.returncode == 0 and got.stdout == PACK["apps"][app]["client_secret"] + "\n"
    assert (tmp_path / "customers.yaml.bak").read_bytes() == original

    # 4. Again: no change anywhere.
    again = out.run(lab, "customers", "ingest", customer, str(pack_file), "--apply", "--yes", "--json", env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["changed"] == 0
    after_first = customers.read_bytes()

    # 5. A changed pack changes only what changed.
    new_secret = "bp~NEW0secret0value0for0the0blueprint0app"
    changed = json.loads(json.dumps(data))
    changed["apps"]["blueprint"]["client_secret"] = new_secret
    changed["apps"]["blueprint"]["client_id"] = "5f0e8c1e-0000-4e7b-9c21-7a6d5e4f3b2a"
    write_pack(pack_file, changed)
    step = out.run(lab, "customers", "ingest", customer, str(pack_file), "--apply", "--yes", "--json", env=env)
    assert step.returncode == 0, step.stdout + step.stderr
    actions = {i["env"].split("_")[2]: i["action"] for i in json.loads(step.stdout)["hosts"][customer]["ingest"]["vault_items"]}
    assert actions == {"BLUEPRINT": "update", "VAULTWARDEN": "unchanged", "FRAME": "unchanged"}
    diff = [ln for ln in __import__("difflib").unified_diff(after_first.decode().splitlines(), customers.read_text().splitlines(), n=0)
            if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))]
    assert diff == ['-          client_id: "0c9e1d2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"',
                    '+          client_id: "5f0e8c1e-0000-4e7b-9c21-7a6d5e4f3b2a"']

    # 6. A bad pack changes nothing anywhere and says what to fix.
    before_bad = customers.read_bytes()
    bad = json.loads(json.dumps(changed))
    bad["apps"]["blueprint"]["client_secret"] = "bp~this0would0be0a0third0value0if0accepted"
    bad["tenant_id"] = "not-a-uuid"
    write_pack(pack_file, bad)
    refused = out.run(lab, "customers", "ingest", customer, str(pack_file), "--apply", "--yes", env=env)
    assert refused.returncode == 1
    assert "tenant_id: 'not-a-uuid' does not have the expected form" in refused.stdout
    assert customers.read_bytes() == before_bad
    got = out.run(lab, "secret", "get", f"AZURE_{customer.upper()}_BLUEPRINT_CLIENT_SECRET",
                  "--customer", customer, "--service", "blueprint", env=env)
    assert got.stdout == new_secret + "\n"

    # 7. secret push: refused outside the manifest (T08), accepted inside it, value from stdin.
    pushed = "operator~pushed~value~0123456789"
    t08 = out.run(lab, "secret", "push", "FRAME_NOT_DECLARED", "--customer", customer, "--service", "frame",
                  "--apply", "--yes", input_text=pushed, env=env)
    assert t08.returncode == 1 and "FRAME_NOT_DECLARED not in manifest" in t08.stdout and "T08" in t08.stdout
    ok = out.run(lab, "secret", "push", f"AZURE_{customer.upper()}_FRAME_MCP_CLIENT_SECRET", "--customer", customer,
                 "--service", "frame", "--apply", "--yes", input_text=pushed, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    got = out.run(lab, "secret", "get", f"AZURE_{customer.upper()}_FRAME_MCP_CLIENT_SECRET", "--customer", customer,
                  "--service", "frame", env=env)
    assert got.stdout == pushed + "\n"
    sovereign = out.run(lab, "secret", "push", "ANY_SECRET", "--customer", "realchoice", "--service", "frame",
                        "--apply", "--yes", input_text=pushed, env=env)
    assert sovereign.returncode == 1 and "T24" in sovereign.stdout

    # 8. No secret value anywhere a run left anything: artifacts, logs, customers.yaml and its backup,
    #    and what the commands printed (`secret get`'s own stdout excepted: printing it is its job).
    values = SECRETS + [new_secret, pushed, bad["apps"]["blueprint"]["client_secret"]]
    state = Path(os.environ["AXE_STATE_DIR"])
    run_files = [p for p in state.rglob("*") if p.is_file() and p.relative_to(state).parts[0] != "lab"]
    run_files += [p for p in tmp_path.glob("customers.yaml*") if p.is_file()]
    assert any(p.relative_to(state).parts[0] == "runs" for p in run_files if p.is_relative_to(state))
    leaks = [f"{p}: {v[:6]}..." for p in run_files for v in values if v.encode() in p.read_bytes()]
    printed = [o for o in out if not any(o == v + "\n" for v in values)]
    leaks += [f"output: {v[:6]}..." for o in printed for v in values if v in o]
    assert leaks == []
    # The search is not vacuous: the values are in the vault (read back above through the real bw serve), and
    # the vault server's own store holds them only as the CLI encrypted them.
    vault_store = next((state / "lab").rglob("bitwarden-server.json")).read_bytes()
    assert b'"ciphers"' in vault_store and not [v for v in (new_secret, pushed) if v.encode() in vault_store]
