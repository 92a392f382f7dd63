# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Blue/green release planning, as pure functions over a service's release state.

The state lives on the customer's host in `{project}/.axe/release.json`:

    {"active": "blue", "releases": {"blue": {"commit": .., "ref": ..}, "green": {..}},
     "previous": {"commit": .., "ref": ..}, "history": [..]}

Two shapes of service share it:
- blue/green (frame, hive): a release goes to the idle colour, is proven healthy there, and the
  proxy alias is switched to it; the old colour keeps serving until then.
- single (blueprint): one live container; a release is proven in a candidate container beside
  it first, and only then replaces it (slot `app`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

BLUE_GREEN = ("blue", "green")
SINGLE = ("app",)
HISTORY = 10


def empty_state():
    return {"active": None, "releases": {}, "previous": None, "history": []}


def tag(commit):
    """The image tag of a release: the commit, short (the same commit always builds the same tag)."""
    return (commit or "")[:12]


def other(colour):
    return "green" if colour == "blue" else "blue"


def plan(state, commit, slots, drift=(), force=False):
    """What a deploy of `commit` does: {"action": "none"|"release", "target", "previous", "reason"}.

    `drift` names the slots (and "support" for support services) that compose would change as
    they are (a changed .env.local, a container stopped or removed by hand): a release then goes
    out even when the commit is the one already live, so configuration changes roll out through
    the same safe path as code."""
    active = state.get("active")
    live = (state.get("releases") or {}).get(active) or {}
    if active and live.get("commit") == commit and not drift and not force:
        return {"action": "none", "target": None, "previous": active, "reason": "%s already live in %s" % (tag(commit), active)}
    if active is None:
        reason = "first release"
    elif live.get("commit") != commit:
        reason = "%s -> %s" % (tag(live.get("commit")), tag(commit))
    else:
        reason = "configuration changed (%s)" % ", ".join(sorted(drift)) if drift else "forced"
    if tuple(slots) == SINGLE:
        return {"action": "release", "target": "app", "previous": active, "reason": reason}
    target = other(active) if active in BLUE_GREEN else "blue"
    return {"action": "release", "target": target, "previous": active, "reason": reason}


def releases_env(state, staged=None):
    """The compose interpolation file (.env): each slot's image tag. Not secret (tags only)."""
    releases = dict((k, v.get("commit")) for k, v in (state.get("releases") or {}).items())
    if staged:
        releases[staged[0]] = staged[1]
    lines = ["# written by axe deploy: the image tag each slot runs (secrets are in .env.local)"]
    for slot in sorted(releases):
        name = "AXE_RELEASE" if slot == "app" else "AXE_RELEASE_%s" % slot.upper()
        lines.append("%s=%s" % (name, tag(releases[slot])))
    return "\n".join(lines) + "\n"


def promoted(state, target, commit, ref, when):
    """The state after `target` went live with `commit`."""
    new = copy.deepcopy(state) if state else empty_state()
    old_active = new.get("active")
    old = (new.get("releases") or {}).get(old_active)
    if old and old.get("commit") != commit:
        new["previous"] = {"commit": old.get("commit"), "ref": old.get("ref")}
    new.setdefault("releases", {})[target] = {"commit": commit, "ref": ref, "at": when}
    new["active"] = target
    new["history"] = ([{"commit": commit, "ref": ref, "slot": target, "at": when}] + list(new.get("history") or []))[:HISTORY]
    return new


def rollback_target(state):
    """The release `--rollback` goes back to: the one live before the current one."""
    previous = (state or {}).get("previous")
    if not previous or not previous.get("commit"):
        return None
    return previous


def upstream_conf(container, port):
    """The proxy alias pointing at one colour's container: an nginx `set` the proxy's location includes
    and passes to (`proxy_pass http://$axe_upstream`), resolved per request by Docker's DNS."""
    return ("# written by axe deploy (ingress swap): the colour that serves\n"
            "set $axe_upstream %s:%d;\n" % (container, int(port)))
