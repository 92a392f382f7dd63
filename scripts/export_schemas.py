#!/usr/bin/env python3
"""Write schemas/*.schema.json from plugins/module_utils/schemas.py (the source of truth).

    .venv/bin/python scripts/export_schemas.py          # write
    .venv/bin/python scripts/export_schemas.py --check  # exit 1 when a file is out of date
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".collections"))
from ansible_collections.axelabs.onboard.plugins.module_utils import schemas  # noqa: E402

FILES = {"customers.schema.json": schemas.CUSTOMERS_SCHEMA, "axelabs-bootstrap-v1.schema.json": schemas.PACK_SCHEMA}


def rendered(schema):
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(check=False):
    stale = []
    for name, schema in FILES.items():
        path = ROOT / "schemas" / name
        if path.exists() and path.read_text() == rendered(schema):
            continue
        stale.append(name)
        if not check:
            path.parent.mkdir(exist_ok=True)
            path.write_text(rendered(schema))
    if check and stale:
        print("out of date: " + ", ".join(stale) + " (run scripts/export_schemas.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
