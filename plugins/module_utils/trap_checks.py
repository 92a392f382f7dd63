# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's half of the trap preflight: every trap in docs/traps.md that can be seen from the
controller before anything changes, each as a finding, none stopping the others from being looked at.

A finding has the one shape module_utils/host_checks.py defines (the host's half): {trap, problem,
next_step, blocking}. A non-blocking one is a note (a sovereignty customer's services are skipped, T24).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as customers
from ansible_collections.axelabs.onboard.plugins.module_utils import service_secrets as ss
from ansible_collections.axelabs.onboard.plugins.module_utils.host_checks import finding
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError


def from_error(exc, default_trap=""):
    problem = getattr(exc, "message", None) or str(exc)
    if problem.startswith("%s: " % getattr(exc, "trap", None)):
        problem = problem[len(exc.trap) + 2:]  # the trap is the finding's own field
    if getattr(exc, "details", None):
        problem += ": " + "; ".join(exc.details)
    return finding(getattr(exc, "trap", None) or default_trap, problem, getattr(exc, "next_step", ""))


def customer_entry(path, customer, planned_text=None):
    """T01, T23: the registry loads and validates, and knows the customer. Returns (findings, file, entry, manifest)."""
    try:
        registry = customers.CustomersFile(path).load(text=planned_text)
    except ProductError as exc:
        return [from_error(exc, "T01")], None, None, None
    if customer not in registry.customers:
        return [finding("T01", "%s is not in %s" % (customer, path),
                        "axe customers add %s --legal-name NAME --primary-domain DOMAIN --entity ID --apply" % customer)], \
            registry, None, None
    entry = customers.plain(registry.entry(customer))
    manifest = registry.manifest(customer)
    notes = []
    sharing = registry.sharing_public_domain(customer)
    if sharing:
        notes.append(finding("T02", "%s's public_domain %s is also %s's: one name, one tunnel" % (
            customer, entry.get("public_domain"), ", ".join(sharing)),
            "give one of them its own public_domain in customers.yaml (axe customers add %s --public-domain "
            "%s.axelabs.ai --apply)" % (customer, customer)))
    if not manifest:
        notes.append(finding("T24", "%s has no services manifest (sovereignty, D-ops-40): only the pack and the tunnel "
                                    "are ours; every service (frame, blueprint, hive, the vault) is skipped" % customer, "", blocking=False))
    return notes, registry, entry, manifest


def vault_reachable(vault):
    try:
        vault.status()
        return []
    except ProductError as exc:
        return [from_error(exc)]


def cloudflare(client, api_token, name, force_dns, customer):
    """T09 (the token, its zone and Read permissions), then T02/T03 (the records at the public name)."""
    # Imported here, not above: the Cloudflare SDK takes ~0.2 s to import, and a service's own deploy reports the
    # host's findings through this module without looking at Cloudflare.
    from ansible_collections.axelabs.onboard.plugins.module_utils import cloudflare as cf
    if not api_token:
        return [finding("T09", "no Cloudflare API token in the vault (axe/operator/cloudflare/CLOUDFLARE_API_TOKEN)",
                        "axe secret push CLOUDFLARE_API_TOKEN --customer operator --service cloudflare --apply "
                        "(a token with Zone:Read, DNS:Edit, Cloudflare Tunnel:Edit)")]
    try:
        dummy, permissions = cf.token_permissions(client)
        missing = sorted(p for p, ok in permissions.items() if not ok)
        if missing:
            return [from_error(cf.missing_permissions_error(missing), "T09")]
        records = client.records_at(name)
    except ProductError as exc:
        return [from_error(exc, "T09")]
    out = []
    dummy, foreign = cf.plan_dns(records, name, "", customer, False)
    if foreign:
        described = ", ".join(map(cf.describe, foreign))
        if force_dns:
            out.append(finding("T02", "%s holds records axe does not own: %s; --force-dns replaces them" % (name, described),
                               "", blocking=False))
        else:
            out.append(finding("T02", "%s holds records axe does not own: %s" % (name, described),
                               "check they are stale (the old procedure's A record), then run again with --force-dns"))
    kept = [r for r in records if r["type"] not in ("A", "AAAA", "CNAME")]
    if kept:
        out.append(finding("T03", "%s also holds %s: they coexist with the tunnel's CNAME and are left alone"
                           % (name, ", ".join(map(cf.describe, kept))), "", blocking=False))
    return out


def service_values(vault, customer, entry, manifest, definitions, will_exist):
    """T08 and T10: every secret and setting each service needs, missing ones named at once, per service."""
    out = []
    for service in sorted(definitions):
        definition = definitions[service] or {}
        try:
            dummy, dummy2, env_missing, gaps = ss.check_needs(vault, customer, service, entry, manifest,
                                                              definition.get("secrets") or [],
                                                              definition.get("env") or {}, will_exist)
        except ProductError as exc:
            out.append(from_error(exc))
            continue
        for env, why, step in gaps:
            out.append(finding("T08", "%s: %s %s" % (service, env, why), step))
        for name in env_missing:
            out.append(finding("T10" if service == "blueprint" else "T08",
                               "%s: no value in customers.yaml for %s (%s)" % (service, name, definition["env"][name]),
                               "axe customers ingest %s PACK.json --apply (the customer IT's pack carries it)" % customer))
    return out


def summary(findings):
    blocking = [f for f in findings if f["blocking"]]
    traps = sorted(set(f["trap"] for f in blocking if f["trap"]))
    return "%d problem(s) found before anything changed%s" % (len(blocking), (" (%s)" % ", ".join(traps)) if traps else "")


def lines(findings):
    return ["%s%s%s" % ("%s: " % f["trap"] if f["trap"] else "", f["problem"],
                        " -> next: %s" % f["next_step"] if f["next_step"] else "")
            for f in findings]
