"""Nothing typed or received is ever a template (issue 14, item 9).

Jinja put in every CLI argument and every pack field, including a `lookup('pipe', ...)` that would create a file
on the operator's machine: each value is stored literally or refused by name, and the file is never created.
`axe` hands Ansible its values as data (runner.as_data: every string tagged !unsafe in the run's extra-vars file),
and what the modules read from a pack or customers.yaml never goes through a template.
"""
from __future__ import annotations

import json

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from helpers.samples import CUSTOMERS_YAML, pack, write_pack

pytestmark = pytest.mark.lab

CUSTOMER = "injco"


def templates(marker):
    """Jinja of each kind; the last runs `touch marker` on the controller if anything renders it."""
    return ["Inj {{ 7*7 }} Co", "{% if true %}Inj{% endif %} Co", "{{ lookup('pipe', 'touch %s') }}" % marker]


def secret_templates(marker):
    """The same, as a client secret may hold them (printable ASCII, no space: the shell's ${IFS} is the space)."""
    return ["sec~{{7*7}}", "sec~{%if(1)%}x{%endif%}", "sec~{{lookup('pipe','touch${IFS}%s')}}" % marker]


def test_every_argument_and_pack_field_reaches_the_product_literally(lab, tmp_path):
    lab.host("acme")
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML)
    env = {"AXE_CUSTOMERS_FILE": str(customers)}
    marker = tmp_path / "rendered"
    seen = []

    def axe(*args):
        proc = lab.axe(*args, env=env)
        seen.append((args, proc.returncode, proc.stdout + proc.stderr))
        assert not marker.exists(), "rendered as a template: %s" % (args,)
        return proc

    # The legal name: stored exactly as typed (a legal name may hold any printable character).
    for i, name in enumerate(templates(marker)):
        customer = "%s%d" % (CUSTOMER, i)
        added = axe("customers", "add", customer, "--legal-name", name, "--primary-domain", "%s.example" % customer,
                    "--entity", "%s-kr" % customer, "--apply", "--yes")
        assert added.returncode == 0, added.stdout + added.stderr
        assert cf.plain(cf.CustomersFile(str(customers)).load().entry(customer))["legal_name"] == name
    # Ids and domains: refused by their form, naming the argument; customers.yaml untouched.
    before = customers.read_bytes()
    for bad in templates(marker):
        for args in (["customers", "add", CUSTOMER, "--legal-name", "Inj", "--primary-domain", bad, "--entity", "injco-kr"],
                     ["customers", "add", CUSTOMER, "--legal-name", "Inj", "--primary-domain", "inj.example", "--entity", bad],
                     ["customers", "add", CUSTOMER, "--legal-name", "Inj", "--public-domain", bad, "--entity", "injco-kr"]):
            refused = axe(*args, "--apply", "--yes")
            assert refused.returncode != 0, refused.stdout
        assert customers.read_bytes() == before

    # A pack whose path and fields hold templates: the path is opened as named; every field is stored literally
    # (the secret, read back from the vault) or refused by the schema, with nothing changed.
    add = axe("customers", "add", CUSTOMER, "--legal-name", "Inj Co", "--primary-domain", "inj.example",
              "--entity", "injco-kr", "--apply", "--yes")
    assert add.returncode == 0, add.stdout + add.stderr
    for i, (bad, bad_secret) in enumerate(zip(templates(marker), secret_templates(marker))):
        base = json.loads(json.dumps(pack()).replace("acme", CUSTOMER))
        path = tmp_path / ("pack-%d-%s.json" % (i, bad.replace("/", "_")))
        write_pack(path, base)
        planned = axe("customers", "ingest", CUSTOMER, str(path), "--json")
        assert planned.returncode == 0, planned.stdout + planned.stderr  # the file named with braces was read
        # The secret is stored: every kind of template must come back as typed. The other fields are refused by
        # the pack schema's form, whatever the template: each is refused once, with the template that would run a
        # command (the last kind), not three times over.
        stored_only = i < len(templates(marker)) - 1
        for field in ("apps.blueprint.client_secret",) if stored_only else (
                "apps.blueprint.client_secret", "apps.blueprint.client_id", "tenant_id", "customer", "apps.frame_mcp.scope"):
            fields = json.loads(json.dumps(base))
            node = fields
            *parents, last = field.split(".")
            for part in parents:
                node = node[part]
            node[last] = bad if field != "apps.blueprint.client_secret" else bad_secret
            target = write_pack(tmp_path / ("field-%d.json" % i), fields)
            before = customers.read_bytes()
            ingested = axe("customers", "ingest", CUSTOMER, str(target), "--apply", "--yes", "--json")
            if field == "apps.blueprint.client_secret":
                assert ingested.returncode == 0, ingested.stdout + ingested.stderr
                got = axe("secret", "get", "AZURE_INJCO_BLUEPRINT_CLIENT_SECRET", "--customer", CUSTOMER,
                          "--service", "blueprint")
                assert got.stdout == bad_secret + "\n"
            else:  # refused by the pack's schema, nothing changed
                assert ingested.returncode != 0, (field, ingested.stdout)
                assert customers.read_bytes() == before, field
    # A ref: refused or not found as typed, never rendered.
    for bad in templates(marker):
        axe("deploy", "frame", "acme", "--ref", bad)
    assert not marker.exists()
