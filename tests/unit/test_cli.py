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


def test_the_runbooks_service_words_name_the_vault_items_the_roles_use():
    import pytest
    from axe.commands import secret
    from axe.errors import AxeError

    def service(*argv):
        return secret._service(cli.parser().parse_args(["secret", *argv]))

    # `--service vaultwarden` (the runbook's word) is the vault role's own items: axe/CUSTOMER/vault/ENV.
    assert service("push", "AZURE_ACME_VAULTWARDEN_CLIENT_SECRET", "--service", "vaultwarden", "--customer", "acme") == "vault"
    assert service("get", "AZURE_ACME_VAULTWARDEN_CLIENT_SECRET", "--service", "vaultwarden", "--customer", "acme") == "vault"
    # `--service cloudflare`: the operator's own token (axe/operator/cloudflare/CLOUDFLARE_API_TOKEN), nobody else's.
    assert service("push", "CLOUDFLARE_API_TOKEN", "--service", "cloudflare", "--customer", "operator") == "cloudflare"
    with pytest.raises(AxeError) as err:
        service("push", "CLOUDFLARE_API_TOKEN", "--service", "cloudflare", "--customer", "acme")
    assert err.value.next_step == "axe secret push CLOUDFLARE_API_TOKEN --service cloudflare --customer operator --apply"
    with pytest.raises(AxeError):
        service("push", "AZURE_ACME_FRAME_MCP_CLIENT_SECRET", "--service", "frame", "--customer", "operator")
