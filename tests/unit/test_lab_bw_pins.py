"""The lab's Bitwarden CLI pins: each version the lab installs has its package lock, the lock pins exactly that
version of @bitwarden/cli, and the pinned one is the product's (the pin its T18 error names)."""
from __future__ import annotations

import json

from axe import vault_session
from axe_lab import operator_bw


def test_each_installed_version_has_a_lock_that_pins_it():
    for version in operator_bw.VERSIONS:
        pins = operator_bw.PINS / version
        assert json.loads((pins / "package.json").read_text())["dependencies"] == {"@bitwarden/cli": version}
        lock = json.loads((pins / "package-lock.json").read_text())
        cli = lock["packages"]["node_modules/@bitwarden/cli"]
        assert cli["version"] == version and cli["integrity"].startswith("sha512-")


def test_the_lab_operator_runs_the_products_pin_and_the_current_release_is_refused_by_t18():
    assert operator_bw.PINNED == vault_session.BW_PIN
    low, high = vault_session.KNOWN_BAD_BW
    as_tuple = tuple(int(x) for x in operator_bw.CURRENT.split("."))
    pinned = tuple(int(x) for x in operator_bw.PINNED.split("."))
    assert low <= as_tuple and (high is None or as_tuple < high)
    assert not (low <= pinned)
