#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: blueprint_admin
short_description: Make a user who has signed in to blueprint its admin (the runbook's D+1 grant)
version_added: 0.1.0
description:
  - The runbook's D+1 C(UPDATE User SET role = 'admin' WHERE email = ...), without SQL text - asks blueprint's
    user-table command (O(show)) inside the running O(container) for the user with exactly O(email), and when their
    role is not C(admin) runs O(grant). Both run with C(docker exec), the email appended as the command's last argv
    word, so quotes, Hangul or C('; DROP) in it are data (and an address of the wrong shape is refused first,
    naming what is wrong).
  - A user exists only after their first Microsoft sign-in to blueprint. One who has not signed in yet fails the
    task with the next step - sign in at O(sign_in_url), then run the same command again. A C(container) that is
    not running fails naming the deploy that starts it.
  - Already admin changes nothing. In check mode the grant is only predicted; the user table is read, never written.
  - Each command prints one JSON object whose C(user) is the user (with at least C(role)), or null when nobody
    with that email has signed in.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
options:
  container:
    description: The running blueprint container (C(blueprint-app), the one the runbook C(docker exec)s into).
    type: str
    required: true
  show:
    description: The argv that prints a user, without the email (blueprint_definition.admin.show).
    type: list
    elements: str
    required: true
  grant:
    description: The argv that makes a user admin, without the email (blueprint_definition.admin.grant).
    type: list
    elements: str
    required: true
  email:
    description: The address the user signs in to Microsoft with, exactly as blueprint stored it.
    type: str
    required: true
  customer:
    description: The customer id, for the commands an error names.
    type: str
    required: true
  sign_in_url:
    description: Where the user signs in (C(https://{public_domain}/)), for the error when they have not yet.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Make ACME's IT admin blueprint's admin
  axelabs.onboard.blueprint_admin:
    container: blueprint-app
    show: [python3, -m, blueprint.db, show-user, --]
    grant: [python3, -m, blueprint.db, set-role, --role, admin, --]
    email: it-admin@acme.co.kr
    customer: acme
    sign_in_url: https://acme.axelabs.ai/
"""

RETURN = r"""
email:
  description: The email, as given.
  returned: always
  type: str
role_before:
  description: The user's role before this call; null when they have not signed in (or the email was refused).
  returned: always
  type: str
role:
  description: The user's role after this call (in check mode, what it would be).
  returned: always
  type: str
granted:
  description: Whether this call made the user admin (in check mode, would make).
  returned: always
  type: bool
last_sign_in_at:
  description: When the user last signed in, as blueprint records it.
  returned: when the user exists
  type: str
commands:
  description: The commands run on the host, each with its exit status and seconds.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import blueprint_admin as ba
from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import ServiceHost
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def grant(module, host, result):
    p = module.params
    ba.check_email(p["email"])  # before anything runs on the host
    state = host.containers([p["container"]]).get(p["container"]) or {}
    if state.get("status") != "running":
        raise ba.not_running(p["container"], state.get("status"), p["customer"], p["email"])
    user = ba.read_user(*host.run(cc.exec_in(p["container"], ba.command(p["show"], p["email"])), check=False),
                        container=p["container"])
    if user is None:
        raise ba.never_signed_in(p["customer"], p["email"], p["sign_in_url"])
    result.update(role_before=user["role"], role=user["role"], last_sign_in_at=user.get("lastSignInAt"))
    if user["role"] == ba.ADMIN:
        return
    if not module.check_mode:
        user = ba.read_user(*host.run(cc.exec_in(p["container"], ba.command(p["grant"], p["email"])), check=False),
                            container=p["container"])
        if user is None:
            raise ba.never_signed_in(p["customer"], p["email"], p["sign_in_url"])
        if user["role"] != ba.ADMIN:
            raise ba.grant_not_confirmed(p["container"], p["email"], user)
    result.update(role=ba.ADMIN, granted=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(container=dict(type="str", required=True),
                           show=dict(type="list", elements="str", required=True),
                           grant=dict(type="list", elements="str", required=True),
                           email=dict(type="str", required=True), customer=dict(type="str", required=True),
                           sign_in_url=dict(type="str", required=True)),
        supports_check_mode=True,
    )
    host = ServiceHost(module)
    result = dict(email=module.params["email"], role_before=None, role=None, granted=False)
    try:
        grant(module, host, result)
    except ProductError as exc:
        fail(module, exc, commands=host.commands, **result)
    module.exit_json(changed=result["granted"], commands=host.commands,
                     diff=ba.diff(result["email"], result["role_before"], result["role"]), **result)


if __name__ == "__main__":
    main()
