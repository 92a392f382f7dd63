#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudflare_dns
short_description: Ensure a customer's public name is a proxied CNAME to its tunnel
version_added: 0.1.0
description:
  - Ensures O(name) is a proxied CNAME to C(<tunnel-id>.cfargotunnel.com).
  - Only A, AAAA and CNAME records conflict with a CNAME (Cloudflare 81053/81054). TXT, MX and the other types
    at the name coexist and are never touched (trap T03), such as the customer's domain-verification TXT.
  - Records this product creates carry a comment naming the customer they are for (C(managed by axe
    (axelabs.onboard) for customer CUSTOMER)). A conflicting record without it (a stale A from the old procedure,
    trap T02), or marked for another customer, is reported with its id and content, and replaced only with
    O(replace_conflicting).
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.cloudflare
options:
  name:
    description: The public name, e.g. C(acme.axelabs.ai).
    type: str
    required: true
  tunnel_id:
    description: The tunnel the name points at.
    type: str
    required: true
  customer:
    description: The customer the name is for; the record's owner mark names it.
    type: str
    required: true
  replace_conflicting:
    description: Delete A, AAAA and CNAME records at O(name) that the product does not own.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Point acme.axelabs.ai at acme's tunnel
  axelabs.onboard.cloudflare_dns:
    name: acme.axelabs.ai
    tunnel_id: "{{ tunnel.tunnel_id }}"
    customer: acme
"""

RETURN = r"""
actions:
  description: What was (or would be) done, in order.
  returned: success
  type: list
  elements: dict
  sample: [{action: delete, type: A, content: 192.0.2.10, id: 0f1e...}, {action: create, type: CNAME, content: 6ff4...cfargotunnel.com}]
kept:
  description: Records at the name that were left alone (TXT, MX and other non-conflicting types).
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.axelabs.onboard.plugins.module_utils import cloudflare as cf
from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def main():
    argument_spec = dict(name=dict(type="str", required=True), tunnel_id=dict(type="str", required=True),
                         customer=dict(type="str", required=True), replace_conflicting=dict(type="bool", default=False))
    argument_spec.update(common_args.cloudflare_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not cf.HAS_CLOUDFLARE:
        module.fail_json(msg=missing_required_lib("cloudflare"), exception=cf.CLOUDFLARE_IMPORT_ERROR)
    p = module.params
    name = p["name"].rstrip(".").lower()
    target = cf.tunnel_target(p["tunnel_id"])
    comment = cf.owner_mark(p["customer"])
    try:
        client = common_args.cloudflare_from(p)
        records = client.records_at(name)
        actions, blocking = cf.plan_dns(records, name, target, p["customer"], p["replace_conflicting"])
        if blocking:
            raise ProductError("%s holds records this product does not own: %s" % (name, ", ".join(map(cf.describe, blocking))),
                               trap="T02", next_step="check they are stale (the old procedure's A record), then rerun "
                                                     "with replace_conflicting (axe onboard %s --force-dns --apply)" % p["customer"])
        done = []
        for action, record in actions:
            done.append({"action": action, "type": record["type"] if record else "CNAME",
                         "content": record["content"] if action == "delete" else target,
                         "id": record["id"] if record else None})
            if module.check_mode:
                continue
            if action == "delete":
                client.delete_record(record["id"])
            elif action == "update":
                client.update_cname(record["id"], name, target, comment)
            else:
                done[-1]["id"] = client.create_cname(name, target, comment)
    except ProductError as exc:
        fail(module, exc)
    kept = [dict(type=r["type"], content=r["content"], id=r["id"]) for r in records if r["type"] not in ("A", "AAAA", "CNAME")]
    result = dict(changed=bool(done), actions=done, kept=kept)
    if module._diff:
        conflicting = [r for r in records if r["type"] in ("A", "AAAA", "CNAME")]
        result["diff"] = dict(before_header=name, after_header=name,
                              before="".join("%s %s %s\n" % (name, r["type"], r["content"]) for r in conflicting),
                              after="%s CNAME %s (proxied)\n" % (name, target))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
