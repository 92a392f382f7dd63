# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Blue/green release planning, as pure functions over a service's release state.

The state lives on the customer's host in `{project}/.axe/release.json`:

    {"active": "blue", "releases": {"blue": {"commit": .., "ref": ..}, "green": {..}},
     "previous": {"commit": .., "ref": ..}, "history": [..], "staged": {"slot": .., "commit": .., "ref": ..}}

`staged` names what a blue/green deploy brought up beside the live colour, written before the
colour starts: a deploy killed between the proxy's switch and saving the state leaves the proxy
serving a colour the state does not call live, and `interrupted_promotion` finishes that promotion
from this record instead of staging the next release over the colour that serves.

Two shapes of service share it, both behind an nginx proxy whose upstream the deploy switches
with a graceful reload (in-flight requests finish):
- blue/green (frame, hive): a release goes to the idle colour, is proven healthy there, and the
  proxy alias is switched to it; the old colour keeps serving until then.
- single (blueprint): one live container (slot `app`) that must stay the container the runbook
  names. A release is proven in a candidate container beside it, then swapped in two steps
  (`promote_steps`, `settle_steps`): the proxy points at the candidate, the live container is
  recreated on the new release and proven healthy, the proxy points back at it, the candidate goes.
  At every step the proxy points at a container that answers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

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


def plan(state, commit, slots, drift=(), force=False, force_reason="forced"):
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
        reason = "configuration changed (%s)" % ", ".join(sorted(drift)) if drift else force_reason
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


def with_staged(state, slot, commit, ref, when):
    """The state recording that `slot` is being brought up with `commit` beside the live release."""
    new = copy.deepcopy(state) if state else empty_state()
    new["staged"] = {"slot": slot, "commit": commit, "ref": ref, "at": when}
    return new


def without_staged(state):
    new = copy.deepcopy(state)
    new.pop("staged", None)
    return new


def interrupted_promotion(state, pointed_slot):
    """The promotion a killed deploy left half-done, or None: the proxy points at `pointed_slot`, which the
    state does not call live, and the state's `staged` record says which release was brought up there.
    Returns {"slot", "commit", "ref", "at"}, the release that in truth serves."""
    staged = (state or {}).get("staged") or {}
    if pointed_slot in (None, (state or {}).get("active")):
        return None
    if staged.get("slot") != pointed_slot or not staged.get("commit"):
        return None
    return staged


def promoted(state, target, commit, ref, when):
    """The state after `target` went live with `commit`."""
    new = copy.deepcopy(state) if state else empty_state()
    new.pop("staged", None)
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
    return ("# written by the deploy (ingress swap): the colour that serves\n"
            "set $axe_upstream %s:%d;\n" % (container, int(port)))


def parse_upstream(text):
    """(container, port) the proxy's upstream.conf points at, or None."""
    found = re.search(r"^set \$axe_upstream ([^\s:;]+):(\d+);", text or "", re.M)
    return (found.group(1), int(found.group(2))) if found else None


def proxy_upstream(state, slots, proxy, target=None, candidate=None):
    """(container, port) the proxy points at when it is started or checked (action=proxy): the live
    slot's container; with nothing live yet, the staged release (the colour, or the candidate)."""
    active = state.get("active")
    if active in slots:
        return slots[active]["service"], int(proxy["upstream_port"])
    if candidate:
        return candidate["name"], int(candidate.get("container_port") or proxy["upstream_port"])
    if target in slots:
        return slots[target]["service"], int(proxy["upstream_port"])
    return None


# ---- the two-step swap of a single-container service ------------------------------------------------
# Steps are tuples the module runs in order: ("point", container) the proxy's upstream, tested by nginx
# and reloaded gracefully; ("drain",) wait for the requests the previous upstream still serves; ("up",
# service) compose up on the release being recorded; ("healthy", service) wait until it answers;
# ("remove", container); ("stop", service); ("record",) save the release state.
def promote_steps(app, candidate):
    """Step one: the candidate (healthy, on the new release) serves while `app` is recreated on it."""
    return [("point", candidate), ("drain",), ("up", app), ("record",)]


def settle_steps(app, candidate):
    """Step two, once `app` answers on the new release: it serves again and the candidate goes."""
    return [("point", app), ("drain",), ("remove", candidate)]


def abort_steps(app, candidate, phase, pointed, back, candidate_running):
    """Undo a release of a single-container service, never taking away what the proxy serves from.

    phase: "staged" (the release never went live) or "promoted" (it did; `back` is the release to put
    back); pointed: the container the proxy points at now; back: whether a release is to be put back in
    `app` (false on a first release: nothing served before, so nothing serves after);
    candidate_running: whether the candidate still runs (then it can serve while `app` is recreated)."""
    if phase == "staged" and pointed != candidate:
        return [("remove", candidate)]        # the live container was never touched
    if not back:
        return [("remove", candidate), ("stop", app)]
    steps = []
    if pointed != candidate and candidate_running:
        steps += [("point", candidate), ("drain",)]
    return steps + [("up", app), ("healthy", app), ("point", app), ("drain",), ("remove", candidate), ("record",)]


# ---- what serves, measured on the host after a failure ---------------------------------------------
def measure_points(slots, proxy=None, candidate=None, pointed=None, active=None,
                   health_path="/health/ready", external_path=None):
    """Where to ask what serves: [{"what", "url"}]. First the host's entry point (the proxy's port, what
    cloudflared forwards to; without a proxy, the live slot), then the container the proxy points at."""
    def url(port, path):
        return "http://127.0.0.1:%d%s" % (int(port), path or "/")

    ports = dict((s["service"], s.get("port")) for s in slots.values())
    if candidate:
        ports[candidate["name"]] = candidate.get("port")
    points = []
    if proxy and proxy.get("port"):
        points.append({"what": "%s, what cloudflared forwards to" % proxy["service"],
                       "url": url(proxy["port"], external_path or health_path)})
        name, why = pointed, "the container the proxy points at"
    else:
        name, why = (slots.get(active) or {}).get("service"), "the live container"
    if name and ports.get(name):
        points.append({"what": "%s, %s" % (name, why), "url": url(ports[name], health_path)})
    elif name:
        points.append({"what": "%s, %s" % (name, why), "url": None})
    return points


def answer_summary(status, body):
    """One probe's answer in a few words: the status and, when the body is the service's health JSON,
    the version (and colour) it reports."""
    if not status:
        return "nothing answers (%s)" % (body or "no connection").strip().splitlines()[0][:120]
    words = "answers %d" % status
    try:
        data = json.loads(body or "")
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("version"):
        words += ", version %s" % data["version"]
        if data.get("colour"):
            words += " (%s)" % data["colour"]
    return words


def measured_sentence(results):
    """results: measure_points' entries with "status" and "body" added (status None: not asked)."""
    if not results:
        return "measured on the host after the failure: nothing to ask (no port known)"
    parts = []
    for r in results:
        if not r.get("url"):
            parts.append("%s: no host port to ask" % r["what"])
        else:
            parts.append("%s (%s) %s" % (r["url"], r["what"], answer_summary(r.get("status"), r.get("body"))))
    return "measured on the host after the failure: " + "; ".join(parts)
