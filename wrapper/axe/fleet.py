"""The customers a fleet command is about (`axe health`, `axe status`, `axe rollout`): named ones or --all, from
customers.yaml, each with whether the product manages its services (a sovereignty customer, T24, runs its own)."""
from __future__ import annotations

from . import collection, inventory
from .errors import AxeError
from .settings import Settings


def registry(settings: Settings):
    if not settings.customers_file.is_file():
        raise AxeError(f"no customers file at {settings.customers_file}",
                       "axe customers add CUSTOMER --legal-name NAME --primary-domain DOMAIN --entity ID --apply, "
                       "or point AXE_CUSTOMERS_FILE at yours")
    collection.importable(settings)
    from ansible_collections.axelabs.onboard.plugins.module_utils.customers_file import CustomersFile
    return CustomersFile(str(settings.customers_file)).load(readonly=True)  # a ProductError is the CLI's to show


def select(settings: Settings, names: list[str], every: bool, usage: str) -> dict[str, dict]:
    """{customer: {"public_domain", "managed", "wanted"}} in customers.yaml's order for --all, else as given.
    `usage`: the command's own form, shown when no customer is given."""
    found = registry(settings)
    chosen = list(found.customers) if every else list(dict.fromkeys(names))
    if not chosen:
        raise AxeError("no customer given", usage)
    out = {}
    for name in chosen:
        inventory.check_customer_id(name)
        if name not in found.customers:
            raise AxeError(f"T01: {name} is not in {settings.customers_file}",
                           f"axe customers add {name} --legal-name NAME --primary-domain DOMAIN --entity ID --apply")
        out[name] = {"public_domain": found.customers[name]["public_domain"], "managed": bool(found.manifest(name)),
                     "wanted": found.wanted_refs(name)}
    return out
