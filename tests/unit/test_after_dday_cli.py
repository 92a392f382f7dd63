"""The D+7 review's findings and `axe backup`'s arguments, without a host (pure): what a review reports becomes
findings with next steps, and a command given the wrong words says which and what to type."""
from __future__ import annotations

import pytest

from axe import cli
from axe.commands.check import d7_findings
from axe.errors import AxeError

NOW = "2026-11-29T12:00:00Z"
GOOD = {"health": {"cloudflared": 200, "frame": 200, "blueprint": 200, "hive": 200, "vault": 200},
        "backup": {"findings": [], "latest": {"id": "abcd1234"},
                   "last_verify": {"ok": True, "verified_at": "2026-11-29T03:30:00Z", "snapshot": "abcd1234"}},
        "audit": {"frame": {"entries": 5, "by_people": 3}}, "audit_errors": {"frame": ""}}


def test_a_customer_as_planned_has_no_finding():
    assert d7_findings("acme", GOOD, NOW) == []


def test_each_gap_is_a_finding_with_its_next_step():
    review = dict(GOOD, health=dict(GOOD["health"], hive=502),
                  backup={"findings": [{"problem": "the latest snapshot is 30.0 h old (stale past 26 h)",
                                        "next": "axe backup acme --now --apply"}], "latest": {"id": "x"},
                          "last_verify": {"ok": False, "error": "the restore does not match: frame"}},
                  audit={"frame": {"entries": 2, "by_people": 0}})
    found = {(f["area"], f["next"]) for f in d7_findings("acme", review, NOW)}
    assert found == {("health", "axe health acme shows where; axe deploy SERVICE acme --apply"),
                     ("backup", "axe backup acme --now --apply"), ("backup", "axe backup verify acme"),
                     ("audit", "ask the customer's admin whether staff set up the Frame connector (D+2), then "
                               "axe check d7 acme")}


def test_a_verify_older_than_the_week_and_a_missing_agent_are_findings():
    old = dict(GOOD, backup=dict(GOOD["backup"], last_verify={"ok": True, "verified_at": "2026-11-20T00:00:00Z"}))
    [finding] = d7_findings("acme", old, NOW)
    assert "over 7 days ago" in finding["problem"] and finding["next"] == "axe backup verify acme"
    gone = dict(GOOD, backup={}, backup_error="the backup agent is not installed on this host")
    [finding] = d7_findings("acme", gone, NOW)
    assert "not installed" in finding["problem"] and finding["next"] == "axe backup acme --now --apply"


def test_the_vault_organization_not_as_planned_is_a_finding():
    review = dict(GOOD, vault_org={"changes": ["create collection Shared Tools"]})
    [finding] = d7_findings("acme", review, NOW)
    assert finding == {"area": "vault", "problem": "the vault organization is not as planned: create collection "
                                                   "Shared Tools", "next": "axe vault org acme --apply"}


@pytest.mark.parametrize("argv, words", [
    (["backup", "status"], "no customer given"),
    (["backup", "restore", "acme"], "axe backup restore acme --service frame --apply"),
    (["backup", "acme", "--service", "frame"], "--service is for axe backup restore"),
    (["backup", "verify", "acme", "--apply"], "changes nothing"),
    (["backup", "verify", "--all"], "--all is for axe backup status"),
    (["backup", "acme", "beta"], "too many customers"),
    (["backup", "status", "acme", "--now"], "--now and --at set up backups"),
    (["backup", "acme", "--at", "7pm"], "--at '7pm' is not a time of day"),
])
def test_backup_arguments_that_cannot_work_are_named(argv, words):
    from axe.commands import backup
    args = cli.parser().parse_args(argv)
    with pytest.raises(AxeError, match=None) as caught:
        action, customer = backup._target(args)
        if args.at:
            backup._schedule(args.at)
    assert words in str(caught.value) + " " + (caught.value.next_step or "")
