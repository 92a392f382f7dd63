#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_probe
short_description: Read a customer host's platform and find the binaries the stack needs
version_added: 0.1.0
description:
  - Reports the host's platform (system, release, machine, distribution or macOS version).
  - Finds each named binary on the session PATH extended with the Homebrew prefixes, because a
    non-login SSH session on macOS lacks C(/opt/homebrew/bin) (trap T07), and returns that PATH
    so later tasks can run with it.
  - Reads only; never changes the host.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.INFO_MODULE
options:
  binaries:
    description:
      - Names of the binaries to find.
    type: list
    elements: str
    default: [docker, git]
  required:
    description:
      - Fail, naming every missing binary at once, when any of O(binaries) is not found.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Find docker and git on the Mac mini, Homebrew prefixes included
  axelabs.onboard.host_probe:
    binaries: [docker, git, git-lfs]
  register: probe

- name: Run docker with the PATH the probe found
  ansible.builtin.command: docker compose version --short
  environment:
    PATH: "{{ probe.path }}"
  changed_when: false
"""

RETURN = r"""
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

from ansible.module_utils.basic import AnsibleModule
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
            required=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    session_path = os.environ.get("PATH", "")
    path = remote_path(session_path)
    found, missing = find_binaries(module.params["binaries"], path)
    in_session, dummy = find_binaries(list(found), session_path)
    result = dict(
        changed=False,
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
    if missing and module.params["required"]:
        module.fail_json(
            msg="T07: not found on %s: %s. Install them on the host (brew install ...) or add their "
                "directory to the Homebrew prefixes." % (path, ", ".join(missing)),
            **result
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
