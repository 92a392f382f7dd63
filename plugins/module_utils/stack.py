# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two verdicts on a customer's stack, shared by `axe health`, stack_health and edge_health: are a
service's containers up, and what does its public URL answer from outside. Which services, containers and
URLs there are is the service catalogue's (module_utils/catalogue.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def container_verdict(states, entry):
    """ok when every fixed container runs and, for blue/green services, at least one colour does."""
    fixed = [states.get(name) for name in entry.get("containers", [])]
    colours = [states.get(name) for name in entry.get("colours", [])]
    if any(state != "running" for state in fixed):
        return False
    return not entry.get("colours") or any(state == "running" for state in colours)


def outside_answer(base, domain, path, timeout=10):
    """(status, first 300 characters of the body) of https://{domain}{path} as an employee gets it; (0, why)
    when nothing answers.

    `base`: where requests for the public name go (the lab's edge); empty means the name itself. The
    Host header is always the public name. Proxies are never used: the request goes where it is sent.
    """
    from urllib.error import HTTPError, URLError
    from urllib.request import ProxyHandler, Request, build_opener
    request = Request((base or "https://%s" % domain).rstrip("/") + path, headers={"Host": domain})
    try:
        response = build_opener(ProxyHandler({})).open(request, timeout=timeout)
        try:
            return response.status, response.read(300).decode("utf-8", "replace")
        finally:
            response.close()
    except HTTPError as exc:
        return exc.code, (exc.read(300) or b"").decode("utf-8", "replace")
    except (URLError, OSError) as exc:
        return 0, str(getattr(exc, "reason", exc))


def outside_status(base, domain, path, timeout=10):
    """The HTTP status of https://{domain}{path} as an employee gets it; 0 when nothing answers."""
    return outside_answer(base, domain, path, timeout)[0]
