"""The three modules that change one thing in customers.yaml (customer_entry, customer_entity, customer_wanted_ref), run
as Ansible runs a module (a process given its arguments file), each check -> apply -> check -> apply: the check writes
nothing and shows the diff apply then makes, the second apply changes nothing, and every byte not changed stays."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers.lab import ROOT
from helpers.samples import CUSTOMERS_YAML

ENTRY = ("customer_entry", {"customer": "newco", "legal_name": '주식회사 "뉴코"', "primary_domain": "newco.kr",
                            "entities": ["newco-kr"]}, 'legal_name: "주식회사 \\"뉴코\\""')
ENTITY = ("customer_entity", {"customer": "beta", "entity": "beta-jp", "legal_name": "Beta Japan K.K.",
                              "settings": {"kind": "subsidiary"}, "defaults": {}}, "beta-jp")
WANTED_REF = ("customer_wanted_ref", {"customer": "beta", "service": "frame", "ref": "v2"}, 'ref: "v2"')


def run(module: str, args: dict, customers, check: bool) -> dict:
    args_file = customers.parent / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        **args, "customers_file": str(customers), "_ansible_check_mode": check, "_ansible_diff": True}}))
    proc = subprocess.run([sys.executable, str(ROOT / "plugins" / "modules" / f"{module}.py"), str(args_file)],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT / ".collections")))
    return json.loads(proc.stdout)


@pytest.mark.parametrize("module, args, written", [ENTRY, ENTITY, WANTED_REF], ids=lambda v: v if isinstance(v, str) else "")
def test_check_apply_check_apply(tmp_path, module, args, written):
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML)

    planned = run(module, args, customers, check=True)
    assert planned["changed"] is True and not planned.get("failed"), planned
    assert customers.read_text() == CUSTOMERS_YAML and not (tmp_path / "customers.yaml.bak").exists()
    assert written in planned["diff"]["after"] and planned["diff"]["before"] == CUSTOMERS_YAML

    applied = run(module, args, customers, check=False)
    assert applied["changed"] is True, applied
    text = customers.read_text()
    assert text == planned["diff"]["after"]  # the check showed exactly what apply wrote
    assert (tmp_path / "customers.yaml.bak").read_text() == CUSTOMERS_YAML
    # Only lines were added: every comment and every line of the file before is still there, in order.
    lines = iter(text.splitlines())
    assert all(any(old == new for new in lines) for old in CUSTOMERS_YAML.splitlines())

    for check in (True, False):
        again = run(module, args, customers, check=check)
        assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"] == text, again
    assert customers.read_text() == text


def test_a_new_customer_without_its_required_fields_is_refused_and_the_file_kept(tmp_path):
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML)
    out = run("customer_entry", {"customer": "newco", "legal_name": "Newco"}, customers, check=False)
    assert out["failed"] and "a new customer needs primary_domain, entities" in out["msg"], out
    assert customers.read_text() == CUSTOMERS_YAML and not (tmp_path / "customers.yaml.bak").exists()


def test_a_wanted_ref_for_a_customer_without_a_manifest_is_planned_in_check_mode_and_refused_on_apply(tmp_path):
    """acme has no services manifest yet: before its pack is ingested (a D-day's check) the record is planned; an
    apply without the manifest is T24's refusal (a customer running its own stack), the file kept."""
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML)
    args = {"customer": "acme", "service": "frame", "ref": "v2"}
    planned = run("customer_wanted_ref", args, customers, check=True)
    assert planned["changed"] is True and "once the pack gives acme a services manifest" in planned["msg"], planned
    assert customers.read_text() == CUSTOMERS_YAML
    refused = run("customer_wanted_ref", args, customers, check=False)
    assert refused["failed"] and refused["trap"] == "T24" and "axe customers ingest acme" in refused["next_step"], refused
    assert customers.read_text() == CUSTOMERS_YAML and not (tmp_path / "customers.yaml.bak").exists()
