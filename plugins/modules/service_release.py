#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_release
short_description: Stage, switch and record a service release on the host (blue/green or candidate)
version_added: 0.2.0
description:
  - The release half of the deploy engine; health polling is M(axelabs.onboard.service_health), run between the
    actions by the C(service) role.
  - O(action=status) reads the release state (C(.axe/release.json)) and changes nothing.
  - O(action=stage) starts what the release needs - support services (postgres) when compose would change them,
    then the new release beside the live one - the idle colour of a blue/green service, or a candidate container
    on another port for a single-container service. Nothing serving is touched. When the commit is already live
    and compose would change nothing, it does nothing.
  - O(action=proxy) (blue/green) makes sure the proxy alias runs, pointing at the live colour (on a first release,
    at the staged one).
  - O(action=promote) makes the staged release the one that serves and records it - blue/green - the proxy upstream
    is rewritten and nginx reloaded gracefully (in-flight requests finish), then after O(drain_seconds) the old
    colour is stopped (kept for rollback); single - the candidate is removed and the live container recreated on
    the new image.
  - O(action=abort) undoes a stage (stops the staged colour, removes the candidate) or, with O(phase=promoted), puts
    the previous release back (single-container services, when the live container fails health after promote).
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
    choices: [status, stage, proxy, promote, abort]
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
      - The blue/green alias - C(service) (compose service and container of the nginx proxy), C(upstream_port) (the port
        the colours listen on inside the network) and C(config_dir) (relative to O(project_dir), mounted by the proxy).
    type: dict
  candidate:
    description: Single-container services - C(name), C(port) (host port) and C(container_port) of the candidate.
    type: dict
  commit:
    description: The commit to release (O(action=stage), O(action=promote)).
    type: str
  ref:
    description: The ref the commit came from, recorded in the state.
    type: str
  target:
    description: The slot O(action=stage) staged (O(action=proxy), O(action=promote), O(action=abort)).
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
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import STATE_DIR, ServiceHost
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError


class Release(object):
    """One action on one service's compose project."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.host = ServiceHost(module, self.p["project_dir"], self.p["compose_file"])
        self.slots = self.p["slots"]
        self.single = tuple(sorted(self.slots)) == release.SINGLE
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
        active = state.get("active")
        slot_drift = self.host.drift([self.svc(active)]) if active in self.slots else {}
        plan = release.plan(state, commit, self.slots, drift=sorted(slot_drift), force=self.p["force"])
        helpers = list(self.p["support"]) + ([self.p["proxy"]["service"]] if self.p["proxy"] else [])
        if plan["action"] == "release" and helpers and not self.module.check_mode:
            # Their images have fixed tags: rebuild them from this checkout (layer cache makes an unchanged
            # one a no-op) so a changed postgres or proxy image shows up as drift below.
            self.host.compose(cc.compose_build, helpers, what="docker compose build %s" % " ".join(helpers))
        support_drift = self.host.drift(self.p["support"])
        self.result["plan"] = plan
        self.result["drift"] = dict(support_drift, **slot_drift)
        if support_drift:
            self.changed = True
            if not self.module.check_mode:
                self.build_missing(self.p["support"])
                self.up(self.p["support"])
        if plan["action"] == "none":
            return
        self.changed = True
        target = plan["target"]
        if self.single:
            cand = self.p["candidate"] or {}
            self.result["target"] = {"slot": "app", "container": cand.get("name"), "port": cand.get("port")}
        else:
            self.result["target"] = {"slot": target, "container": self.svc(target), "port": self.slots[target]["port"]}
        if self.module.check_mode:
            return
        self.build(target, commit)
        if self.single:
            cand = self.p["candidate"]
            self.host.run(cc.remove_container(cand["name"]), check=False)
            self.host.compose(cc.compose_run_candidate, self.svc("app"), cand["name"],
                              "127.0.0.1:%d:%d" % (cand["port"], cand["container_port"]),
                              env=self.env_for("app", commit), what="start the candidate %s" % cand["name"])
        else:
            self.write_env(state, staged=(target, commit))
            self.up([self.svc(target)], recreate=True)

    def proxy(self, state):
        proxy = self.p["proxy"]
        if not proxy:
            return
        serving = state.get("active") or self.p["target"]
        if not serving:
            raise ProductError("action=proxy needs a live release or a staged target")
        conf = "%s/upstream.conf" % proxy.get("config_dir", STATE_DIR + "/proxy")
        text = release.upstream_conf(self.svc(serving), proxy["upstream_port"])
        current = self.host.read_file(conf)
        drift = self.host.drift([proxy["service"]]) if current is not None else {proxy["service"]: ["missing"]}
        self.result["drift"] = drift
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
        previous = state.get("active")
        if self.single:
            self.host.run(cc.remove_container(self.p["candidate"]["name"]), check=False)
            new_state = release.promoted(state, "app", commit, self.p["ref"], _now())
            self.write_env(new_state)
            self.up([self.svc("app")])
            self.host.save_state(new_state)
            self.result["state"] = new_state
            return
        proxy = self.p["proxy"]
        conf = "%s/upstream.conf" % proxy.get("config_dir", STATE_DIR + "/proxy")
        self.host.write_file(conf, release.upstream_conf(self.svc(target), proxy["upstream_port"]))
        rc, out, err = self.host.run(cc.proxy_test(proxy["service"]), check=False)
        if rc != 0:
            # Put the file back as it was: the proxy keeps its running config either way.
            if previous:
                self.host.write_file(conf, release.upstream_conf(self.svc(previous), proxy["upstream_port"]))
            raise ProductError("the proxy refused the new upstream: %s" % (err or out).strip()[-400:],
                               next_step="%s keeps serving; see `docker logs %s`" % (previous or "nothing", proxy["service"]))
        self.host.run(cc.proxy_reload(proxy["service"]), what="nginx reload")
        new_state = release.promoted(state, target, commit, self.p["ref"], _now())
        self.host.save_state(new_state)
        self.result["state"] = new_state
        if previous and previous != target:
            time.sleep(max(0.0, self.p["drain_seconds"]))
            self.host.compose(cc.compose_stop, [self.svc(previous)], what="stop %s" % self.svc(previous))

    def abort(self, state):
        target = self.p["target"]
        self.changed = True
        if self.module.check_mode:
            return
        if self.single and self.p["phase"] == "staged":
            self.host.run(cc.remove_container(self.p["candidate"]["name"]), check=False)
            return
        if self.single:
            back = release.rollback_target(state)
            if not back:
                self.host.compose(cc.compose_stop, [self.svc("app")], what="stop %s" % self.svc("app"))
                return
            restored = release.promoted(state, "app", back["commit"], back.get("ref"), _now())
            self.write_env(restored)
            self.up([self.svc("app")])
            self.host.save_state(restored)
            self.result["state"] = restored
            return
        if target and target != state.get("active"):
            self.host.compose(cc.compose_stop, [self.svc(target)], what="stop %s" % self.svc(target))
        self.write_env(state)

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
            if plan.get("action") != "release":
                return self.before + "support services: %s\n" % ", ".join(sorted(self.result.get("drift") or {}))
            return self.before + "staged: %s %s beside it (%s)\n" % (target, what, plan.get("reason"))
        if action == "proxy":
            return self.before + "proxy %s -> %s\n" % (self.p["proxy"]["service"], self.state_active or target)
        if action == "promote":
            return "live: %s %s\n" % (target, what)
        return self.before + "stopped: the staged %s\n" % target

    def run(self):
        state = self.host.state()
        self.before = self.describe(state)
        self.state_active = state.get("active")
        getattr(self, self.p["action"])(state)
        self.result.setdefault("state", state)
        return self.result


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_dir=dict(type="path", required=True), compose_file=dict(type="str", default="compose.yaml"),
            action=dict(type="str", default="status", choices=["status", "stage", "proxy", "promote", "abort"]),
            slots=dict(type="dict", required=True), support=dict(type="list", elements="str", default=[]),
            proxy=dict(type="dict"), candidate=dict(type="dict"), commit=dict(type="str"), ref=dict(type="str"),
            target=dict(type="str"), phase=dict(type="str", default="staged", choices=["staged", "promoted"]),
            force=dict(type="bool", default=False), drain_seconds=dict(type="float", default=2),
        ),
        supports_check_mode=True,
    )
    if sorted(module.params["slots"]) not in (sorted(release.BLUE_GREEN), list(release.SINGLE)):
        module.fail_json(msg="slots must be {blue, green} or {app}, not %s" % sorted(module.params["slots"]))
    engine = Release(module)
    try:
        result = engine.run()
    except ProductError as exc:
        module.fail_json(msg=str(exc), commands=engine.host.commands)
    if module.params["action"] == "status":
        engine.changed = False
    module.exit_json(changed=engine.changed, commands=engine.host.commands,
                     diff=dict(before=engine.before, after=engine.after()), **result)


if __name__ == "__main__":
    main()
