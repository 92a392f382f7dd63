# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where binaries live on a customer's Mac mini (trap T07), shared by every module that runs one.

A non-login SSH session on macOS gets PATH=/usr/bin:/bin:/usr/sbin:/sbin. Homebrew (and Docker
Desktop's CLI links) live under /opt/homebrew/bin on Apple silicon and /usr/local/bin on Intel,
so `docker`, `bw`, `git-lfs` and `cloudflared` are "command not found" unless the PATH is
extended. Every remote task runs with the PATH built here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

HOMEBREW_PREFIXES = ("/opt/homebrew/bin", "/opt/homebrew/sbin", "/usr/local/bin", "/usr/local/sbin")
SYSTEM_PATH = ("/usr/bin", "/bin", "/usr/sbin", "/sbin")


def remote_path(current=None):
    """Homebrew prefixes first, then what the session had, then the system dirs; no repeats."""
    parts = list(HOMEBREW_PREFIXES)
    parts += (current or "").split(os.pathsep)
    parts += list(SYSTEM_PATH)
    seen = []
    for part in parts:
        if part and part not in seen:
            seen.append(part)
    return os.pathsep.join(seen)


def find_binaries(names, path, is_executable=None):
    """Map each name to its full path on `path`; the names not found are listed separately."""
    check = is_executable or (lambda p: os.path.isfile(p) and os.access(p, os.X_OK))
    found, missing = {}, []
    for name in names:
        for directory in path.split(os.pathsep):
            candidate = os.path.join(directory, name)
            if check(candidate):
                found[name] = candidate
                break
        else:
            missing.append(name)
    return found, missing
