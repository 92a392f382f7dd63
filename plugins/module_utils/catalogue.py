# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service catalogue: every service the product deploys is declared once, as its role's data
(`roles/<service>/vars/main.yml`, key `<service>_definition`, with an `order`). Everything else derives
from those definitions here: the D-day's order, cloudflared's ingress, what `axe health` and the
stack_health module look at, the external proof's paths, the vault's manifest slots.

A new service is one new role of data; nothing in this file names a service. Loading reads files, so it
runs on the controller (the wrapper, the lookup plugin); modules on a host receive the derived views
as parameters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# The tunnel is not a service role: it is what every customer has, sovereignty customers (T24) included.
TUNNEL = {"service": "cloudflared", "containers": [], "colours": [], "local_url": None, "external_path": "/cdn-cgi/trace"}


# One entry of the health view (stack()) as a module's argument spec: doc_fragments/catalogue.py documents it.
HEALTH_ENTRY_OPTIONS = dict(service=dict(type="str", required=True), external_path=dict(type="str", required=True),
                            local_url=dict(type="str"), containers=dict(type="list", elements="str", default=[]),
                            colours=dict(type="list", elements="str", default=[]))


class CatalogueError(Exception):
    pass


def collection_root():
    """The collection's root, from where this file lies (plugins/module_utils/catalogue.py)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(root=None):
    """Every service definition of the collection, in the D-day's order."""
    import yaml  # the controller always has PyYAML (ansible-core needs it)

    roles = os.path.join(root or collection_root(), "roles")
    found = []
    for role in sorted(os.listdir(roles)):
        path = os.path.join(roles, role, "vars", "main.yml")
        if not os.path.isfile(path):
            continue
        with open(path) as handle:
            data = yaml.safe_load(handle) or {}
        definition = data.get(role + "_definition")
        if isinstance(definition, dict) and "order" in definition:
            if definition.get("name") != role:
                raise CatalogueError("%s: %s_definition.name is %r; a service is named after its role"
                                     % (path, role, definition.get("name")))
            found.append(definition)
    return check(sorted(found, key=lambda d: (d["order"], d["name"])))


def check(definitions):
    """One port per service, one ingress path per service, and at most one catch-all (the empty path)."""
    owners = {}
    for d in definitions:
        for claim in (("port", port(d)), ("ingress path", d.get("ingress_path", ""))):
            if claim in owners:
                raise CatalogueError("services %s and %s both claim %s %r" % (owners[claim], d["name"], claim[0], claim[1]))
            owners[claim] = d["name"]
    return definitions


def names(definitions):
    return [d["name"] for d in definitions]


def released(definitions):
    """The services released from their repository by the engine (they have `slots`, and a release state on the
    host); the others run from an image (the vault)."""
    return [d["name"] for d in definitions if "slots" in d]


def port(definition):
    """The host's loopback port cloudflared's ingress sends this service's requests to."""
    proxy = definition.get("proxy") or {}
    return proxy.get("port") or definition["port"]


def containers(definition):
    """The containers that always run, and the colours of which at least one serves."""
    if "slots" in definition:
        fixed = [definition["proxy"]["service"]] + list(definition.get("support") or [])
        slots = [slot["service"] for slot in definition["slots"].values()]
        # A single slot is a fixed container, not a colour to choose from.
        return (fixed + slots, []) if len(slots) == 1 else (fixed, slots)
    return [definition["container"]], []


def health_entry(definition):
    fixed, colours = containers(definition)
    return {"service": definition["name"], "containers": fixed, "colours": colours,
            "local_url": "http://127.0.0.1:%d%s" % (port(definition), definition["external_path"]),
            "external_path": definition["external_path"]}


def stack(definitions):
    """What `axe health` and stack_health look at: the tunnel, then each service."""
    return [dict(TUNNEL)] + [health_entry(d) for d in definitions]


def backups(definitions):
    """What the backup agent dumps, one source per service that declares `backup` in its data: its kind (postgres,
    sqlite, directory) and where; a sqlite source's containers default to the service's colours or its one app."""
    sources = []
    for d in definitions:
        spec = d.get("backup")
        if not spec:
            continue
        source = dict(spec, service=d["name"])
        if source["kind"] == "sqlite" and not source.get("containers"):
            source["containers"] = [slot["service"] for slot in d["slots"].values()]
        if source["kind"] == "directory" and not source.get("container"):
            source["container"] = d["container"]
        sources.append(source)
    return sources


def ingress(definitions):
    """cloudflared's ingress rules: each service's path to its port, the catch-all (empty path) last."""
    rules = [{"name": d["name"], "path": d.get("ingress_path", ""), "port": port(d)} for d in definitions]
    return sorted(rules, key=lambda r: r["path"] == "")
