# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one atomic file write, wherever the product writes a file someone reads (customers.yaml, a host's
release state and proxy config, the deploy lock's details, the reply to customer IT): a reader sees the old
file or the new one, never half of one, and a writer killed mid-way leaves only a temp file the next writer
sweeps. Runs on the controller and on hosts (standard library only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import io
import os
import re


def temp_name(path, pid=None):
    """`.NAME.PID.tmp` beside `path`: whose it is stays readable, so a dead writer's is recognised."""
    return os.path.join(os.path.dirname(path) or ".", ".%s.%d.tmp" % (os.path.basename(path), pid or os.getpid()))


def sweep_dead_temps(path, alive):
    """Remove the temp files of writers of `path` that are gone (`alive(pid)` is False): never the file itself,
    never a live writer's."""
    directory, name = os.path.dirname(path) or ".", os.path.basename(path)
    pattern = re.compile(r"^\.%s\.(\d+)\.tmp$" % re.escape(name))
    for entry in os.listdir(directory):
        found = pattern.match(entry)
        if not found or int(found.group(1)) == os.getpid() or alive(int(found.group(1))):
            continue
        try:
            os.unlink(os.path.join(directory, entry))
        except OSError:
            pass


def write(path, text, mode=None):
    """Write `text` (UTF-8) to `path` atomically: a temp file beside it, flushed to disk, given the file's mode
    (the existing file's when `mode` is None, else 0644), renamed over it. The temp file never outlives a failure."""
    tmp = temp_name(path)
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
            mode = 0o644
    try:
        with io.open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
