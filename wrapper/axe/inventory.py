"""The inventory the wrapper hands to ansible-runner: one host per customer.

The host is the customer's Mac mini, named `{customer}-macmini` by the runbook's convention and
reached through the operator's SSH config (AXE_SSH_CONFIG), which knows its address, user, key
and host key. Python on a Mac is /usr/bin/python3 (Command Line Tools): naming it saves the
interpreter-discovery round trip.
"""
from __future__ import annotations

import json
import re

from .errors import AxeError
from .settings import Settings

CUSTOMER_ID = re.compile(r"^[a-z][a-z0-9-]{1,30}$")  # trap T25


def check_customer_id(customer: str) -> str:
    if not CUSTOMER_ID.fullmatch(customer):
        raise AxeError(f"T25: {customer!r} is not a customer id (lowercase letter, then 2-31 of a-z 0-9 -)",
                       "use the id from customers.yaml, e.g. `acme`")
    return customer


def for_customers(settings: Settings, customers: list[str]) -> dict | str:
    """The customers inventory plugin's source when customers.yaml knows every customer (hosts then
    resolve through Tailscale, T05/T06); else, as before any registry exists (the lab's first
    `axe ping`), one host per customer by the runbook's naming convention."""
    for customer in customers:
        check_customer_id(customer)
    if settings.customers_file.is_file():
        from . import collection
        collection.importable(settings)
        from ansible_collections.axelabs.onboard.plugins.module_utils.customers_file import CustomersFile
        known = CustomersFile(str(settings.customers_file)).load(readonly=True).customers  # a ProductError is the CLI's to show
        if all(c in known for c in customers):
            source = settings.state_dir / "inventory" / f"{'-'.join(customers)[:80]}.customers.yml"
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_text("plugin: axelabs.onboard.customers\nonly: " + json.dumps(customers) + "\n")
            return str(source)
    return by_convention(settings, customers)


def for_registered_customer(settings: Settings, customer: str) -> str:
    """The inventory source for a command that needs the customer's entry in customers.yaml (T01)."""
    source = for_customers(settings, [customer])
    if not isinstance(source, str):
        raise AxeError(f"T01: {customer} is not in {settings.customers_file}",
                       f"axe customers add {customer} --legal-name NAME --primary-domain DOMAIN --entity ID --apply")
    return source


def by_convention(settings: Settings, customers: list[str]) -> dict:
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
