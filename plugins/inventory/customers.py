# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: customers
short_description: Customers' Mac minis from customers.yaml, resolved through Tailscale
version_added: 0.1.0
description:
  - One host per customer in customers.yaml, named by the customer id, with the entry as host vars.
  - Each C(tailscale_host) is resolved through C(tailscale status --json) to its full MagicDNS name, never the
    bare alias (trap T06), and the peer's state is recorded (known, online, direct or relayed; trap T05) so
    preflight can report it.
  - Groups - C(customers) (all), C(managed) (with a services manifest), C(sovereign) (without one; deploys
    refuse them, trap T24), C(tailscale_offline), C(tailscale_relayed), C(tailscale_unknown).
author:
  - AXE Labs (@axelabs)
options:
  plugin:
    description: The name of this plugin.
    required: true
    choices: [axelabs.onboard.customers]
    type: str
  customers_file:
    description: The customer registry.
    type: path
    default: ~/.axe/customers.yaml
    env:
      - name: AXE_CUSTOMERS_FILE
  tailscale_command:
    description: The Tailscale CLI to ask for C(status --json).
    type: str
    default: tailscale
    env:
      - name: AXE_TAILSCALE
  ssh_config:
    description: An SSH config that says how to reach the hosts (passed to ssh with C(-F)).
    type: path
    env:
      - name: AXE_SSH_CONFIG
  only:
    description: Limit the inventory to these customer ids.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
# inventory/customers.yml
plugin: axelabs.onboard.customers
"""

import json
import subprocess

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

from ansible_collections.axelabs.onboard.plugins.module_utils.customers_file import CustomersFile, plain
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError


def tailscale_peers(command):
    """{host name (lower case): [peers]} from `tailscale status --json`, and the MagicDNS suffix. A name two peers
    share (a replaced Mac mini still in the tailnet) lists both: which one is the customer's cannot be told."""
    try:
        proc = subprocess.run([command, "status", "--json"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AnsibleParserError("T05: cannot run `%s status --json`: %s. Install Tailscale and log in "
                                 "(`tailscale up`), or set AXE_TAILSCALE." % (command, exc))
    if proc.returncode != 0:
        raise AnsibleParserError("T05: `%s status --json` failed: %s. Is Tailscale up on this machine?"
                                 % (command, proc.stderr.strip()[:300]))
    try:
        status = json.loads(proc.stdout)
        if not isinstance(status, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise AnsibleParserError("T05: `%s status --json` answered what is not Tailscale's status (%s): %r. "
                                 "Check `tailscale status --json` by hand, or AXE_TAILSCALE" % (command, exc, proc.stdout[:120]))
    peers = {}
    for peer in (status.get("Peer") or {}).values():
        peers.setdefault((peer.get("HostName") or "").lower(), []).append(peer)
    return peers, status.get("MagicDNSSuffix") or (status.get("CurrentTailnet") or {}).get("MagicDNSSuffix") or ""


def host_vars(customer, entry, peer, suffix, sovereign, wanted_refs=None):
    alias = entry["tailscale_host"]
    if peer:
        dns = (peer.get("DNSName") or "").rstrip(".") or "%s.%s" % (alias, suffix)
        tailscale = {"known": True, "online": bool(peer.get("Online")), "direct": bool(peer.get("CurAddr")),
                     "relay": peer.get("Relay") or "", "ip": (peer.get("TailscaleIPs") or [""])[0], "dns_name": dns}
    else:
        dns = "%s.%s" % (alias, suffix) if suffix else alias
        tailscale = {"known": False, "online": False, "direct": False, "relay": "", "ip": "", "dns_name": dns}
    out = {"ansible_host": dns, "axe_customer": customer, "axe_public_domain": entry["public_domain"],
           "axe_primary_domain": entry["primary_domain"],
           "axe_entities": list(entry["entities"]), "axe_tailscale_host": alias, "axe_tailscale": tailscale,
           "axe_sovereign": sovereign, "axe_wanted_refs": dict(wanted_refs or {}),
           "ansible_python_interpreter": "/usr/bin/python3"}
    if entry.get("ssh_user"):
        out["ansible_user"] = entry["ssh_user"]
    return out


class InventoryModule(BaseInventoryPlugin):

    NAME = "axelabs.onboard.customers"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("customers.yml", "customers.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            registry = CustomersFile(self.get_option("customers_file")).load(readonly=True)
        except ProductError as exc:
            raise AnsibleParserError(str(exc))
        peers, suffix = tailscale_peers(self.get_option("tailscale_command"))
        only = set(self.get_option("only") or [])
        for group in ("customers", "managed", "sovereign", "tailscale_offline", "tailscale_relayed", "tailscale_unknown"):
            self.inventory.add_group(group)
        ssh_config = self.get_option("ssh_config")
        if ssh_config:
            self.inventory.set_variable("customers", "ansible_ssh_common_args", "-F %s" % ssh_config)
        for customer, entry in plain(registry.customers).items():
            if only and customer not in only:
                continue
            sovereign = not registry.manifest(customer)
            matching = peers.get(entry["tailscale_host"].lower()) or [None]
            if len(matching) > 1:
                raise AnsibleParserError(
                    "T05: %d Tailscale peers are named %s, the Mac mini of %s: %s. Which one is the customer's cannot be "
                    "told; remove the stale one from the tailnet (Tailscale admin console: Machines), or set %s's "
                    "tailscale_host to the right one's name" % (
                        len(matching), entry["tailscale_host"], customer,
                        "; ".join("%s (%s, %s)" % ((p.get("DNSName") or "?").rstrip("."), (p.get("TailscaleIPs") or ["?"])[0],
                                                   "online" if p.get("Online") else "offline") for p in matching), customer))
            variables = host_vars(customer, entry, matching[0], suffix, sovereign, registry.wanted_refs(customer))
            self.inventory.add_host(customer, group="customers")
            self.inventory.add_host(customer, group="sovereign" if sovereign else "managed")
            ts = variables["axe_tailscale"]
            if not ts["known"]:
                self.inventory.add_host(customer, group="tailscale_unknown")
            elif not ts["online"]:
                self.inventory.add_host(customer, group="tailscale_offline")
            elif not ts["direct"]:
                self.inventory.add_host(customer, group="tailscale_relayed")
            for key, value in variables.items():
                self.inventory.set_variable(customer, key, value)
