"""One error path (issue 15): a ProductError keeps its trap, problem, details and next step as fields from the
module that raised it to the terminal and to --json, converted once, at the CLI's boundary."""
import json
from pathlib import Path

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail
from axe import cli, report
from axe.errors import AxeError
from axe.runner import HostResult, RunResult

ERROR = ProductError("2 value(s) frame needs for acme are missing", trap="T08",
                     details=["FRAME_ACME_MCP_TOKEN: not in the vault", "AZURE_AD_TENANT_ID: not in customers.yaml"],
                     next_step="run each command above, then deploy again")


class FakeModule:
    def fail_json(self, **fields):
        raise SystemExit(fields)


def test_a_module_fails_with_every_field_intact_and_its_own_extras():
    with pytest.raises(SystemExit) as failed:
        fail(FakeModule(), ERROR, commands=["docker compose up"], trap="T99")
    fields = failed.value.args[0]
    assert fields == {"msg": "T08: 2 value(s) frame needs for acme are missing", "trap": "T08",
                      "next_step": "run each command above, then deploy again", "details": ERROR.details,
                      "commands": ["docker compose up"]}  # an extra never replaces the error's own trap


def test_a_module_s_default_trap_fills_only_an_empty_one():
    with pytest.raises(SystemExit) as failed:
        fail(FakeModule(), ProductError("volume x is not declared"), trap="T22")
    assert failed.value.args[0]["trap"] == "T22" and failed.value.args[0]["next_step"] is None


def test_a_failed_run_s_json_carries_the_module_s_error_and_its_next_step():
    host = HostResult(failed=1)
    host.errors.append({"task": "Vault check", "problem": ERROR.problem(), "trap": "T08", "details": ERROR.details,
                        "next": ERROR.next_step})
    result = RunResult(playbook="p", rc=2, status="failed", artifact_dir=Path("/tmp/run"), seconds=1.0,
                       hosts={"acme": host}, stats={})
    payload = report.as_json(result)
    assert payload["next"] == ERROR.next_step
    assert payload["hosts"]["acme"]["errors"][0]["trap"] == "T08"


def test_the_cli_boundary_converts_a_product_error_once_with_every_field(tmp_path, monkeypatch, capsys):
    # A customers.yaml that cannot be read: CustomersFile raises, nothing in between catches.
    (tmp_path / "customers.yaml").write_text("customers:\n  acme: [unclosed\n")
    monkeypatch.setenv("AXE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("AXE_CONFIG", str(tmp_path / "none.env"))
    monkeypatch.setenv("AXE_CUSTOMERS_FILE", str(tmp_path / "customers.yaml"))
    assert cli.main(["health", "acme", "--json"]) == 2
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert payload["failed"] == 1 and payload["error"] and payload["next"], payload
    assert set(payload) >= {"error", "trap", "details", "next"}
    assert "next: " + payload["next"] in err  # the terminal says the same next step


def test_axe_error_from_a_product_error_prints_problem_details_and_next():
    text = str(AxeError.from_product(ERROR))
    assert text.splitlines() == ["T08: 2 value(s) frame needs for acme are missing",
                                 "  - FRAME_ACME_MCP_TOKEN: not in the vault",
                                 "  - AZURE_AD_TENANT_ID: not in customers.yaml",
                                 "  next: run each command above, then deploy again"]


def test_a_refused_host_key_reads_the_same_under_either_strategy():
    from axe.runner import unreachable_reason
    ssh = "Failed to connect to the host via ssh: Host key verification failed."
    mitogen = "Task failed: Host key checking is enabled, and SSH reported an unrecognized or mismatching host key."
    assert unreachable_reason(ssh) == unreachable_reason(mitogen)
    assert unreachable_reason(ssh).startswith("Host key verification failed: ") and "known_hosts" in unreachable_reason(ssh)
    assert unreachable_reason("Connection timed out") == "Connection timed out"
