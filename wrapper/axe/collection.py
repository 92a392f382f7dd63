"""Make the collection's module_utils importable in the wrapper (one loader, one vault client)."""
from __future__ import annotations

import sys

from .runner import collections_path
from .settings import Settings


def importable(settings: Settings) -> None:
    path = collections_path(settings)
    if path and path not in sys.path:
        sys.path.insert(0, path)
