#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_health
short_description: Wait for a service's health endpoint on the host, and show its logs when it never answers
version_added: 0.1.0
description:
  - Polls O(url) from the host itself (one SSH round trip for the whole wait) every O(interval) seconds until it
    answers O(status), for at most O(timeout) seconds.
  - On failure the result carries the last answer and the last O(log_lines) lines of O(container)'s log, and the
    message names the next step. Changes nothing, so it runs in check mode too (on what is live).
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.INFO_MODULE
options:
  url:
    description: The health URL, as the host reaches it (e.g. C(http://127.0.0.1:18091/health/ready)).
    type: str
    required: true
  status:
    description: The HTTP status that means healthy.
    type: int
    default: 200
  timeout:
    description: Seconds to wait at most.
    type: float
    default: 60
  interval:
    description: Seconds between attempts.
    type: float
    default: 0.5
  container:
    description: The container whose log to show on failure.
    type: str
  log_lines:
    description: How many log lines to show on failure.
    type: int
    default: 20
  what:
    description: What is being checked, for the message (e.g. C(frame v2 in green)).
    type: str
    default: the service
  next_step:
    description: What the operator should do when it fails (the message says it).
    type: str
    default: fix the cause shown in the log and deploy again
"""

EXAMPLES = r"""
- name: Wait for the staged colour
  axelabs.onboard.service_health:
    url: http://127.0.0.1:18091/health/ready
    container: frame-mcp-green
    timeout: 60
"""

RETURN = r"""
attempts:
  description: How many requests were made.
  returned: always
  type: int
seconds:
  description: How long the wait took.
  returned: always
  type: float
body:
  description: The last answer's body (first 2000 characters).
  returned: always
  type: str
log:
  description: The container's last log lines (on failure).
  returned: failure
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import ServiceHost, http_probe


def running(host, container):
    found = host.containers([container]).get(container)
    # "restarting" means it has exited at least once (a restart policy brings it back): it crashed.
    return bool(found) and found["status"] in ("running", "created")


def collapse(lines):
    """A health loop logs the same line each attempt: show it once, with a count."""
    out = []
    for line in lines:
        if out and out[-1][0] == line:
            out[-1][1] += 1
        else:
            out.append([line, 1])
    return [line if n == 1 else "%s  (x%d)" % (line, n) for line, n in out]


def main():
    module = AnsibleModule(
        argument_spec=dict(url=dict(type="str", required=True), status=dict(type="int", default=200),
                           timeout=dict(type="float", default=60), interval=dict(type="float", default=0.5),
                           container=dict(type="str"), log_lines=dict(type="int", default=20),
                           what=dict(type="str", default="the service"),
                           next_step=dict(type="str", default="fix the cause shown in the log and deploy again")),
        supports_check_mode=True,
    )
    p = module.params
    started = time.time()
    deadline = started + p["timeout"]
    attempts, status, body, refused = 0, 0, "", 0
    host = ServiceHost(module)
    while True:
        attempts += 1
        status, body = http_probe(p["url"], max(1.0, min(5.0, deadline - time.time())))
        if status == p["status"] or time.time() + p["interval"] > deadline:
            break
        refused = refused + 1 if status == 0 else 0
        # Nothing listening for a while: a container that exited will not become healthy; stop waiting.
        if p["container"] and refused and refused % 10 == 0 and not running(host, p["container"]):
            body = "%s is not running" % p["container"]
            break
        time.sleep(p["interval"])
    seconds = round(time.time() - started, 2)
    if status == p["status"]:
        module.exit_json(changed=False, attempts=attempts, seconds=seconds, body=body)
    log = host.logs(p["container"], p["log_lines"]) if p["container"] else []
    excerpt = "".join("\n    | %s" % line for line in collapse(log))
    module.fail_json(msg="%s is not healthy after %ss (%d attempts): %s answered %s %s%s\n  next: %s"
                     % (p["what"], seconds, attempts, p["url"], status or "nothing", body.strip()[:300],
                        ("\n  last log lines of %s:%s" % (p["container"], excerpt)) if log else "", p["next_step"]),
                     attempts=attempts, seconds=seconds, body=body, log=log)


if __name__ == "__main__":
    main()
