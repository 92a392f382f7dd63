# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that act on a deployed service's compose project on the host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  project_dir:
    description:
      - The service's directory on the host - its git checkout, and the compose project directory.
      - The deploy's own files live beside the tracked ones, untracked - C(.env) (image tags), C(.env.local)
        (secrets, mode 0600) and C(.axe/) (release state, proxy upstream).
    type: path
    required: true
  compose_file:
    description: The compose file, relative to O(project_dir).
    type: str
    default: compose.yaml
notes:
  - Commands run with the Homebrew prefixes first on PATH (trap T07), so C(docker) and C(git) are found from a
    non-login SSH session on a Mac.
  - Compose never touches a service it is not told to (C(--no-deps)), and pulls nothing but a published image a
    module is told to fetch when missing (M(axelabs.onboard.compose_up)); images built on the host are never pulled.
"""
