# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer's Vaultwarden organization as the runbook's D+2 wants it, planned without a host.

- The organization: named by the customer id in capitals (ACME), the identifier employees type at the SSO
  page (T15).
- The dual identity (D-ops-29): ai@{primary_domain}, the automation identity that creates the organization,
  and the real admin, a person; both Owner with access to all collections.
- Collection structure v1 (D-ops-32): `Platform — Service Secrets` and `Platform — Infrastructure` (operator
  only), one collection per entity named by its legal name, `Shared Tools`. Staff (members of type User) get
  read/write to the entity collections and Shared Tools, and nothing in the Platform ones.
- Staff invited from a members file: one email per line, blank lines and `#` comments ignored.

Everything here is pure: what the organization should hold, read from what it holds now, and the steps that
get it there. The host side (the Bitwarden CLI, the two web-vault calls) is vaultwarden_org_client.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

PLATFORM = (u"Platform \u2014 Service Secrets", u"Platform \u2014 Infrastructure")
SHARED = u"Shared Tools"
# Vaultwarden's membership types and statuses (src/db/models/organization.rs).
OWNER, ADMIN, USER, MANAGER = 0, 1, 2, 3
INVITED, ACCEPTED, CONFIRMED = 0, 1, 2
STATUS = {-1: "revoked", INVITED: "invited", ACCEPTED: "accepted", CONFIRMED: "confirmed"}
EMAIL = re.compile(r"^[^@\s,;<>\"']+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def organization_name(customer):
    """The organization's name and SSO identifier (T15): the customer id in capitals."""
    return customer.upper()


def automation_email(primary_domain):
    """D-ops-29's automation identity: the account the customer-side session is logged in as."""
    return "ai@%s" % primary_domain.strip().lower()


def wanted_collections(entities):
    """[{name, staff}] in the order they are made: the Platform two (operator only), one per entity legal name
    (`entities`: [{id, legal_name}]; two entities with one legal name share the collection), Shared Tools."""
    out = [{"name": name, "staff": False} for name in PLATFORM]
    seen = set(PLATFORM + (SHARED,))
    for entity in entities:
        name = (entity.get("legal_name") or "").strip()
        if not name:
            raise ProductError("entity %s has no legal name" % entity.get("id"),
                               next_step="set entity_names in customers.yaml (or the customer's legal_name)")
        if name in PLATFORM or name == SHARED:
            raise ProductError("entity %s's legal name %r is one of the fixed collections" % (entity.get("id"), name),
                               next_step="give the entity its legal name in entity_names")
        if name not in seen:
            seen.add(name)
            out.append({"name": name, "staff": True})
    out.append({"name": SHARED, "staff": True})
    return out


def parse_members(text, source="the members file"):
    """The staff emails of a members file (lower-cased, in order, each once). A line that is not one email is
    named with its line number; all of them at once."""
    emails, bad = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not EMAIL.match(line):
            bad.append("line %d: %r is not an email address" % (number, raw.strip()))
            continue
        email = line.lower()
        if email not in emails:
            emails.append(email)
    if bad:
        raise ProductError("%s has %d line%s that %s not an email: %s" % (
            source, len(bad), "" if len(bad) == 1 else "s", "is" if len(bad) == 1 else "are", "; ".join(bad)),
            details=bad, next_step="one email per line (blank lines and # comments are ignored); fix the lines named")
    return emails


def _rw(entry):
    return not entry.get("readOnly") and not entry.get("hidePasswords")


def plan(wanted, collections, members, admin, automation, staff, org_exists=True):
    """The steps from what the organization holds to what D+2 wants.

    wanted: wanted_collections(); collections: [{id, name (decrypted), users: [{id, readOnly, hidePasswords,
    manage}]}]; members: [{id, email, type, status}]; admin: the real admin's email (or None); automation: ai@...;
    staff: the members file's emails. Returns {create_collections: [{name, staff}], invite_admin: email|None,
    invite_staff: [emails], access: [{id, name, users, grant: [emails], revoke: [emails]}], confirm: [{id, email}],
    findings: [text]}. Staff are the members of type User plus the file's emails; collections not in the wanted
    list, and members neither admin nor staff, are left alone."""
    by_email = dict((m["email"].lower(), m) for m in members if m.get("email"))
    findings = []
    if org_exists and automation not in by_email:
        findings.append("%s (the automation identity) is not a member of the organization" % automation)
    for email in (automation, admin):
        m = by_email.get(email) if email else None
        if m is not None and m.get("type") != OWNER:
            findings.append("%s is a member of type %s, not Owner (D-ops-29 wants both identities Owner); "
                            "change it in the Admin Console" % (email, m.get("type")))
    invite_admin = admin if admin and admin not in by_email else None
    invite_staff = [e for e in staff if e not in by_email and e not in (admin, automation)]
    for e in staff:
        m = by_email.get(e)
        if m is not None and m.get("type") != USER and e not in (admin, automation):
            findings.append("%s is already a member of type %s: left as it is, not made staff" % (e, m.get("type")))
    staff_members = dict((m["id"], m["email"].lower()) for m in members if m.get("type") == USER)

    have = dict((c["name"], c) for c in collections)
    create = [w for w in wanted if w["name"] not in have]
    access = []
    for w in wanted:
        col = have.get(w["name"])
        if col is None:
            continue
        users = [dict(u) for u in col.get("users") or []]
        ids = dict((u["id"], u) for u in users)
        grant, revoke = [], []
        if w["staff"]:
            for member_id, email in sorted(staff_members.items(), key=lambda kv: kv[1]):
                entry = ids.get(member_id)
                if entry is None:
                    users.append({"id": member_id, "readOnly": False, "hidePasswords": False, "manage": False})
                    grant.append(email)
                elif not _rw(entry):
                    entry.update(readOnly=False, hidePasswords=False)
                    grant.append(email)
        else:
            kept = [u for u in users if u["id"] not in staff_members]
            revoke = sorted(staff_members[u["id"]] for u in users if u["id"] in staff_members)
            users = kept
        if grant or revoke:
            access.append({"id": col["id"], "name": w["name"], "users": users, "grant": grant, "revoke": revoke})
    managed = set(staff) | set(staff_members.values()) | set([admin] if admin else [])
    confirm = [{"id": m["id"], "email": m["email"].lower()} for m in members
               if m.get("status") == ACCEPTED and m.get("email", "").lower() in managed]
    return {"create_collections": create, "invite_admin": invite_admin, "invite_staff": invite_staff,
            "access": access, "confirm": confirm, "findings": findings}


def changes(org_exists, steps):
    """Whether the plan changes anything."""
    return (not org_exists or bool(steps["create_collections"] or steps["invite_admin"] or steps["invite_staff"]
                                   or steps["access"] or steps["confirm"]))


def staff_access(collection_ids):
    """An invite's `collections` for staff: read/write, passwords shown, not managers."""
    return [{"id": cid, "readOnly": False, "hidePasswords": False, "manage": False} for cid in collection_ids]


def describe(name, org_exists, steps, admin):
    """The plan (or what was done) as lines for a person."""
    lines = []
    if not org_exists:
        lines.append("create organization %s (identifier %s), Owner: the automation identity" % (name, name))
    lines += ["create collection %s%s" % (c["name"], " (staff read/write)" if c["staff"] else " (operator only)")
              for c in steps["create_collections"]]
    if steps["invite_admin"]:
        lines.append("invite %s as Owner, access to all collections (the real admin)" % steps["invite_admin"])
    lines += ["invite %s as User (staff: the entity collections and Shared Tools, read/write)" % e
              for e in steps["invite_staff"]]
    for a in steps["access"]:
        lines += ["%s: give %s read/write" % (a["name"], e) for e in a["grant"]]
        lines += ["%s: remove %s (operator only)" % (a["name"], e) for e in a["revoke"]]
    lines += ["confirm %s (accepted the invite)" % c["email"] for c in steps["confirm"]]
    return lines
