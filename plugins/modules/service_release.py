#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_release
short_description: Stage, switch and record a service release on the host (blue/green, or candidate and two-step swap)
version_added: 0.1.0
description:
  - The release half of the deploy engine; health polling is M(axelabs.onboard.service_health), run between the
    actions by the C(service) role. Every service serves through its nginx proxy, whose upstream is switched with a
    graceful reload (in-flight requests finish).
  - O(action=status) reads the release state (C(.axe/release.json)) and changes nothing.
  - O(action=stage) starts the new release beside the live one - the idle colour of a blue/green service, or a
    candidate container on another port for a single-container service. Nothing serving is touched. When the commit
    is already live and compose would change nothing, it does nothing. It reports the support services compose
    would change (RV(support_drift)). A blue/green deploy that was stopped after the proxy's switch and before the
    state was saved is finished first (RV(recovered)), so the next release never goes to the colour that serves.
  - O(action=support) recreates the support services (postgres) compose would change - a changed C(.env.local)
    they read, a new image. The live release pauses while they restart, so this is a step of its own, and it ends
    only when the live release answers its health URL again.
  - O(action=proxy) makes sure the proxy runs, pointing at the live release (on a first release, at the staged one).
  - O(action=promote) makes the staged release the one that serves and records it - blue/green - the proxy points
    at the new colour, then after O(drain_seconds) the old colour is stopped (kept for rollback); single - the proxy
    points at the candidate, and after O(drain_seconds) the live container is recreated on the new release (the
    candidate serves meanwhile).
  - O(action=settle) (single, once the recreated container is healthy) points the proxy back at it and, after
    O(drain_seconds), removes the candidate. So at rest the live container is the one the runbook names.
  - O(action=abort) undoes a stage (stops the staged colour, removes the candidate) or, with O(phase=promoted), puts
    the previous release back (single - recreated while the candidate serves, proven healthy before the proxy points
    at it again). Then it measures what serves (RV(serving), RV(measured)).
  - Every failure message ends with what serves now, as measured on the host after the failure - the proxy's port
    (what cloudflared forwards to) and the container the proxy points at, their status and reported version.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.service
options:
  action:
    description: What to do.
    type: str
    choices: [status, stage, support, proxy, promote, settle, abort]
    default: status
  slots:
    description:
      - The compose services that run releases. Keys C(blue) and C(green) for a blue/green service, C(app) for a
        single-container one. Each has C(service) (the compose service, also its container name) and C(port) (the host
        port its health endpoint answers on).
    type: dict
    required: true
  support:
    description: Compose services that releases need running but that are not released themselves (postgres).
    type: list
    elements: str
    default: []
  proxy:
    description:
      - The nginx proxy alias the releases serve through. Required for a single-container service (the two-step swap
        goes through it).
    type: dict
    suboptions:
      service:
        description: The proxy's compose service, also its container name.
        type: str
        required: true
      upstream_port:
        description: The port the releases listen on inside the network.
        type: int
        required: true
      config_dir:
        description: Relative to O(project_dir), mounted by the proxy; holds C(upstream.conf).
        type: str
        default: .axe/proxy
      port:
        description: Its host port, what cloudflared forwards to (asked after a failure).
        type: int
  candidate:
    description: The candidate container of a single-container service (required for one).
    type: dict
    suboptions:
      name:
        description: Its container name.
        type: str
        required: true
      port:
        description: Its host port.
        type: int
        required: true
      container_port:
        description: The port it listens on inside the container.
        type: int
        required: true
  health_path:
    description: The path each release answers its health on, at its own host port.
    type: str
    default: /health/ready
  external_path:
    description: The health path as the proxy (and cloudflared) serve it; O(health_path) when not given.
    type: str
  health_timeout:
    description: Seconds O(action=abort) waits for a restored single container to answer before the proxy points at it.
    type: float
    default: 60
  commit:
    description: The commit to release (O(action=stage), O(action=promote)).
    type: str
  ref:
    description: The ref the commit came from, recorded in the state.
    type: str
  target:
    description: The slot O(action=stage) staged (O(action=proxy), O(action=promote), O(action=settle), O(action=abort)).
    type: str
  phase:
    description: For O(action=abort) - C(staged) or C(promoted).
    type: str
    choices: [staged, promoted]
    default: staged
  force:
    description: Release even when the commit is live and nothing drifted.
    type: bool
    default: false
  force_reason:
    description: Why O(force) is set, as the release's reason says it (C(.env.local changed) for a new secret).
    type: str
    default: forced
  drain_seconds:
    description: Seconds between the proxy switch and stopping the old colour, for requests it still serves.
    type: float
    default: 2
"""

EXAMPLES = r"""
- name: Stage frame's new release in the idle colour
  axelabs.onboard.service_release:
    project_dir: /Users/axe/.axe/services/frame
    action: stage
    commit: "{{ checkout.commit }}"
    ref: v2
    slots:
      blue: {service: frame-mcp-blue, port: 18090}
      green: {service: frame-mcp-green, port: 18091}
    support: [frame-postgres]
  register: staged
"""

RETURN = r"""
state:
  description: The release state after the call.
  returned: always
  type: dict
  sample: {active: green, releases: {blue: {commit: 0448aac..., ref: v1}, green: {commit: 6ad6564..., ref: v2}}}
plan:
  description: What O(action=stage) decided - C(action) (none or release), C(target), C(previous), C(reason).
  returned: when action is stage
  type: dict
target:
  description: The staged slot, its container and the host port its health answers on.
  returned: when action is stage and a release is due
  type: dict
  sample: {slot: green, container: frame-mcp-green, port: 18091}
support_drift:
  description: O(action=stage) - the support services compose would change, and why (for O(action=support)).
  returned: when action is stage
  type: dict
  sample: {frame-postgres: [recreate]}
recovered:
  description:
    - O(action=stage) of a single-container service, when a deploy had stopped half-way with the candidate serving - what
      it put back (the live release in the live container, proven healthy, the proxy pointing at it again).
    - O(action=stage) of a blue/green service, when a deploy had stopped after the proxy's switch - the colour recorded
      as live and the old colour stopped.
  returned: when it happened
  type: str
serving:
  description:
    - After O(action=abort) (and in every failure's result) - what was asked on the host and what it answered, C(what),
      C(url), C(status) (0 when nothing answered) and C(body).
  returned: when action is abort, and on failure
  type: list
  elements: dict
measured:
  description: RV(serving) in one sentence, as the failure messages end with it.
  returned: when action is abort, and on failure
  type: str
  sample: "measured on the host after the failure: http://127.0.0.1:18083/health/ready (axe-blueprint-proxy, what
    cloudflared forwards to) answers 200, version 2.0.0; ..."
commands:
  description: The commands run on the host, with exit code and seconds.
  returned: always
  type: list
  elements: dict
"""

import json
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils import release
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import STATE_DIR, ServiceHost, http_probe
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


class Release(object):
    """One action on one service's compose project: what every strategy shares. How a release starts, goes live,
    settles and is undone is the strategy's (BlueGreen, SingleContainer below); the actions call those hooks."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.host = ServiceHost(module, self.p["project_dir"], self.p["compose_file"])
        self.slots = self.p["slots"]
        self.cand = self.p["candidate"] or {}
        self.changed = False
        self.result = {}

    # helpers -------------------------------------------------------------------------------------------
    def svc(self, slot):
        return self.slots[slot]["service"]

    def env_for(self, slot, commit):
        name = "AXE_RELEASE" if slot == "app" else "AXE_RELEASE_%s" % slot.upper()
        return {name: release.tag(commit)}

    def write_env(self, state, staged=None):
        if self.host.write_file(".env", release.releases_env(state, staged)):
            self.changed = True

    def build_missing(self, services, env=None):
        """Build the images of `services` that the host does not have (there is no registry to pull from)."""
        dummy, out, dummy = self.host.compose(cc.compose_config, env=env, what="docker compose config")
        config = json.loads(out).get("services", {})
        missing = [s for s in services if not (config.get(s) or {}).get("image")
                   or not self.host.ok(cc.image_exists(config[s]["image"]))]
        if missing:
            self.host.compose(cc.compose_build, missing, env=env, what="docker compose build %s" % " ".join(missing))
            self.changed = True

    def build(self, slot, commit):
        self.build_missing([self.svc(slot)], env=self.env_for(slot, commit))

    def up(self, services, env=None, recreate=False):
        self.host.compose(cc.compose_up, services, recreate=recreate, env=env, what="docker compose up %s" % " ".join(services))
        self.changed = True

    # the proxy -------------------------------------------------------------------------------------------
    def conf_path(self):
        return "%s/upstream.conf" % self.p["proxy"].get("config_dir", STATE_DIR + "/proxy")

    def pointed(self):
        """The container the proxy's upstream names (what it was last told to serve from), or None."""
        if not self.p["proxy"]:
            return None
        found = release.parse_upstream(self.host.read_file(self.conf_path()))
        return found[0] if found else None

    def port_inside(self, container):
        if self.cand and container == self.cand.get("name"):
            return int(self.cand.get("container_port") or self.p["proxy"]["upstream_port"])
        return int(self.p["proxy"]["upstream_port"])

    def point(self, container):
        """The proxy's upstream -> `container`, tested by nginx before the graceful reload (in-flight requests
        finish). A file nginx refuses is put back as it was: the proxy keeps its running config either way."""
        proxy = self.p["proxy"]
        conf = self.conf_path()
        current = self.host.read_file(conf)
        text = release.upstream_conf(container, self.port_inside(container))
        if current == text:
            return False
        self.host.write_file(conf, text)
        rc, out, err = self.host.run(cc.proxy_test(proxy["service"]), check=False)
        if rc != 0:
            if current is not None:
                self.host.write_file(conf, current)
            raise ProductError("the proxy %s refused the upstream %s: %s" % (proxy["service"], container, (err or out).strip()[-400:]),
                               next_step="see `docker logs %s`; the proxy was left as it was" % proxy["service"])
        self.host.run(cc.proxy_reload(proxy["service"]), what="nginx reload")
        self.changed = True
        return True

    def drain(self):
        time.sleep(max(0.0, self.p["drain_seconds"]))

    # what serves -------------------------------------------------------------------------------------------
    def measure(self):
        """Ask the host what serves now: the proxy's port and the container it points at (release.measure_points)."""
        state = self.host.state()
        points = release.measure_points(self.slots, proxy=self.p["proxy"], candidate=self.cand or None,
                                        pointed=self.pointed(), active=state.get("active"),
                                        health_path=self.p["health_path"], external_path=self.p["external_path"])
        for point in points:
            if point["url"]:
                point["status"], point["body"] = http_probe(point["url"], timeout=3)
        self.result["serving"] = points
        self.result["measured"] = release.measured_sentence(points)
        return self.result["measured"]

    def wait_healthy(self, service):
        """Until `service` answers its health URL (at most health_timeout seconds): the proxy never points at a
        container that does not answer."""
        port = [s["port"] for s in self.slots.values() if s["service"] == service][0]
        url = "http://127.0.0.1:%d%s" % (int(port), self.p["health_path"])
        deadline = time.time() + max(1.0, self.p["health_timeout"])
        status, body = 0, ""
        for dummy in range(int(max(1.0, self.p["health_timeout"]) / 0.5) + 1):
            status, body = http_probe(url, timeout=max(1.0, min(5.0, deadline - time.time())))
            if status == 200 or time.time() + 0.5 > deadline:
                break
            time.sleep(0.5)
        if status != 200:
            answer = release.answer_summary(status, body)
            raise ProductError("%s did not answer %s with 200 within %ss (%s)" % (service, url, self.p["health_timeout"], answer),
                               next_step="see `docker logs %s`; the proxy still points at %s" % (service, self.pointed()))

    def run_steps(self, steps, state, target_state):
        """Run a release.*_steps plan: the module's only way to touch a single-container service that serves."""
        for step in steps:
            kind, name = step[0], (step[1] if len(step) > 1 else None)
            if kind == "point":
                self.point(name)
            elif kind == "drain":
                self.drain()
            elif kind == "up":
                self.write_env(target_state)
                self.up([name])
            elif kind == "healthy":
                self.wait_healthy(name)
            elif kind == "remove":
                if self.host.containers([name]):
                    self.host.run(cc.remove_container(name), check=False)
                    self.changed = True
            elif kind == "stop":
                self.host.compose(cc.compose_stop, [name], what="stop %s" % name)
                self.changed = True
            elif kind == "record":
                if target_state != state:
                    self.host.save_state(target_state)
                    self.changed = True
                self.result["state"] = target_state
            else:  # pragma: no cover - the plans are unit-tested
                raise ProductError("unknown release step %r" % (step,))

    # actions ---------------------------------------------------------------------------------------------
    def status(self, state):
        active = state.get("active")
        self.result["live"] = self.host.containers([self.svc(s) for s in self.slots])
        self.result["rollback_to"] = release.rollback_target(state)
        self.result["active"] = active

    def stage(self, state):
        commit = self.p["commit"]
        if not commit:
            raise ProductError("action=stage needs commit")
        state = self.resume(state)
        active = state.get("active")
        slot_drift = self.host.drift([self.svc(active)]) if active in self.slots else {}
        plan = release.plan(state, commit, self.slots, drift=sorted(slot_drift), force=self.p["force"],
                            force_reason=self.p["force_reason"])
        helpers = list(self.p["support"]) + ([self.p["proxy"]["service"]] if self.p["proxy"] else [])
        if plan["action"] == "release" and helpers and not self.module.check_mode:
            # Their images have fixed tags: rebuild them from this checkout (layer cache makes an unchanged
            # one a no-op) so a changed postgres or proxy image shows up as drift below.
            self.host.compose(cc.compose_build, helpers, what="docker compose build %s" % " ".join(helpers))
        support_drift = self.host.drift(self.p["support"])
        self.result["plan"] = plan
        self.result["drift"] = dict(support_drift, **slot_drift)
        # Recreating a support service pauses the live release too: it is action=support, a step of its own
        # that the plan and the operator see by name, never a side effect of staging.
        self.result["support_drift"] = support_drift
        if plan["action"] == "none":
            return
        self.changed = True
        target = plan["target"]
        self.result["target"] = self.staged_at(target)
        if self.module.check_mode:
            return
        self.build(target, commit)
        self.start(state, target, commit)

    def slot_of(self, container):
        return ([slot for slot, s in self.slots.items() if s["service"] == container] or [None])[0]

    def running(self, container):
        return (self.host.containers([container]).get(container) or {}).get("status") == "running"

    def support(self, state):
        """Support services compose would change (a changed .env.local they read, a new image): recreated. The
        live release pauses while they restart (postgres behind both colours): the one planned pause of a deploy."""
        drift = self.host.drift(self.p["support"])
        self.result["drift"] = drift
        if not drift:
            return
        self.changed = True
        if self.module.check_mode:
            return
        self.build_missing(self.p["support"])
        self.up(self.p["support"])
        active = state.get("active")
        if active in self.slots and self.running(self.svc(active)):
            # The pause ends inside this step: the live release answers again (its database is back) before the
            # deploy goes on, or the deploy stops here saying so.
            self.wait_healthy(self.svc(active))

    def proxy(self, state):
        proxy = self.p["proxy"]
        if not proxy:
            return
        upstream = release.proxy_upstream(state, self.slots, proxy, target=self.p["target"], candidate=self.cand or None)
        if not upstream:
            raise ProductError("action=proxy needs a live release or a staged target")
        conf = self.conf_path()
        text = release.upstream_conf(*upstream)
        current = self.host.read_file(conf)
        drift = self.host.drift([proxy["service"]]) if current is not None else {proxy["service"]: ["missing"]}
        self.result["drift"] = drift
        self.result["upstream"] = upstream[0]
        if current == text and not drift:
            return
        self.changed = True
        if self.module.check_mode:
            return
        self.host.write_file(conf, text)
        if drift:
            self.build_missing([proxy["service"]])
            self.up([proxy["service"]])
        else:
            self.host.run(cc.proxy_reload(proxy["service"]), what="nginx reload")

    def promote(self, state):
        target, commit = self.p["target"], self.p["commit"]
        if not (target and commit):
            raise ProductError("action=promote needs target and commit")
        self.changed = True
        if self.module.check_mode:
            return
        self.go_live(state, release.promoted(state, target, commit, self.p["ref"], _now()), target)

    def settle(self, state):
        """Nothing to settle, unless the strategy has a second step after going live."""

    def abort(self, state):
        self.changed = True
        if self.module.check_mode:
            return
        self.undo(state, self.p["target"])

    def describe(self, state):
        active = state.get("active")
        live = (state.get("releases") or {}).get(active) or {}
        if not active:
            return "live: nothing\n"
        return "live: %s %s (%s)\n" % (active, release.tag(live.get("commit")), live.get("ref") or "?")

    def after(self):
        action, target = self.p["action"], (self.result.get("target") or {}).get("slot") or self.p["target"]
        what = "%s (%s)" % (release.tag(self.p["commit"]), self.p["ref"]) if self.p["commit"] else ""
        if not self.changed or action == "status":
            return self.before
        if action == "stage":
            plan = self.result.get("plan") or {}
            before = self.before + ("recovered: %s\n" % self.result["recovered"] if self.result.get("recovered") else "")
            if plan.get("action") != "release":
                return before
            return before + "staged: %s %s beside it (%s)\n" % (target, what, plan.get("reason"))
        if action == "support":
            return self.before + "recreated: %s\n" % ", ".join(sorted(self.result.get("drift") or {}))
        if action == "proxy":
            return self.before + "proxy %s -> %s\n" % (self.p["proxy"]["service"], self.result.get("upstream") or target)
        if action == "promote":
            return self.live_text(target, what)
        if action == "settle":
            return self.before + "proxy %s -> %s; %s removed\n" % (self.p["proxy"]["service"], self.svc("app"), self.cand["name"])
        return self.before + "stopped: the staged %s\n" % target

    def run(self):
        state = self.host.state()
        self.before = self.describe(state)
        getattr(self, self.p["action"])(state)
        self.result.setdefault("state", state)
        if self.p["action"] == "abort":
            self.measure()
        return self.result


class BlueGreen(Release):
    """Two colours behind the proxy: the new release starts in the idle colour, the proxy switches to it, the old
    colour stops after the drain (kept for rollback)."""

    def resume(self, state):
        return self.finish_interrupted(state) if self.p["proxy"] else state

    def staged_at(self, target):
        return {"slot": target, "container": self.svc(target), "port": self.slots[target]["port"]}

    def start(self, state, target, commit):
        staged = state.get("staged") or {}
        # Recorded before the colour starts: a kill after the proxy's switch is then finished, not overwritten.
        self.host.save_state(release.with_staged(state, target, commit, self.p["ref"], _now()))
        self.write_env(state, staged=(target, commit))
        if staged.get("slot") == target and staged.get("commit") == commit and self.running(self.svc(target)) \
                and not self.host.drift([self.svc(target)]):
            # A run that stopped after staging this very release left it up (on a first release the proxy
            # already points at it and it serves): recreating it would fail its requests for nothing.
            self.result["reused"] = "%s already runs %s, as staged by a run that stopped" % (target, release.tag(commit))
            return
        self.up([self.svc(target)], recreate=True)

    def finish_interrupted(self, state):
        """A deploy killed between the proxy's switch and saving the state left the proxy's upstream naming the
        colour it brought up (and nginx serving it, or, killed before the reload, still the old one): make nginx
        serve it, record it as live and stop the old one, as the promotion would have. Staging over the colour the
        upstream names would fail its requests."""
        slot = self.slot_of(self.pointed())
        found = release.interrupted_promotion(state, slot) if state.get("active") else None
        if not found or not self.running(self.svc(slot)):
            return state
        previous = state.get("active")
        new_state = release.promoted(state, slot, found["commit"], found.get("ref"), found.get("at") or _now())
        self.result["recovered"] = ("the proxy already served %s %s (a deploy stopped after switching to it): recorded as live, "
                                    "%s stopped" % (slot, release.tag(found["commit"]), previous))
        self.changed = True
        self.result["state"] = new_state  # what the later tasks read as live
        if self.module.check_mode:
            return new_state
        if self.p["proxy"]:
            # The file names `slot`, but a kill between writing it and nginx's reload leaves nginx serving the old
            # colour (seen: a SIGTERM in the D-day's frame step, then a 502 once the old colour stopped). A graceful
            # reload, tested first, makes the file what serves (a no-op when it already is) before the old one stops.
            proxy = self.p["proxy"]["service"]
            rc, out, err = self.host.run(cc.proxy_test(proxy), check=False)
            if rc != 0:
                raise ProductError("the proxy %s refuses its upstream file naming %s: %s" % (proxy, slot, (err or out).strip()[-400:]),
                                   next_step="see `docker logs %s`; %s still runs" % (proxy, self.svc(previous)))
            self.host.run(cc.proxy_reload(proxy), what="nginx reload")
        self.host.save_state(new_state)
        if previous in self.slots and previous != slot:
            self.host.compose(cc.compose_stop, [self.svc(previous)], what="stop %s" % self.svc(previous))
        return new_state

    def go_live(self, state, new_state, target):
        previous = state.get("active")
        self.point(self.svc(target))
        self.host.save_state(new_state)
        self.result["state"] = new_state
        if previous and previous != target:
            self.drain()
            self.host.compose(cc.compose_stop, [self.svc(previous)], what="stop %s" % self.svc(previous))

    def undo(self, state, target):
        active = state.get("active")
        if target and target != active:
            # The proxy may already point at the failed colour (the state could not be saved after the switch):
            # back to the live one first, which still runs, then the failed colour can stop.
            if self.p["proxy"] and self.pointed() == self.svc(target) and active in self.slots and self.running(self.svc(active)):
                self.point(self.svc(active))
                self.drain()
            self.host.compose(cc.compose_stop, [self.svc(target)], what="stop %s" % self.svc(target))
        if "staged" in state:
            self.host.save_state(release.without_staged(state))
        self.write_env(state)

    def live_text(self, target, what):
        return "live: %s %s\n" % (target, what)


class SingleContainer(Release):
    """One live container behind the proxy: the release is proven in a candidate container, then swapped in two steps
    (the proxy points at the candidate while the live container is recreated, then back), with no failed request."""

    def resume(self, state):
        if not self.module.check_mode:
            self.recover(state)
        return state

    def recover(self, state):
        """A deploy that stopped half-way (its undo could not bring the live container back) left the candidate
        serving: put the live release back in the live container first, the same way an abort does."""
        app, cand = self.svc("app"), self.cand["name"]
        if self.pointed() != cand or not self.running(cand) or not state.get("active"):
            return
        self.result["recovered"] = "%s served since a deploy stopped half-way; %s is back" % (cand, app)
        self.run_steps(release.abort_steps(app, cand, "staged", cand, True, True), state, state)

    def staged_at(self, target):
        return {"slot": "app", "container": self.cand["name"], "port": self.cand["port"]}

    def start(self, state, target, commit):
        cand = self.cand
        self.host.run(cc.remove_container(cand["name"]), check=False)
        self.host.compose(cc.compose_run_candidate, self.svc("app"), cand["name"],
                          "127.0.0.1:%d:%d" % (cand["port"], cand["container_port"]),
                          env=self.env_for("app", commit), what="start the candidate %s" % cand["name"])

    def go_live(self, state, new_state, target):
        self.run_steps(release.promote_steps(self.svc("app"), self.cand["name"]), state, new_state)

    def settle(self, state):
        app, cand = self.svc("app"), self.cand["name"]
        if self.pointed() == app and not self.host.containers([cand]):
            return
        self.changed = True
        if self.module.check_mode:
            return
        self.run_steps(release.settle_steps(app, cand), state, state)

    def undo(self, state, target):
        app, cand = self.svc("app"), self.cand["name"]
        if self.p["phase"] == "promoted":
            back = release.rollback_target(state)
            restored = release.promoted(state, "app", back["commit"], back.get("ref"), _now()) if back else state
        else:
            back = (state.get("releases") or {}).get(state.get("active"))
            restored = state
        steps = release.abort_steps(app, cand, self.p["phase"], self.pointed(), bool(back), self.running(cand))
        self.run_steps(steps, state, restored)

    def live_text(self, target, what):
        return "live: %s %s (served by %s while %s is recreated)\n" % (target, what, self.cand["name"], self.svc("app"))


STRATEGIES = {release.BLUE_GREEN: BlueGreen, release.SINGLE: SingleContainer}


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def with_measurement(exc, measured):
    """The error with what serves now, as measured after it, as its last detail (the next step stays its own)."""
    return ProductError(exc.message, next_step=exc.next_step, trap=exc.trap,
                        details=list(exc.details) + ([measured] if measured else []))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_dir=dict(type="path", required=True), compose_file=dict(type="str", default="compose.yaml"),
            action=dict(type="str", default="status", choices=["status", "stage", "support", "proxy", "promote", "settle", "abort"]),
            slots=dict(type="dict", required=True), support=dict(type="list", elements="str", default=[]),
            proxy=dict(type="dict", options=dict(service=dict(type="str", required=True),
                                                 upstream_port=dict(type="int", required=True),
                                                 config_dir=dict(type="str", default=".axe/proxy"), port=dict(type="int"))),
            candidate=dict(type="dict", options=dict(name=dict(type="str", required=True), port=dict(type="int", required=True),
                                                     container_port=dict(type="int", required=True))),
            commit=dict(type="str"), ref=dict(type="str"),
            target=dict(type="str"), phase=dict(type="str", default="staged", choices=["staged", "promoted"]),
            force=dict(type="bool", default=False), force_reason=dict(type="str", default="forced"), drain_seconds=dict(type="float", default=2),
            health_path=dict(type="str", default="/health/ready"), external_path=dict(type="str"),
            health_timeout=dict(type="float", default=60),
        ),
        supports_check_mode=True,
    )
    slots = tuple(sorted(module.params["slots"]))
    strategy = STRATEGIES.get(slots)
    if strategy is None:
        module.fail_json(msg="slots must be {blue, green} or {app}, not %s" % list(slots))
    bad = [name for name, slot in module.params["slots"].items()
           if not isinstance(slot, dict) or not slot.get("service") or not str(slot.get("port", "")).isdigit()]
    if bad:
        module.fail_json(msg="each slot needs a service and a port: %s" % ", ".join(sorted(bad)))
    if strategy is SingleContainer and not (module.params["proxy"] and module.params["candidate"]):
        module.fail_json(msg="a single-container service (slot app) needs proxy and candidate: its swap goes through both")
    engine = strategy(module)
    try:
        result = engine.run()
    except ProductError as exc:
        try:
            measured = engine.measure()
        except Exception as err:  # the failure is what the operator needs; say why nothing was measured
            measured = "what serves now could not be measured: %s" % err
        fail(module, with_measurement(exc, measured), commands=engine.host.commands,
             serving=engine.result.get("serving", []), measured=measured)
    if module.params["action"] == "status":
        engine.changed = False
    module.exit_json(changed=engine.changed, commands=engine.host.commands,
                     diff=dict(before=engine.before, after=engine.after()), **result)


if __name__ == "__main__":
    main()
