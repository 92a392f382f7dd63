#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_preflight
short_description: The host's half of the trap preflight, in one round trip
version_added: 0.2.0
description:
  - Reports the host's platform (system, release, machine, distribution or macOS version) and account.
  - Finds each named binary on the session PATH extended with the Homebrew prefixes, because a
    non-login SSH session on macOS lacks C(/opt/homebrew/bin) (trap T07), and returns that PATH
    so later tasks can run with it.
  - When asked, checks that C(sudo) works without a prompt, that the Docker engine answers C(docker compose version)
    on that PATH, and reads the sleep settings with C(pmset -g) (trap T04).
  - Every problem is a finding (C(trap), C(problem), C(next_step), C(blocking)), the shape
    M(axelabs.onboard.trap_preflight) reports; none stops the others from being looked at, and the module itself
    fails only when O(required) asks it to.
  - The one change it makes, in apply mode only, is the safe fix of T04 - C(sudo pmset -a sleep 0 disksleep 0 standby 0
    autorestart 1) on a Mac mini that sleeps.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The sleep settings before and after the T04 fix.
  idempotent:
    support: full
options:
  binaries:
    description:
      - Names of the binaries to find.
    type: list
    elements: str
    default: [docker, git]
  check_become:
    description: Check that C(sudo -n) works (become without a prompt).
    type: bool
    default: false
  check_compose:
    description: Check that C(docker compose version --short) answers on the Homebrew PATH.
    type: bool
    default: false
  check_sleep:
    description: Read the sleep settings and, in apply mode, keep a Mac mini that sleeps awake (T04).
    type: bool
    default: false
  required:
    description:
      - Fail, naming every blocking finding at once, when there is any.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The host's half of the preflight, in one round trip
  axelabs.onboard.host_preflight:
    binaries: [docker, git, cloudflared]
    check_become: true
    check_compose: true
    check_sleep: true
  register: probe

- name: Run docker with the PATH the probe found
  ansible.builtin.command: docker compose version --short
  environment:
    PATH: "{{ probe.path }}"
  changed_when: false
"""

RETURN = r"""
runner:
  description:
    - How this module ran on the host. V(mitogen) inside the one Python that Mitogen's strategy keeps on the host for
      the whole run (C(axe)'s default), V(ansible) as a Python of its own, as Ansible's own strategies run every task.
    - The proof that Mitogen took over the connection. It steps aside without a word for a connection named by its
      FQCN (C(ansible.builtin.ssh)).
  returned: always
  type: str
  sample: mitogen
findings:
  description: What blocks or needs saying, each with its trap id (empty when the host is ready).
  returned: always
  type: list
  elements: dict
  sample: [{trap: T04, problem: "the Mac mini sleeps after 1 min; apply sets sleep 0", next_step: "", blocking: false}]
become_uid:
  description: What C(sudo -n id -u) printed (C(0) when become works), when O(check_become).
  returned: always
  type: str
  sample: "0"
compose_version:
  description: The Compose version the engine reported, when O(check_compose).
  returned: always
  type: str
  sample: 2.29.7
sleep_minutes:
  description: What C(pmset -g) said the host sleeps after, before any fix (C(0) never), when O(check_sleep).
  returned: always
  type: str
  sample: "1"
path:
  description: The PATH to run remote commands with (Homebrew prefixes, the session PATH, system dirs).
  returned: always
  type: str
  sample: /opt/homebrew/bin:/opt/homebrew/sbin:/usr/local/bin:/usr/local/sbin:/usr/bin:/bin:/usr/sbin:/sbin
session_path:
  description: The PATH the non-login SSH session had, before the Homebrew prefixes were added.
  returned: always
  type: str
  sample: /usr/bin:/bin:/usr/sbin:/sbin
binaries:
  description: Each binary found, with its full path.
  returned: always
  type: dict
  sample: {docker: /opt/homebrew/bin/docker, git: /usr/bin/git}
missing:
  description: The binaries not found anywhere on RV(path).
  returned: always
  type: list
  elements: str
  sample: []
outside_session_path:
  description: Found binaries that a plain non-login SSH command would not find (trap T07).
  returned: always
  type: list
  elements: str
  sample: [docker]
platform:
  description: The host's platform.
  returned: always
  type: dict
  contains:
    system:
      description: The kernel's name (C(Darwin) on a Mac).
      type: str
      sample: Darwin
    release:
      description: The kernel release.
      type: str
      sample: 23.4.0
    machine:
      description: The CPU architecture.
      type: str
      sample: arm64
    os:
      description: The OS product and version (C(sw_vers) on macOS, C(/etc/os-release) elsewhere).
      type: str
      sample: macOS 14.4
    hostname:
      description: The host's name.
      type: str
      sample: acme-macmini
    python:
      description: The Python running the module.
      type: str
      sample: 3.11.2
user:
  description: The account the session runs as.
  returned: always
  type: dict
  contains:
    name:
      description: The user name.
      type: str
      sample: axe
    uid:
      description: The numeric user id (launchd's C(gui/<uid>) domain).
      type: int
      sample: 501
    home:
      description: The home directory.
      type: str
      sample: /Users/axe
"""

import os
import platform
import pwd
import socket
import sys

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.axelabs.onboard.plugins.module_utils import host_checks as checks
from ansible_collections.axelabs.onboard.plugins.module_utils.host_paths import find_binaries, remote_path


def os_name(module):
    if platform.system() == "Darwin":
        rc, name, dummy = module.run_command(["sw_vers", "-productName"])
        rc2, version, dummy = module.run_command(["sw_vers", "-productVersion"])
        if rc == 0 and rc2 == 0:
            return "%s %s" % (name.strip(), version.strip())
    try:
        with open("/etc/os-release") as fh:
            fields = dict(line.rstrip("\n").split("=", 1) for line in fh if "=" in line)
        return fields.get("PRETTY_NAME", "").strip('"') or platform.platform()
    except (IOError, OSError):
        return platform.platform()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binaries=dict(type="list", elements="str", default=["docker", "git"]),
            check_become=dict(type="bool", default=False),
            check_compose=dict(type="bool", default=False),
            check_sleep=dict(type="bool", default=False),
            required=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    session_path = os.environ.get("PATH", "")
    path = remote_path(session_path)
    found, missing = find_binaries(module.params["binaries"], path)
    in_session, dummy = find_binaries(list(found), session_path)
    result = dict(
        changed=False,
        # Mitogen's strategy runs modules inside its own context on the host, where mitogen.core is loaded.
        runner="mitogen" if "mitogen.core" in sys.modules else "ansible",
        path=path,
        session_path=session_path,
        binaries=found,
        missing=missing,
        outside_session_path=sorted(n for n in found if n not in in_session),
        platform=dict(
            system=platform.system(),
            release=platform.release(),
            machine=platform.machine(),
            os=os_name(module),
            hostname=socket.gethostname(),
            python=platform.python_version(),
        ),
        user=dict(name=pwd.getpwuid(os.getuid()).pw_name, uid=os.getuid(), home=pwd.getpwuid(os.getuid()).pw_dir),
    )
    p = module.params
    findings = checks.binaries(path, missing)
    result.update(become_uid="", compose_version="", sleep_minutes="")
    if p["check_become"]:
        rc, out, err = module.run_command(["sudo", "-n", "id", "-u"])
        result["become_uid"] = out.strip()
        findings += checks.become(rc, err)
    if p["check_compose"] and "docker" in found:
        rc, out, err = module.run_command([found["docker"], "compose", "version", "--short"], environ_update={"PATH": path})
        result["compose_version"] = out.strip()
        findings += checks.compose(rc, err)
    if p["check_sleep"]:
        rc, out, err = module.run_command(["pmset", "-g"], environ_update={"PATH": path})
        minutes = checks.sleep_minutes(out) if rc == 0 else ""
        result["sleep_minutes"] = minutes
        fix_rc, fix_err = None, ""
        if rc == 0 and minutes not in ("", "0") and not module.check_mode:
            fix_rc, dummy, fix_err = module.run_command(["sudo", "-n"] + checks.PMSET_AWAKE, environ_update={"PATH": path})
            result["changed"] = fix_rc == 0
        if minutes not in ("", "0"):
            result["changed"] = result["changed"] or module.check_mode  # check mode: what apply would do
            result["diff"] = dict(before="sleep %s\n" % minutes, after="sleep 0\n", before_header="pmset -g")
        findings += checks.sleep(rc, err, minutes, module.check_mode, fix_rc, fix_err)
    result["findings"] = findings
    blocking = [f for f in findings if f["blocking"]]
    if blocking and p["required"]:
        module.fail_json(msg="%d problem(s) on the host" % len(blocking),
                         details=["%s: %s" % (f["trap"] or "host", f["problem"]) for f in blocking],
                         next_step="; ".join(f["next_step"] for f in blocking if f["next_step"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
