#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vaultwarden_org
short_description: The customer's Vaultwarden organization, its collections and members (the runbook's D+2)
version_added: 0.3.0
description:
  - Runs on the customer's Mac mini with the customer-side vault session (C(axe vault session); C(~/.bw-session) or
    the Keychain item C(axe.vault.session)), logged in as the automation identity C(ai@{primary_domain}), and makes
    the customer's Vaultwarden hold what the runbook's D+2 wants.
  - The organization is named by the customer id in capitals (O(customer) C(acme) -> C(ACME)), the identifier
    employees type at the vault's SSO page (T15). Its Owners are the dual identity of D-ops-29 - the automation
    identity (it creates the organization, so it is Owner with access to all collections) and the real admin
    O(admin), a person, invited as Owner with access to all collections.
  - Collection structure v1 (D-ops-32) - C(Platform — Service Secrets) and C(Platform — Infrastructure) (operator
    only), one collection per entity named by its legal name (O(entities); names with quotes or Hangul are kept as
    they are), and C(Shared Tools). Staff - the emails in O(members) and every member of type User - get read/write
    to the entity collections and Shared Tools, and nothing in the Platform ones.
  - Through the real Bitwarden CLI wherever it can - C(bw status), C(bw sync), C(bw list organizations),
    C(bw list org-collections), C(bw get org-collection), C(bw list org-members), C(bw create org-collection),
    C(bw edit org-collection), C(bw confirm org-member). The CLI cannot create an organization or invite members;
    those two are the web vault's calls (C(POST /api/organizations), C(POST /api/organizations/{id}/users/invite)),
    made here as the web vault makes them, authenticated with the access token the logged-in CLI itself holds in
    its data file after C(bw sync) - no new secret, nothing on a command line or in a result. The organization key
    is made by node's crypto (the CLI's own runtime), shared to ai@'s public key and never leaves that process
    unwrapped. The module_utils C(vaultwarden_org_client) names this gap in full.
  - An invited person becomes a member when they accept (with no mail server, Vaultwarden accepts an existing
    account at once); an accepted member is confirmed (C(bw confirm org-member)) on this run or the next.
  - Re-running changes nothing. A collection for a new entity, a new email in O(members), a staff member missing
    read/write somewhere it should have it (or with access to a Platform collection) is what a later run changes.
    Collections and members the plan does not name are left alone, never removed.
  - A session that does not work, or is logged in as someone else, fails with the next step, in check mode too.
    The first run (no organization yet) needs O(admin).
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
options:
  customer:
    description: The customer id; the organization is named by it in capitals.
    type: str
    required: true
  primary_domain:
    description: The customer's email domain; the automation identity is C(ai@) it.
    type: str
    required: true
  entities:
    description: The customer's entities, each with C(id) and C(legal_name) (customers.yaml C(entity_names), else the
      customer's legal name); one collection per distinct legal name.
    type: list
    elements: dict
    required: true
  admin:
    description: The real admin's email (a person), invited as Owner with access to all collections. Required while
      the organization does not exist yet.
    type: str
  members:
    description: The staff members file's text (one email per line; blank lines and C(#) comments ignored). A line
      that is not an email fails the task, named with its line number.
    type: str
    default: ""
  session_source:
    description: Where the customer-side session is - C(file) (C(~/.bw-session), mode 600) or C(keychain) (the login
      Keychain item C(axe.vault.session) for the automation identity).
    type: str
    choices: [file, keychain]
    default: file
  session_file:
    description: The session file for O(session_source=file), as C(bw-bootstrap.sh) writes it.
    type: path
    default: ~/.bw-session
  bw:
    description: The Bitwarden CLI; found in Homebrew's directories (T07) and on PATH when not a path.
    type: str
    default: bw
  node:
    description: The node that makes the organization key; default the one Homebrew's bitwarden-cli runs on.
    type: path
  appdata_dir:
    description: The Bitwarden CLI's data directory (BITWARDENCLI_APPDATA_DIR); default where the CLI itself keeps
      it (macOS C(~/Library/Application Support/Bitwarden CLI), else C(~/.config/Bitwarden CLI)).
    type: path
  ca_file:
    description: A CA file to trust for the vault's HTTPS besides the system's, as NODE_EXTRA_CA_CERTS is for bw
      (only the web vault's two calls need it; the public edge's certificate needs none).
    type: path
"""

EXAMPLES = r"""
- name: ACME's vault organization, its collections and staff (D+2)
  axelabs.onboard.vaultwarden_org:
    customer: acme
    primary_domain: acme.co.kr
    entities:
      - {id: acme-kr, legal_name: ACME Korea}
    admin: it-admin@acme.co.kr
    members: "{{ lookup('ansible.builtin.file', 'staff.txt') }}"
"""

RETURN = r"""
organization:
  description: The organization - C(name) (the identifier employees type at the SSO page), C(id) (null in check mode
    before it exists), C(created).
  returned: always
  type: dict
collections:
  description: The wanted collections as they are after the run - C(name), C(id), C(staff) (staff read/write),
    C(state) (C(present), C(created), or C(missing) in check mode).
  returned: success
  type: list
  elements: dict
members:
  description: The organization's members after the run - C(email), C(type) (C(owner), C(admin), C(user),
    C(manager)), C(status) (C(invited), C(accepted), C(confirmed)).
  returned: success
  type: list
  elements: dict
actions:
  description: What the run did, or in check mode would do, one line each.
  returned: success
  type: list
  elements: str
findings:
  description: What is not as D+2 wants and is left to a person (e.g. an identity that is not Owner).
  returned: success
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import vaultwarden_org as vo
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail
from ansible_collections.axelabs.onboard.plugins.module_utils.vaultwarden_org_client import (
    BW_DIRS, HICCUP_TRIES, KEYCHAIN_SERVICE, NODE_CANDIDATES, SESSION_FILE, SESSION_NEXT, OrgClient)

TYPES = {0: "owner", 1: "admin", 2: "user", 3: "manager"}


def read_session(module, source, email, customer):
    """The customer-side session, as bw-bootstrap.sh --check reads it; hidden from every result."""
    if source == "keychain":
        security = module.get_bin_path("security") or "security"
        rc, out, err = module.run_command([security, "find-generic-password", "-s", KEYCHAIN_SERVICE, "-a", email, "-w"])
        if rc != 0:
            raise ProductError("the customer-side vault session is not in the Keychain (%s)" % (err or out).strip(),
                               trap="T20" if "interaction is not allowed" in (err or "") else None,
                               next_step=SESSION_NEXT % customer)
        session = out.strip()
    else:
        path = module.params["session_file"]
        try:
            st = os.stat(path)
        except OSError:
            raise ProductError("the customer-side vault session is not set up (%s is missing)" % path,
                               next_step=SESSION_NEXT % customer)
        if st.st_mode & 0o077 or st.st_uid != os.getuid():
            raise ProductError("%s is not private to this user (mode %o)" % (path, st.st_mode & 0o777),
                               next_step="chmod 600 %s, or %s" % (path, SESSION_NEXT % customer))
        with open(path) as fh:
            session = fh.read().strip()
    if not session:
        raise ProductError("the customer-side vault session is empty", next_step=SESSION_NEXT % customer)
    module.no_log_values.add(session)
    return session


def find_node(module):
    given = module.params["node"]
    if given:
        return given
    for path in NODE_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return module.get_bin_path("node", opt_dirs=BW_DIRS) or "node"


def snapshot(client, org_id):
    if not org_id:
        return [], []
    return client.collections(org_id), client.members(org_id)


def run(module, result):
    p = module.params
    customer = p["customer"]
    name = vo.organization_name(customer)
    automation = vo.automation_email(p["primary_domain"])
    admin = p["admin"].strip().lower() if p["admin"] else None
    if admin and not vo.EMAIL.match(admin):
        raise ProductError("--admin %r is not an email address" % p["admin"], next_step="give the real admin's email")
    staff = vo.parse_members(p["members"] or "")
    wanted = vo.wanted_collections(p["entities"])
    result["organization"] = {"name": name, "id": None, "created": False}

    bw = p["bw"] if os.path.sep in p["bw"] else module.get_bin_path(p["bw"], opt_dirs=BW_DIRS)
    if not bw:
        raise ProductError("bw (the Bitwarden CLI) is not installed on the Mac mini", trap="T07",
                           next_step="customer IT: brew install bitwarden-cli, then %s" % SESSION_NEXT % customer)
    session = read_session(module, p["session_source"], automation, customer)
    client = OrgClient(module.run_command, bw, session, customer, appdata=p["appdata_dir"], ca_file=p["ca_file"],
                       node=find_node(module), hide=module.no_log_values.add)
    status = client.status()
    if status.get("status") != "unlocked":
        raise ProductError("the customer-side vault session does not work (bw status: %s)" % status.get("status"),
                           next_step=SESSION_NEXT % customer)
    if (status.get("userEmail") or "").lower() != automation:
        raise ProductError("the customer-side vault session is %s's, not the automation identity %s (D-ops-29)" % (
            status.get("userEmail"), automation), next_step=SESSION_NEXT % customer)
    user_id = status.get("userId")
    client.sync()

    def find_org():
        found = [o for o in client.organizations() if o.get("name") == name]
        if len(found) > 1:
            raise ProductError("%d organizations are named %s in the customer's vault" % (len(found), name),
                               next_step="rename or delete the extra one in the Admin Console; the SSO identifier "
                                         "must name one organization")
        return found[0]["id"] if found else None

    org_id = find_org()
    if not org_id and not admin:
        raise ProductError("the organization %s does not exist yet, and its first run needs the real admin "
                           "(a person, Owner beside %s)" % (name, automation),
                           next_step="axe vault org %s --admin EMAIL (the customer's IT admin), with --apply to make it"
                                     % customer)
    collections, members = snapshot(client, org_id)
    steps = vo.plan(wanted, collections, members, admin, automation, staff, org_exists=bool(org_id))
    result["findings"] = steps["findings"]
    result["actions"] = vo.describe(name, bool(org_id), steps, admin)
    before = render(name, org_id, collections, members)
    if module.check_mode or not vo.changes(bool(org_id), steps):
        result["changed"] = vo.changes(bool(org_id), steps)
        report(result, wanted, org_id, collections, members, set())
        result["diff"] = {"before": before, "after": render(name, org_id, collections, members, steps, automation)}
        return

    created = set()
    if not org_id:
        org_id = client.create_organization(user_id, name, automation, wanted[0]["name"])
        result["organization"]["created"] = True
        created.add(wanted[0]["name"])
        client.sync()
        if find_org() != org_id:
            raise ProductError("the organization %s was created (id %s) but bw does not list it after a sync" % (
                name, org_id), next_step="bw sync on the Mac mini; then run this again")
        collections, members = snapshot(client, org_id)
        steps = vo.plan(wanted, collections, members, admin, automation, staff)
    staff_ids = [m["id"] for m in members if m.get("type") == vo.USER]
    for want in steps["create_collections"]:
        if want["name"] in created:
            continue
        users = vo.staff_access(staff_ids) if want["staff"] else []
        client.create_collection(org_id, want["name"], users)
        created.add(want["name"])
    for change in steps["access"]:
        client.edit_collection(org_id, change["id"], change["name"], change["users"])
    if steps["invite_admin"] or steps["invite_staff"]:
        collections = client.collections(org_id)
        staff_cols = [c["id"] for c in collections if c["name"] in set(w["name"] for w in wanted if w["staff"])]
        if steps["invite_admin"]:
            client.invite(user_id, org_id, [steps["invite_admin"]], vo.OWNER, [])
        if steps["invite_staff"]:
            client.invite(user_id, org_id, steps["invite_staff"], vo.USER, vo.staff_access(staff_cols))
    # Accepted members (an invite to an existing account is accepted at once when the server sends no mail).
    # `bw confirm` prints nothing either way, so the listing says whether each took (the CLI's hiccup, see
    # OrgClient._answered); confirming is asked again for those still only accepted, a bounded number of times.
    confirmed = set()
    for dummy in range(HICCUP_TRIES):
        members = client.members(org_id)
        managed = set(staff) | set([admin] if admin else []) | set(m["email"] for m in members if m.get("type") == vo.USER)
        pending = [m for m in members if m.get("status") == vo.ACCEPTED and m["email"] in managed]
        if not pending:
            break
        for m in pending:
            client.confirm(org_id, m["id"])
            if m["email"] not in confirmed:
                confirmed.add(m["email"])
                result["actions"].append("confirmed %s" % m["email"])
    client.sync()
    collections, members = snapshot(client, org_id)
    left = vo.plan(wanted, collections, members, admin, automation, staff)
    if left["create_collections"] or left["invite_admin"] or left["invite_staff"] or left["access"]:
        raise ProductError("the organization %s is not as planned after the run: %s" % (
            name, "; ".join(vo.describe(name, True, left, admin))), next_step="run the same command again")
    result["changed"] = True
    result["organization"]["id"] = org_id
    report(result, wanted, org_id, collections, members, created)
    result["diff"] = {"before": before, "after": render(name, org_id, collections, members)}


def report(result, wanted, org_id, collections, members, created):
    have = dict((c["name"], c["id"]) for c in collections)
    result["organization"]["id"] = org_id
    result["collections"] = [{"name": w["name"], "staff": w["staff"], "id": have.get(w["name"]),
                              "state": "created" if w["name"] in created else
                              ("present" if w["name"] in have else "missing")} for w in wanted]
    result["members"] = [{"email": m["email"], "type": TYPES.get(m.get("type"), str(m.get("type"))),
                          "status": vo.STATUS.get(m.get("status"), str(m.get("status")))}
                         for m in sorted(members, key=lambda m: m["email"])]


def render(name, org_id, collections, members, steps=None, automation=None):
    """The organization as text, for --diff; with `steps`, as it will be after them (`automation`: the identity
    that creates a missing organization, its Owner)."""
    if not org_id and not steps:
        return ""
    lines = ["organization %s" % name]
    names = [c["name"] for c in collections] + [c["name"] for c in (steps or {}).get("create_collections", [])]
    lines += ["collection %s" % n for n in sorted(set(names))]
    rows = ["member %s (%s, %s)" % (m["email"], TYPES.get(m.get("type")), vo.STATUS.get(m.get("status")))
            for m in members]
    if steps:
        if not org_id and automation:
            rows.append("member %s (owner, confirmed)" % automation)
        if steps["invite_admin"]:
            rows.append("member %s (owner, invited)" % steps["invite_admin"])
        rows += ["member %s (user, invited)" % e for e in steps["invite_staff"]]
    lines += sorted(rows)
    if steps:
        lines += ["access %s: + %s" % (a["name"], e) for a in steps["access"] for e in a["grant"]]
        lines += ["access %s: - %s" % (a["name"], e) for a in steps["access"] for e in a["revoke"]]
    return "\n".join(lines) + "\n"


def main():
    module = AnsibleModule(
        argument_spec=dict(customer=dict(type="str", required=True), primary_domain=dict(type="str", required=True),
                           entities=dict(type="list", elements="dict", required=True), admin=dict(type="str"),
                           members=dict(type="str", default=""),
                           session_source=dict(type="str", choices=["file", "keychain"], default="file"),
                           session_file=dict(type="path", default=SESSION_FILE),
                           bw=dict(type="str", default="bw"), node=dict(type="path"),
                           appdata_dir=dict(type="path"), ca_file=dict(type="path")),
        supports_check_mode=True,
    )
    result = dict(changed=False, organization={}, collections=[], members=[], actions=[], findings=[])
    try:
        run(module, result)
    except ProductError as exc:
        fail(module, exc, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
