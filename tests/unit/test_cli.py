"""The CLI's argument handling: --json anywhere, errors as advice with a non-zero exit."""
import json

from axe import cli


def test_json_flag_before_the_subcommand_parses():
    assert cli.parser().parse_args(["--json", "ping", "acme"]).json


def test_bad_customer_id_exits_2_with_json_error_even_with_json_after_the_subcommand(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AXE_CONFIG", str(tmp_path / "none.env"))
    monkeypatch.delenv("AXE_SSH_CONFIG", raising=False)
    monkeypatch.setenv("AXE_STATE_DIR", str(tmp_path))
    assert cli.main(["ping", "Bad_Id", "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["failed"] == 1 and "T25" in out["error"] and out["next"]


def test_lab_ssh_without_a_command_is_an_error(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AXE_STATE_DIR", str(tmp_path))
    assert cli.main(["lab", "ssh", "acme"]) == 2
    assert "no command given" in capsys.readouterr().err


def test_every_command_is_journaled_in_the_state_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("AXE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("AXE_CONFIG", str(tmp_path / "none.env"))
    cli.main(["ping", "Bad_Id"])
    line = json.loads((tmp_path / "logs" / "axe.log").read_text().splitlines()[-1])
    assert line["argv"] == ["axe", "ping", "Bad_Id"] and line["exit"] == 2 and line["user"]
