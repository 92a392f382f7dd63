"""Make the collection's module_utils importable in the wrapper (one loader, one vault client)."""
from __future__ import annotations

import sys

from .runner import collections_path
from .settings import Settings


def importable(settings: Settings) -> None:
    path = collections_path(settings)
    if path and path not in sys.path:
        sys.path.insert(0, path)


def services(settings: Settings) -> list[str]:
    """The services the collection deploys, in the D-day's order: its service catalogue (the service roles'
    data, module_utils/catalogue.py). The wrapper never lists services itself."""
    importable(settings)
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue
    return catalogue.names(catalogue.load())


def known_service(settings: Settings, service: str, next_step: str) -> dict:
    """`service`'s definition when the catalogue has it; else an error naming the services there are."""
    importable(settings)
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue
    definitions = {d["name"]: d for d in catalogue.load()}
    if service not in definitions:
        from .errors import AxeError
        raise AxeError(f"no service {service!r} in the collection (its services: {', '.join(definitions)})", next_step)
    return definitions[service]


def public_links(settings: Settings) -> list[dict]:
    """What the reply to customer IT lists: each service's public_link, in the catalogue's order."""
    importable(settings)
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue
    return [d["public_link"] for d in catalogue.load() if d.get("public_link")]
