"""The whole D-day's bookkeeping without a host: the plan per step, the Ship Log line, the IT reply, and the
controller's half of the trap preflight (its Cloudflare client faked below the checks' own logic)."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from axe import shipped
from axe.commands import dday
from axe.runner import HostResult, RunResult
from ansible_collections.axelabs.onboard.plugins.module_utils import trap_checks
from ansible_collections.axelabs.onboard.plugins.module_utils.cloudflare import OWNER_COMMENT, CloudflareError

ENTRY = {"legal_name": "ACME Korea Co., Ltd.", "public_domain": "acme.axelabs.ai"}
HEALTH = {"frame": 200, "blueprint": 200, "hive": 200, "vault": 200}
DEPLOYS = {"frame": {"service": "frame", "ref": "v1", "commit": "dfc12efd98e5aa"},
           "blueprint": {"service": "blueprint", "ref": "v1", "commit": "3dea6ceca451bb"},
           "hive": {"service": "hive", "ref": "v2", "commit": "4b93f7a397a2cc"},
           "vault": {"service": "vault", "image": "docker.io/vaultwarden/server:1.36.0"}}


SERVICES = ["frame", "blueprint", "hive", "vault"]
ALL_STEPS = dday.steps(SERVICES)


def result(changes=(), failures=(), stats=None, status="changed", steps=ALL_STEPS, interrupted=0, rc=None):
    return RunResult(playbook="axelabs.onboard.onboard", rc=(1 if failures else 0) if rc is None else rc,
                     status="failed" if failures else "successful",
                     artifact_dir=Path("/tmp/run"), seconds=1.0, hosts={"acme": HostResult(changed=1)},
                     stats={"acme": stats or {}}, changes=list(changes), failures=list(failures), steps=list(steps),
                     interrupted=interrupted)


def test_the_d_day_s_steps_are_the_catalogue_s_services_then_the_backups_between_the_tunnel_and_the_proof():
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue
    assert dday.steps(catalogue.names(catalogue.load())) == ["ingest", "preflight", "cloudflared", "frame", "blueprint",
                                                             "hive", "vault", "backup", "health"]


def test_every_play_of_the_umbrella_publishes_its_step_first():
    """The plan attributes each task to the step its play published (set_stats axe_step), never to play names."""
    import yaml
    root = Path(__file__).resolve().parents[2] / "playbooks"
    published = []
    for name in ("onboard.yml", "tunnel.yml"):
        for play in yaml.safe_load((root / name).read_text()):
            if "tasks" in play:
                first = play["tasks"][0]
                published.append(first.get("ansible.builtin.set_stats", {}).get("data", {}).get("axe_step")
                                 or first.get("ansible.builtin.include_tasks"))
    # onboard.yml's five plays, then tunnel.yml's (step 3, imported by onboard.yml)
    assert published == ["ingest", "preflight", "tasks/deploy_service.yml", "backup", "health", "cloudflared"]
    [marker] = [t for t in yaml.safe_load((root / "tasks" / "deploy_service.yml").read_text())[:1]]
    assert marker["ansible.builtin.set_stats"]["data"]["axe_step"] == "{{ axe_service }}"


def test_the_plan_groups_changes_by_step_and_says_what_waits_for_the_ingest():
    plan = result(changes=[("ingest", "controller", "Ingest the pack"),
                           ("frame", "acme", "Compose up"),
                           ("frame", "acme", "Compose up")],
                  stats={"ingest": {"file_changed": True, "vault_items": [{"env": "AZURE_ACME_X", "action": "create"}]},
                         "preflight": {"findings": [{"trap": "T04", "problem": "the Mac mini sleeps after 1 min; apply sets sleep 0"}]},
                         "deploys": {"frame": {"service": "frame", "ref": "v1", "commit": "abc", "action": "release",
                                               "slot": "blue", "reason": "first release"}},
                         "health": {"frame": 530, "vault": 200}})
    rows = {step: (outcome, what) for step, outcome, what in dday.step_report(plan, "acme", True, SERVICES)}
    assert rows["ingest"][0] == "would change" and "AZURE_ACME_X: create" in rows["ingest"][1]
    assert rows["preflight"] == ("no change", "T04: the Mac mini sleeps after 1 min; apply sets sleep 0\n"
                                 "planned with the pack's values, as customers.yaml and the vault will hold them after step 1")
    assert rows["frame"][0] == "would change"
    assert rows["frame"][1].count("Compose up") == 1 and "-> blue: first release" in rows["frame"][1]
    assert rows["hive"][0] == "no change"
    assert rows["health"][1].startswith("frame 530, vault 200")


def test_a_failed_step_is_marked_and_the_later_ones_not_reached():
    run = result(changes=[("cloudflared", "acme", "Create the tunnel")],
                 failures=[("blueprint", "acme", "Vault check")],
                 stats={"deploys": {"frame": {"service": "frame", "ref": "v1", "commit": "abc", "action": "none"}}})
    outcomes = [outcome for _step, outcome, _what in dday.step_report(run, "acme", False, SERVICES)]
    assert outcomes == ["no change", "no change", "changed", "no change", "failed", "not reached", "not reached",
                        "not reached", "not reached"]


def test_an_interrupted_run_marks_its_step_and_never_says_no_change_for_what_it_did_not_reach():
    run = result(changes=[("ingest", "controller", "Ingest the pack")],
                 steps=ALL_STEPS[:3], interrupted=2, rc=1)
    outcomes = [outcome for _step, outcome, _what in dday.step_report(run, "acme", False, SERVICES)]
    assert outcomes == ["changed", "no change", "interrupted"] + ["not reached"] * 6


def test_a_run_that_stopped_before_any_play_reached_nothing():
    # An inventory that failed to parse (Tailscale down, T05): ansible-playbook ends before the first play.
    run = result(steps=[], rc=1)
    assert {outcome for _step, outcome, _what in dday.step_report(run, "acme", True, SERVICES)} == {"not reached"}


@pytest.mark.parametrize("health, ok", [
    (HEALTH, True),
    ({}, False),                                               # no proof at all: never shipped
    ({"frame": 200, "blueprint": 200, "hive": 200}, False),    # the vault was not checked
    ({**HEALTH, "hive": 502}, False),
    ({"cloudflared": 200}, True),                              # a sovereignty customer: its tunnel only (T24)
])
def test_only_a_run_that_saw_every_service_answer_200_ships(health, ok):
    assert dday.proven({"health": health}, SERVICES)[0] is ok


def test_the_ship_log_line_is_one_line_with_what_is_live_and_the_proof():
    line = shipped.ship_log_line("acme", "acme.axelabs.ai", DEPLOYS, HEALTH, "20261124T1-dday-abc",
                                 when=datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc), who="op@laptop")
    assert line == ("2026-11-24T09:30:00Z shipped acme https://acme.axelabs.ai frame=v1@dfc12efd98e5 "
                    "blueprint=v1@3dea6ceca451 hive=v2@4b93f7a397a2 vault=docker.io/vaultwarden/server:1.36.0 "
                    "health=blueprint:200,frame:200,hive:200,vault:200 by=op@laptop run=20261124T1-dday-abc")


def test_ship_log_lines_are_appended_never_rewritten(tmp_path):
    log = tmp_path / "logs" / "ship.log"
    shipped.append_line(log, "first")
    shipped.append_line(log, "second")
    assert log.read_text() == "first\nsecond\n"
    with pytest.raises(ValueError):
        shipped.append_line(log, "two\nlines")


def test_the_it_reply_gives_the_urls_the_sso_link_and_identifier_in_korean_and_english():
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue
    links = [d["public_link"] for d in catalogue.load()]
    text = shipped.reply_text("acme", ENTRY, HEALTH, links, when=datetime(2026, 11, 24, tzinfo=timezone.utc))
    korean, english = text.split("\n---\n")
    for part in (korean, english):
        assert "https://acme.axelabs.ai/vault/#/sso" in part  # T15: the direct link
        assert "ACME" in part.replace("ACME Korea", "")  # T15: the identifier, the organization in capitals
        for url in ("https://acme.axelabs.ai/", "https://acme.axelabs.ai/frame/mcp", "https://acme.axelabs.ai/hive/",
                    "https://acme.axelabs.ai/vault/"):
            assert url in part
        assert "frame 200, blueprint 200, hive 200, vault 200" in part
    assert "배포 완료" in korean and "SSO 직접 링크" in korean and "다음 단계" in korean
    assert "SSO direct link" in english and "Next steps" in english


def test_the_reply_is_written_atomically_and_only_when_it_changes(tmp_path):
    path = tmp_path / "replies" / "acme-it-reply.md"
    assert shipped.write_atomically(path, "one") is True
    assert shipped.write_atomically(path, "one") is False
    assert shipped.write_atomically(path, "two") is True
    assert path.read_text() == "two" and [p.name for p in path.parent.iterdir()] == ["acme-it-reply.md"]


class FakeCloudflare:
    """The client's surface the checks use; what Cloudflare answers is the test's input."""

    def __init__(self, records=(), missing=(), error=None):
        self.records, self.missing, self.error = list(records), set(missing), error

    def verify(self):
        if self.error:
            raise self.error

    def zone(self):
        return {"id": "z", "name": "axelabs.ai", "account_id": "a"}

    def records_at(self, name):
        if "DNS:Read" in self.missing:
            raise CloudflareError("no DNS:Read", trap="T09")
        return self.records

    def tunnels_named(self, name):
        if "Cloudflare Tunnel:Read" in self.missing:
            raise CloudflareError("no Tunnel:Read", trap="T09")
        return []


def test_cloudflare_findings_name_a_missing_token_missing_permissions_and_foreign_records():
    [no_token] = trap_checks.cloudflare(None, "", "acme.axelabs.ai", False, "acme")
    assert no_token["trap"] == "T09" and "axe secret push CLOUDFLARE_API_TOKEN" in no_token["next_step"]
    [scopes] = trap_checks.cloudflare(FakeCloudflare(missing={"Cloudflare Tunnel:Read"}), "t", "acme.axelabs.ai", False, "acme")
    assert scopes["trap"] == "T09" and "Cloudflare Tunnel:Read" in scopes["problem"]
    [bad] = trap_checks.cloudflare(FakeCloudflare(error=CloudflareError("token invalid", trap="T09", next_step="new token")),
                                   "t", "acme.axelabs.ai", False, "acme")
    assert bad == {"trap": "T09", "problem": "token invalid", "next_step": "new token", "blocking": True}
    records = [{"type": "A", "content": "203.0.113.7", "id": "r1"},
               {"type": "TXT", "content": "ms=verify", "id": "r2"},
               {"type": "CNAME", "content": "old.cfargotunnel.com", "id": "r3", "comment": OWNER_COMMENT + " x"}]
    t02, t03 = trap_checks.cloudflare(FakeCloudflare(records), "t", "acme.axelabs.ai", False, "acme")
    assert t02["trap"] == "T02" and t02["blocking"] and "A 203.0.113.7 (id r1)" in t02["problem"]
    assert "r3" not in t02["problem"]  # ours: updated by the DNS step, never a finding
    assert t03["trap"] == "T03" and not t03["blocking"] and "TXT ms=verify" in t03["problem"]
    forced, _ = trap_checks.cloudflare(FakeCloudflare(records), "t", "acme.axelabs.ai", True, "acme")
    assert forced["trap"] == "T02" and not forced["blocking"]


def test_the_customer_entry_findings(tmp_path):
    path = tmp_path / "customers.yaml"
    [missing_file], *_ = trap_checks.customer_entry(str(path), "acme")
    assert missing_file["trap"] == "T01"
    path.write_text("customers:\n  beta: {legal_name: B}\n")
    [invalid], *_ = trap_checks.customer_entry(str(path), "beta")
    assert invalid["trap"] == "T01" and "primary_domain" in invalid["problem"]
    path.write_text("customers:\n  beta: {legal_name: B, primary_domain: b.kr, public_domain: beta.axelabs.ai,"
                    " entities: [b1], tailscale_host: beta-macmini}\n")
    [unknown], *_ = trap_checks.customer_entry(str(path), "acme")
    assert unknown["trap"] == "T01" and "axe customers add acme" in unknown["next_step"]
    [sovereign], _f, entry, manifest = trap_checks.customer_entry(str(path), "beta")
    assert sovereign["trap"] == "T24" and not sovereign["blocking"] and entry["public_domain"] == "beta.axelabs.ai"
    # T23: a directory where the file belongs, not empty.
    path.unlink()
    path.mkdir()
    (path / "x").write_text("")
    [t23], *_ = trap_checks.customer_entry(str(path), "acme")
    assert t23["trap"] == "T23"
    # In check mode, the text the ingest would leave is read instead of the file.
    notes, _f, entry, _m = trap_checks.customer_entry(str(path), "acme", planned_text=(
        "customers:\n  acme: {legal_name: A, primary_domain: a.kr, public_domain: acme.axelabs.ai, entities: [a1],"
        " tailscale_host: acme-macmini}\n"))
    assert entry["legal_name"] == "A"


def test_findings_read_as_lines_and_a_summary_that_names_the_blocking_traps():
    found = [trap_checks.finding("T07", "not found: docker", "brew install docker"),
             trap_checks.finding("T04", "apply sets sleep 0", "", blocking=False),
             trap_checks.finding("T02", "foreign A record", "--force-dns")]
    assert trap_checks.summary(found) == "2 problem(s) found before anything changed (T02, T07)"
    assert trap_checks.lines(found) == ["T07: not found: docker -> next: brew install docker", "T04: apply sets sleep 0",
                                        "T02: foreign A record -> next: --force-dns"]
