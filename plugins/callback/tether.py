# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tether
type: aggregate
short_description: End the run when the program that started it is gone
version_added: 0.1.0
description:
  - Started through ansible-runner (as C(axe) starts every run), C(ansible-playbook) runs in a session of its own
    and ignores SIGHUP, so it would outlive a wrapper killed with SIGKILL and go on changing a customer's host
    with nobody watching, holding its deploy lock.
  - This callback watches the process that started the run. When that process is gone, it sends the run
    SIGTERM, which C(ansible-playbook) passes to its workers (each ends its own process group, its SSH
    connection included), so the run stops as it does after Ctrl-C. A run that has not ended 10 seconds later
    is killed.
  - Enabled by C(axe) (ANSIBLE_CALLBACKS_ENABLED); it has no options and prints nothing.
author:
  - AXE Labs (@axelabs)
"""

import os
import signal
import threading
import time

from ansible.plugins.callback import CallbackBase

POLL_SECONDS = 0.5
GRACE_SECONDS = 10


def _watch(parent):
    # Runs as long as the run does (a daemon thread); each look is one getppid().
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)


class CallbackModule(CallbackBase):

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "axelabs.onboard.tether"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        # Loaded once, in the main process, before any worker forks (a thread is not copied into a fork).
        threading.Thread(target=_watch, args=(os.getppid(),), name="axe-tether", daemon=True).start()
