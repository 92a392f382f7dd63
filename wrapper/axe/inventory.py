"""The inventory the wrapper hands to ansible-runner: one host per customer.

The host is the customer's Mac mini, named `{customer}-macmini` by the runbook's convention and
reached through the operator's SSH config (AXE_SSH_CONFIG), which knows its address, user, key
and host key. Python on a Mac is /usr/bin/python3 (Command Line Tools): naming it saves the
interpreter-discovery round trip.
"""
from __future__ import annotations

import re

from .errors import AxeError
from .settings import Settings

CUSTOMER_ID = re.compile(r"^[a-z][a-z0-9-]{1,30}$")  # trap T25


def check_customer_id(customer: str) -> str:
    if not CUSTOMER_ID.fullmatch(customer):
        raise AxeError(f"T25: {customer!r} is not a customer id (lowercase letter, then 2-31 of a-z 0-9 -)",
                       "use the id from customers.yaml, e.g. `acme`")
    return customer


def for_customers(settings: Settings, customers: list[str]) -> dict:
    hosts = {}
    for customer in customers:
        check_customer_id(customer)
        hosts[customer] = {
            "ansible_host": f"{customer}-macmini",
            "axe_customer": customer,
        }
    group_vars = {"ansible_python_interpreter": "/usr/bin/python3"}
    if settings.ssh_config:
        group_vars["ansible_ssh_common_args"] = f"-F {settings.ssh_config}"
    return {"all": {"children": {"customers": {"hosts": hosts, "vars": group_vars}}}}
