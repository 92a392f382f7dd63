"""A fresh lab can run D-day at once: `axe lab up` writes an entry per lab host into the lab's own
customers.yaml and points its settings file at it; `axe lab env` does not export it (the environment, as
tests and scripts set it, wins), and an existing entry is never touched."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab


def test_the_lab_registry_has_an_entry_per_host_and_keeps_edits(lab):
    lab.host("acme")
    from axe_lab import customers
    path = customers.path(lab.lab)
    text = path.read_text()
    assert "acme:" in text and 'public_domain: "acme.axelabs.ai"' in text and 'tailscale_host: "acme-macmini"' in text
    config = Path(os.environ["AXE_CONFIG"]).read_text()
    assert f"AXE_CUSTOMERS_FILE={path}" in config
    assert "AXE_CUSTOMERS_FILE" not in lab.axe("lab", "env").stdout
    path.write_text(text.replace("ACME Co., Ltd. (lab)", "ACME Korea (edited)"))
    customers.ensure(lab.lab, ["acme", "zeta"])
    again = path.read_text()
    assert "ACME Korea (edited)" in again and "zeta:" in again
    customers.ensure(lab.lab, ["acme", "zeta"])
    assert path.read_text() == again
    run = lab.axe("customers", "add", "acme", "--json", drop=("AXE_CUSTOMERS_FILE",))
    assert run.returncode == 0, run.stdout + run.stderr  # axe itself reads the lab's registry by default
    path.write_text(text)
