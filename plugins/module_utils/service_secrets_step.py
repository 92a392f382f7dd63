# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service_secrets module's work (vault_check, secrets_bootstrap), given its validated parameters.

Two callers run it: the module itself, and its action plugin (plugins/action/service_secrets.py), which runs it in
the controller's own worker process. The work is the controller's anyway (customers.yaml and the vault live there),
and a service's own deploy then needs no module process on the controller at all (under Mitogen, starting one costs
about 0.45 s: scripts/bench_dday.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils import service_secrets as ss
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

STEPS = ["vault_check", "secrets_bootstrap"]


def argument_spec():
    spec = dict(customer=dict(type="str", required=True),
                service=dict(type="str", required=True),
                secrets=dict(type="list", elements="dict", required=True, no_log=False),  # names, not values
                step=dict(type="str", default="vault_check", choices=STEPS),
                env=dict(type="dict", default={}), generate_bytes=dict(type="int", default=32),
                planned=dict(type="dict"))
    spec.update(common_args.customers_file_spec())
    spec.update(common_args.vault_spec())
    return spec


def load(path, customer, text=None):
    f = cf.CustomersFile(path).load(text=text)
    entry = f.entry(customer)
    manifest = f.manifest(customer)
    if not manifest:
        raise ProductError("services not declared for %s: the customer deploys its own stack (sovereignty, decision "
                           "D-ops-40 / B-customer-sovereignty-architecture)" % customer, trap="T24",
                           next_step="nothing to deploy for %s: the operator supplies software and DNS/cloudflared only" % customer)
    return f, cf.plain(entry), manifest


def add_slots(path, customer, slots):
    """Write the generated secrets' slots into customers.yaml (under its lock, atomically)."""
    with cf.FileLock(path):
        f = cf.CustomersFile(path).load()
        services = f.document.get("services")
        for owner, envs in sorted(slots.items()):
            per_service = services.get(owner)
            if per_service is None:
                services[owner] = per_service = cf.quoted({})
            manifest = per_service.get(customer)
            if manifest is None:
                per_service[customer] = manifest = cf.quoted({"secrets": []})
            listed = [s.get("env") for s in manifest.setdefault("secrets", [])]
            for env in envs:
                if env not in listed:
                    manifest["secrets"].append(cf.quoted({"env": env, "source": "generated", "auto_generate": True}))
        before = f.text
        after = f.render()
        if after != before:
            f.write(after)
        return before, after


def run(p, check_mode, diff_mode, hide):
    """The result for parameters `p`; raises ProductError. `hide(value)` is called with each value generated, before
    it goes to the vault: the caller keeps it out of everything it returns or logs."""
    customer, service = p["customer"], p["service"]
    common_args.require_customer(customer)
    path = common_args.customers_file(p)
    generated, slots, diff = [], {}, None
    planned, will_exist = common_args.planned_vault(p, check_mode)
    dummy, entry, manifest = load(path, customer, planned.get("customers_text"))
    ents = ss.entities(entry)
    vault = common_args.vault_from(p)
    vault.status()
    secrets, env, env_missing, gaps = ss.check_needs(vault, customer, service, entry, manifest, p["secrets"],
                                                     p["env"], will_exist)
    # Settings from customers.yaml belong in the same report: blueprint without its Entra ids is T10.
    gaps += [(name, "no value in customers.yaml for %s" % p["env"][name],
              "axe customers ingest %s PACK.json --apply (the customer IT's pack carries it)" % customer)
             for name in env_missing]
    if gaps:
        raise ProductError("%d value(s) %s needs for %s are missing" % (len(gaps), service, customer),
                           trap="T10" if env_missing and service == "blueprint" else "T08",
                           details=["%s: %s -> %s" % gap for gap in gaps],
                           next_step="run each command above, then deploy again (nothing was changed)")
    if p["step"] == "secrets_bootstrap":
        generated = [s["env"] for s in secrets if s["auto_generate"] and not s["present"]]
        slots = ss.slots_to_add(secrets, manifest)
        if not check_mode:
            for s in secrets:
                if s["env"] in generated:
                    value = base64.urlsafe_b64encode(os.urandom(p["generate_bytes"])).decode().rstrip("=")
                    hide(value)
                    vault.put(customer, s["owner"], s["env"], value)
                    s["present"] = True
            if slots:
                diff = add_slots(path, customer, slots)
    result = dict(changed=bool(generated or slots), secrets=secrets, generated=generated, slots_added=slots,
                  customer_entry=entry, entities=ents, env=env, env_missing=env_missing)
    if diff_mode:
        if diff:
            result["diff"] = dict(before_header=path, after_header=path, before=diff[0], after=diff[1])
        else:
            result["diff"] = dict(before="", after="".join("+ vault %s (generated)\n" % e for e in generated) +
                                  "".join("+ slot services.%s.%s: %s\n" % (o, customer, e)
                                          for o, envs in sorted(slots.items()) for e in envs))
    return result
