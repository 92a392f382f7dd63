"""Make the collection's module_utils importable in the wrapper (one loader, one vault client)."""
from __future__ import annotations

import sys

from .runner import collections_path
from .settings import Settings


def importable(settings: Settings) -> None:
    path = collections_path(settings)
    if path and path not in sys.path:
        sys.path.insert(0, path)



def definitions(settings: Settings) -> list[dict]:
    """The service catalogue: every service's definition as its role declares it, in the D-day's order
    (module_utils/catalogue.py). The wrapper never lists services itself."""
    importable(settings)
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue
    return catalogue.load()


def services(settings: Settings) -> list[str]:
    """The services the collection deploys, in the D-day's order."""
    return [d["name"] for d in definitions(settings)]


def known_service(settings: Settings, service: str, next_step: str) -> dict:
    """`service`'s definition when the catalogue has it; else an error naming the services there are."""
    by_name = {d["name"]: d for d in definitions(settings)}
    if service not in by_name:
        from .errors import AxeError
        raise AxeError(f"no service {service!r} in the collection (its services: {', '.join(by_name)})", next_step)
    return by_name[service]


def public_links(catalogue: list[dict]) -> list[dict]:
    """What the reply to customer IT lists: each service's public_link, in the catalogue's order."""
    return [d["public_link"] for d in catalogue if d.get("public_link")]
