# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What runs on a customer's Mac mini, service by service, and where each answers: on the host (the
127.0.0.1 port cloudflared's ingress points at) and from outside (a path of https://{public_domain}).
One table for `axe health` and the stack_health module, so the two never disagree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

STACK = (
    {"service": "cloudflared", "containers": [], "local_url": None, "external_path": "/cdn-cgi/trace"},
    {"service": "frame", "containers": ["axe-frame-proxy", "frame-postgres"], "colours": ["frame-mcp-blue", "frame-mcp-green"],
     "local_url": "http://127.0.0.1:18080/frame/health/ready", "external_path": "/frame/health/ready"},
    {"service": "blueprint", "containers": ["axe-blueprint-proxy"], "colours": ["blueprint-app"],
     "local_url": "http://127.0.0.1:18083/health/ready", "external_path": "/health/ready"},
    {"service": "hive", "containers": ["axe-hive-proxy"], "colours": ["hive-mcp-blue", "hive-mcp-green"],
     "local_url": "http://127.0.0.1:18081/hive/health/ready", "external_path": "/hive/health/ready"},
    {"service": "vault", "containers": ["axe-vaultwarden"], "colours": [],
     "local_url": "http://127.0.0.1:18082/vault/alive", "external_path": "/vault/alive"},
)


def services():
    return [s["service"] for s in STACK]


def container_verdict(states, entry):
    """ok when every fixed container runs and, for blue/green services, at least one colour does."""
    fixed = [states.get(name) for name in entry.get("containers", [])]
    colours = [states.get(name) for name in entry.get("colours", [])]
    if any(state != "running" for state in fixed):
        return False
    return not entry.get("colours") or any(state == "running" for state in colours)


def outside_status(base, domain, path, timeout=10):
    """The HTTP status of https://{domain}{path} as an employee gets it; 0 when nothing answers.

    `base`: where requests for the public name go (the lab's edge); empty means the name itself. The
    Host header is always the public name. Proxies are never used: the request goes where it is sent.
    """
    try:
        from urllib.error import HTTPError, URLError
        from urllib.request import ProxyHandler, Request, build_opener
    except ImportError:  # pragma: no cover - Python 2 is not supported on the controller
        return 0
    request = Request((base or "https://%s" % domain).rstrip("/") + path, headers={"Host": domain})
    try:
        response = build_opener(ProxyHandler({})).open(request, timeout=timeout)
        try:
            return response.status
        finally:
            response.close()
    except HTTPError as exc:
        return exc.code
    except (URLError, OSError):
        return 0
