# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trap_preflight module's work, given its validated parameters: run by the module, and, when it makes no
controller checks (a service's own deploy), by its action plugin in the controller's own process."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils import host_checks
from ansible_collections.axelabs.onboard.plugins.module_utils import trap_checks as checks
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

VALIDATION = dict(required_if=[("controller_checks", True, ("public_domain",))])


def argument_spec():
    spec = dict(customer=dict(type="str", required=True),
                findings=dict(type="list", elements="dict", default=[]),
                tailscale=dict(type="dict"), tailscale_host=dict(type="str"),
                allow_relayed=dict(type="bool", default=False),
                controller_checks=dict(type="bool", default=False),
                public_domain=dict(type="str"),
                force_dns=dict(type="bool", default=False),
                definitions=dict(type="dict", default={}),
                planned=dict(type="dict"))
    spec.update(common_args.cloudflare_spec())
    spec.update(common_args.vault_spec())
    spec.update(common_args.customers_file_spec())
    return spec


def controller_findings(p, check_mode, result):
    customer = p["customer"]
    planned, will_exist = common_args.planned_vault(p, check_mode)
    found, dummy, entry, manifest = checks.customer_entry(common_args.customers_file(p), customer,
                                                          planned.get("customers_text"))
    if entry is not None:
        result["managed"] = bool(manifest)
    vault = common_args.vault_from(p)
    vault_problems = checks.vault_reachable(vault)
    found += vault_problems
    found += checks.cloudflare(common_args.cloudflare_from(p) if p["api_token"] else None, p["api_token"],
                               (p["public_domain"] or "").rstrip(".").lower(), p["force_dns"], customer)
    if entry is not None and manifest and not vault_problems:
        found += checks.service_values(vault, customer, entry, manifest, p["definitions"], will_exist)
        result["values_checked"] = sorted(p["definitions"])
    return found


class Blocked(ProductError):
    """Findings block the run: the error carries the whole report (every finding, not only the blocking ones)."""

    def __init__(self, msg, report, **kwargs):
        super(Blocked, self).__init__(msg, **kwargs)
        self.report = report

    def result(self):
        return dict(self.report, **super(Blocked, self).result())


def run(p, check_mode):
    """The report for parameters `p`; raises Blocked when any finding blocks, ProductError on a bad customer id."""
    common_args.require_customer(p["customer"])
    result = dict(changed=False)
    found = host_checks.tailscale(p["tailscale"], p["tailscale_host"] or p["customer"], p["allow_relayed"])
    found += [checks.finding(f.get("trap"), f.get("problem", ""), f.get("next_step"), f.get("blocking", True))
              for f in p["findings"]]
    if p["controller_checks"]:
        found += controller_findings(p, check_mode, result)
    blocking = [f for f in found if f["blocking"]]
    result.update(findings=found, blocking=len(blocking), lines=checks.lines(found))
    if blocking:
        # Every blocking finding is a detail, one per line, each with its own next step.
        raise Blocked("%s for %s" % (checks.summary(found), p["customer"]), result, details=checks.lines(blocking),
                      next_step="fix each one above (nothing was changed), then run again")
    return result
