#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_checkout
short_description: Check out a service's git repository at a ref, with its submodules, on the host
version_added: 0.1.0
description:
  - The deploy's clone step. Resolves O(ref) (a tag, a branch or a commit) on the remote with one C(git ls-remote)
    and fetches only when the checkout is not already at that commit with its submodules in place.
  - Files the deploy writes into the checkout are untracked and survive; tracked files changed on the host stop the
    step (they would be lost), naming them.
  - Fails when one of O(require) is missing from the checked-out tree (a repository without its Dockerfile).
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
options:
  repo:
    description: The repository URL, as the host reaches it.
    type: str
    required: true
  ref:
    description: A tag, a branch or a full commit id.
    type: str
    required: true
  dest:
    description: The checkout directory.
    type: path
    required: true
  submodules:
    description: Initialise and update submodules, recursively.
    type: bool
    default: true
  require:
    description: Paths (relative to O(dest)) that must exist in the tree, e.g. C(Dockerfile).
    type: list
    elements: str
    default: [Dockerfile]
"""

EXAMPLES = r"""
- name: Clone frame at v2
  axelabs.onboard.service_checkout:
    repo: git@github.com:axelabs/frame.git
    ref: v2
    dest: /Users/axe/.axe/services/frame
    require: [Dockerfile, compose.yaml]
"""

RETURN = r"""
commit:
  description: The commit the checkout is (or, in check mode, would be) at.
  returned: success
  type: str
  sample: 6ad65645b55c0cd169a974ff0ba7f1b40cfcdf39
before:
  description: The commit before the call; empty for a first clone.
  returned: success
  type: str
commands:
  description: The commands run on the host, with exit code and seconds.
  returned: always
  type: list
  elements: dict
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import ServiceHost
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


def resolve(host, repo, ref):
    if FULL_SHA.match(ref):
        return ref
    rc, out, err = host.run(cc.git_ls_remote(repo, ref), check=False)
    if rc != 0:
        raise ProductError("cannot reach %s: %s" % (repo, (err or out).strip()[-400:]),
                           next_step="check the host can reach the repository (deploy key, network) and run again")
    commit = cc.parse_ls_remote(out, ref)
    if not commit:
        raise ProductError("ref %r is not in %s" % (ref, repo),
                           next_step="pick an existing tag or branch with --ref (git ls-remote %s)" % repo)
    return commit


def submodules_in_place(host, dest):
    rc, out, dummy = host.run(cc.git_submodule_status(dest), check=False)
    # '-' not initialised, '+' at another commit, 'U' conflicts: anything but ' ' needs an update.
    return rc == 0 and all(line[:1] == " " for line in out.splitlines() if line)


def main():
    module = AnsibleModule(
        argument_spec=dict(repo=dict(type="str", required=True), ref=dict(type="str", required=True),
                           dest=dict(type="path", required=True), submodules=dict(type="bool", default=True),
                           require=dict(type="list", elements="str", default=["Dockerfile"])),
        supports_check_mode=True,
    )
    p = module.params
    dest = p["dest"]
    host = ServiceHost(module, dest)
    try:
        commit = resolve(host, p["repo"], p["ref"])
        cloned = os.path.isdir(os.path.join(dest, ".git"))
        before = ""
        if cloned:
            rc, out, dummy = host.run(cc.git_head(dest), check=False)
            before = out.strip() if rc == 0 else ""
            rc, out, dummy = host.run(cc.git_dirty(dest), check=False)
            if out.strip():
                raise ProductError("tracked files were changed on the host in %s:\n%s" % (dest, out.rstrip()),
                                   next_step="keep what you need elsewhere, then `git -C %s checkout -- .` and run again" % dest)
        in_place = before == commit and (not p["submodules"] or submodules_in_place(host, dest))
        changed = not in_place
        if changed and not module.check_mode:
            if not cloned:
                parent = os.path.dirname(dest)
                if not os.path.isdir(parent):
                    os.makedirs(parent, 0o755)
                host.run(cc.git_clone(p["repo"], dest), what="git clone %s" % p["repo"])
            if before != commit:
                # A clone follows only the branches' tags; a ref off every branch needs --tags.
                host.run(cc.git_fetch(dest), what="git fetch")
            host.run(cc.git_checkout(dest, commit), what="git checkout %s" % p["ref"])
            if p["submodules"]:
                host.run(cc.git_submodules(dest), what="git submodule update")
        if not module.check_mode or in_place:
            missing = [r for r in p["require"] if not os.path.exists(os.path.join(dest, r))]
            if missing:
                raise ProductError("%s at %s has no %s" % (p["repo"], p["ref"], ", ".join(missing)),
                                   next_step="deploy a ref that has them (this one cannot be built)")
    except ProductError as exc:
        fail(module, exc, commands=host.commands)
    module.exit_json(changed=changed, commit=commit, before=before, commands=host.commands,
                     diff=dict(before="commit: %s\n" % (before or "(none)"), after="commit: %s (%s)\n" % (commit, p["ref"])))


if __name__ == "__main__":
    main()
