#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: redacted_template
short_description: Template a file to the host, with secret-named settings masked in the diff
version_added: 0.1.0
description:
  - M(ansible.builtin.template), unchanged in what it writes, whose diff shows the values of secret-named settings
    (names containing C(SECRET), C(PASSWORD), C(PASSPHRASE), C(TOKEN), C(PRIVATE_KEY), C(API_KEY), C(ACCESS_KEY)) as
    C(<redacted>) on both sides.
  - For configuration files the product owns but an operator may once have written by hand - a Vaultwarden compose
    file with its SSO client secret inline - so that replacing them shows which lines go without printing what they
    held. Files that are all secrets (C(.env.local)) still take O(ignore:diff=false) and O(ignore:no_log=true).
  - Takes every option of M(ansible.builtin.template); the common ones are listed here.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
attributes:
  action:
    support: full
    description: Runs on the controller as an action plugin (M(ansible.builtin.template)'s).
options:
  src:
    description: The Jinja2 template, looked up as M(ansible.builtin.template) does.
    type: path
    required: true
  dest:
    description: The file on the host.
    type: path
    required: true
  mode:
    description: The file's mode.
    type: raw
  backup:
    description: Keep the previous file beside it when it is replaced.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Write docker-compose.yml (a hand-written one may hold a secret inline - its diff masks it)
  axelabs.onboard.redacted_template:
    src: docker-compose.yml.j2
    dest: ~/.axe/vault/docker-compose.yml
    mode: "0644"
    backup: true
"""

RETURN = r"""
backup_file:
  description: The previous file's copy, when O(backup) and it was replaced.
  returned: changed and backup
  type: str
"""
