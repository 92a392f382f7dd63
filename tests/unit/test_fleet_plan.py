"""The fleet's pure parts: the wanted version in customers.yaml, the rollout's batches and its per-customer plan and
outcome, `axe status`'s rows, the release status a host reports and the audit log's sentences and file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import audit, customers_file as cf
from ansible_collections.axelabs.onboard.plugins.modules.release_status import describe
from ansible_collections.axelabs.onboard.plugins.inventory.customers import host_vars
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
from axe.commands import rollout, status
from axe.errors import AxeError
from axe.runner import HostResult, RunResult, merge_published
from helpers.samples import CUSTOMERS_YAML


def registry(tmp_path, text=CUSTOMERS_YAML):
    path = tmp_path / "customers.yaml"
    path.write_text(text)
    return cf.CustomersFile(str(path)).load()


# The wanted version ------------------------------------------------------------------------------------------------
def test_the_wanted_version_is_the_customer_s_own_else_the_fleet_s_release(tmp_path):
    f = registry(tmp_path)
    assert f.wanted_refs("beta") == {"frame": "v1", "blueprint": "v1", "hive": "v1"}
    assert f.set_wanted_ref("beta", "frame", "v2") is True
    assert f.set_wanted_ref("beta", "frame", "v2") is False  # already says so
    text = f.render()
    assert "# graduated to self-deploy (D-ops-40)" in text and "# the only entity" in text  # comments kept
    again = registry(tmp_path, text)
    assert again.wanted_refs("beta")["frame"] == "v2" and again.wanted_refs("beta")["hive"] == "v1"
    # A readonly load (what the inventory plugin reads) answers the same.
    (tmp_path / "customers.yaml").write_text(text)
    assert cf.CustomersFile(str(tmp_path / "customers.yaml")).load(readonly=True).wanted_refs("beta") == again.wanted_refs("beta")


def test_a_managed_customer_gets_a_slot_for_a_service_its_pack_did_not_name(tmp_path):
    f = registry(tmp_path)
    assert f.set_wanted_ref("beta", "hive", "v2") is True
    assert cf.plain(f.document["services"]["hive"]["beta"]) == {"secrets": [], "ref": "v2"}
    f.validate()


def test_a_sovereignty_customer_is_never_given_a_wanted_version(tmp_path):
    f = registry(tmp_path)
    with pytest.raises(ProductError) as err:
        f.set_wanted_ref("realchoice", "frame", "v2")
    assert err.value.trap == "T24"
    assert "services" not in cf.plain(f.document["services"]).get("frame", {}).get("realchoice", {})


@pytest.mark.parametrize("ref", ["v2", "release/2026.11", "3616549f70709afe290cc8d1bf017c32024c187f"])
def test_a_ref_is_one_git_word_in_the_schema(tmp_path, ref):
    f = registry(tmp_path)
    f.set_wanted_ref("beta", "frame", ref)
    f.validate()


@pytest.mark.parametrize("ref", ["v2 --upload-pack=x", "-v2", "v2\n", "", "v2\u202e"])
def test_a_ref_that_is_not_one_git_word_is_refused_by_the_schema(tmp_path, ref):
    f = registry(tmp_path)
    f.document["services"]["frame"]["beta"]["ref"] = ref
    with pytest.raises(ProductError):
        f.validate()


def test_the_inventory_hands_each_host_its_wanted_versions():
    out = host_vars("acme", {"tailscale_host": "acme-macmini", "public_domain": "acme.axelabs.ai",
                             "primary_domain": "acme.co.kr", "entities": ["acme-kr"]}, None, "tail.ts.net", False,
                    {"frame": "v2"})
    assert out["axe_wanted_refs"] == {"frame": "v2"}


# The rollout's batches, plan and outcome ----------------------------------------------------------------------------
@pytest.mark.parametrize("canary,batch,hosts,expected", [
    (1, "100%", 3, [1, "100%"]), (1, "2", 5, [1, 2]), (0, "2", 5, [2]), (2, "25%", 8, [2, "25%"]),
    (3, "1", 3, [1]),  # a canary as large as the rollout is no canary: one batch size for all
])
def test_the_serial_list_is_the_canary_then_the_batch(canary, batch, hosts, expected):
    assert rollout.serial(canary, batch, hosts) == expected


@pytest.mark.parametrize("batch", ["0", "101%", "-1", "2x", "", "1.5"])
def test_a_batch_that_is_not_a_size_is_refused(batch):
    with pytest.raises(AxeError):
        rollout.serial(1, batch, 3)


def _result(hosts: dict, stats: dict | None = None) -> RunResult:
    return RunResult(playbook="rollout", rc=0, status="successful", artifact_dir=Path("/tmp/run"), seconds=1.0,
                     hosts=hosts, stats=stats or {})


CUSTOMERS = {"a": {"managed": True}, "b": {"managed": True}, "c": {"managed": True}, "s": {"managed": False}}


def test_the_plan_says_per_customer_what_runs_and_what_the_rollout_does():
    seen = {"a": {"status": {"frame": {"live": {"ref": "v1", "commit": "c1", "colour": "blue"}}}},
            "b": {"status": {"frame": {"live": {"ref": "v2", "commit": "c2", "colour": "green"}}}}}
    plan = _result({"a": HostResult(ok=5, changed=3), "b": HostResult(ok=5), "c": HostResult(failed=1, messages=["T05: offline"])},
                   {"a": {"deploys": {"frame": {"action": "release", "reason": "c1 -> c2"}}},
                    "b": {"deploys": {"frame": {"action": "none"}}}})
    rows = rollout.plan_rows(CUSTOMERS, seen, plan, "v2", "frame")
    assert rows["a"]["plan"] == "release v2 (c1 -> c2)" and rows["a"]["ship"]
    assert rows["b"]["plan"] == "already on v2" and not rows["b"]["ship"]
    assert rows["c"]["plan"] == "cannot plan: T05: offline" and not rows["c"]["ship"]
    assert rows["s"]["plan"] == "left out: sovereignty customer (T24)"
    assert rows["a"]["now"]["ref"] == "v1"


def test_the_outcome_tells_shipped_failed_and_never_reached_apart():
    rows = {c: {"now": None, "wanted": "v2", "plan": "release v2", "ship": True} for c in "abc"}
    rows["s"] = {"now": None, "wanted": None, "plan": "left out: sovereignty customer (T24)"}
    applied = _result({"a": HostResult(ok=9, changed=4), "b": HostResult(failed=1, messages=["frame v2 failed health"])},
                      {"a": {"deploys": {"frame": {"action": "release"}}, "edge": {"frame": 200}}})
    out = rollout.outcome_rows(rows, applied, "v2", "frame")
    assert out["a"]["result"] == "shipped v2" and out["a"]["edge"] == {"frame": 200}
    assert out["b"]["result"] == "failed: frame v2 failed health"
    assert out["c"]["result"].startswith("not reached")
    assert out["s"]["result"] == "left out"


def test_an_interrupted_rollout_tells_what_each_customer_finished_before_the_signal():
    """No recap comes after a Ctrl-C: every host the run reached is marked interrupted, and what each finished is what
    its plays published before it (runner.merge_published folds each set_stats result in as it runs)."""
    rows = {c: {"now": None, "wanted": "v2", "plan": "release v2", "ship": True} for c in "abcde"}
    stats: dict = {}
    for published in ({"a": {"deploys": {"frame": {"action": "release", "ref": "v2"}}}}, {"a": {"edge": {"frame": 200}}},
                      {"b": {"deploys": {"frame": {"action": "release", "ref": "v2"}}}}):
        merge_published(stats, published)
    assert stats == {"a": {"deploys": {"frame": {"action": "release", "ref": "v2"}}, "edge": {"frame": 200}},
                     "b": {"deploys": {"frame": {"action": "release", "ref": "v2"}}}}
    hosts = {"a": HostResult(interrupted=True), "b": HostResult(interrupted=True), "c": HostResult(interrupted=True),
             "d": HostResult(interrupted=True, messages=["Health: frame v2 failed"],
                             errors=[{"task": "Health", "problem": "frame v2 failed"}])}
    out = rollout.outcome_rows(rows, _result(hosts, stats), "v2", "frame")
    assert out["a"]["result"] == "shipped v2" and out["a"]["edge"] == {"frame": 200}  # its batch was over: shipped
    assert out["b"]["result"] == "interrupted: v2 went live, not checked from outside yet: axe health b"
    assert out["c"]["result"] == "interrupted in its deploy: axe status c says what serves now"
    assert out["d"]["result"] == "failed: Health: frame v2 failed"  # failed before the signal: said as such
    assert out["e"]["result"].startswith("not reached")


def test_published_stats_merge_as_ansible_aggregates_them():
    stats = {"a": {"deploys": {"frame": {"action": "none"}}, "list": [1]}}
    merge_published(stats, {"a": {"deploys": {"frame": {"action": "release"}, "hive": {"action": "none"}}, "list": [2]}})
    merge_published(stats, None)  # a set_stats without `hosts`
    assert stats == {"a": {"deploys": {"frame": {"action": "release"}, "hive": {"action": "none"}}, "list": [2]}}


# axe status -------------------------------------------------------------------------------------------------------
def test_a_release_state_reads_as_live_version_colour_since_and_drift():
    state = {"active": "green", "releases": {"green": {"ref": "v2", "commit": "c2", "at": "2026-11-29T07:00:00Z"}},
             "previous": {"ref": "v1", "commit": "c1"}, "history": []}
    assert describe(state, "v2") == {"live": {"ref": "v2", "commit": "c2", "colour": "green", "since": "2026-11-29T07:00:00Z"},
                                     "wanted": "v2", "previous": {"ref": "v1", "commit": "c1"}, "staged": None, "drift": ""}
    assert describe(state, "v3")["drift"] == "wants v3, runs v2"
    assert describe(state, None)["drift"] == "customers.yaml wants no version"
    assert describe(None, "v1")["drift"] == "not deployed"
    assert describe(dict(state, staged={"slot": "blue", "ref": "v3"}), "v2")["drift"] == "a release staged in blue was not finished"
    assert describe({"error": "x is not JSON"}, "v2")["drift"] == "x is not JSON"


def test_status_rows_name_sovereign_unreached_and_drifting_customers():
    seen = {"a": {"status": {"frame": {"drift": ""}}}, "b": {"status": {"frame": {"drift": "wants v2, runs v1"}}}}
    result = _result({"a": HostResult(ok=1), "b": HostResult(ok=1), "c": HostResult(unreachable=1, messages=["ssh: timeout"])})
    table, clean = status.rows(CUSTOMERS, seen, result)
    assert not clean
    assert {c: table[c]["state"] for c in CUSTOMERS} == {"a": "in sync", "b": "drift", "c": "unreachable", "s": "sovereign"}
    assert table["c"]["note"] == "ssh: timeout"
    assert status.rows({"a": CUSTOMERS["a"]}, seen, result)[1] is True


# The audit log ------------------------------------------------------------------------------------------------------
V1 = {"active": "blue", "releases": {"blue": {"ref": "v1", "commit": "1" * 40}}}
V2 = {"active": "green", "releases": {"blue": {"ref": "v1", "commit": "1" * 40}, "green": {"ref": "v2", "commit": "2" * 40}}}


def test_the_audit_log_says_what_went_live_was_staged_or_stopped():
    assert audit.transition("frame", {}, V1) == "frame v1 (111111111111) live in blue (first release)"
    assert audit.transition("frame", V1, V2) == "frame v2 (222222222222) live in green (was v1 (111111111111) in blue)"
    staged = dict(V1, staged={"slot": "green", "ref": "broken", "commit": "3" * 40})
    assert audit.transition("frame", V1, staged) == "frame broken (333333333333) staged in green beside the live release"
    assert audit.transition("frame", staged, V1) == \
        "frame staged broken (333333333333) in green stopped; v1 (111111111111) still live"
    assert audit.transition("frame", V1, dict(V1, history=[{"ref": "v1"}])) is None  # bookkeeping only


def test_an_audit_entry_names_the_lock_s_holder_and_survives_a_torn_line(tmp_path):
    lock = tmp_path / "lock"
    lock.mkdir()
    (lock / "details.json").write_text(json.dumps({"holder": "op@laptop", "run_id": "r1", "purpose": "axe deploy frame a"}))
    log = tmp_path / "audit.jsonl"
    assert audit.record("frame", "frame v2 live", path=str(log), lock_dir=str(lock))
    with open(log, "a") as fh:
        fh.write('{"torn": ')  # a write cut short (power loss): the next entry still gets a line of its own
    assert audit.record("hive", "hive v2 live", path=str(log), lock_dir=str(tmp_path / "none"))
    entries = audit.tail(10, path=str(log))
    assert [(e["who"], e["run_id"], e["purpose"], e["what"]) for e in entries] == [
        ("op@laptop", "r1", "axe deploy frame a", "frame v2 live"), ("", "", "", "hive v2 live")]
    assert (log.stat().st_mode & 0o777) == 0o600
    assert audit.tail(0, path=str(log)) == [] and audit.tail(5, path=str(tmp_path / "missing")) == []


def test_the_audit_log_keeps_its_newest_half_past_its_size(tmp_path, monkeypatch):
    monkeypatch.setattr(audit, "MAX_BYTES", 2000)
    log = tmp_path / "audit.jsonl"
    for i in range(60):
        audit.record("frame", f"entry {i}", path=str(log), lock_dir=str(tmp_path))
    assert log.stat().st_size < 2200
    whats = [e["what"] for e in audit.tail(1000, path=str(log))]
    assert whats[-1] == "entry 59" and whats == sorted(whats, key=lambda w: int(w.split()[1]))
