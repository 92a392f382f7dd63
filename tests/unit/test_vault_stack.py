"""The vault role's pieces without a host: the compose file it renders agrees with the bootstrap patch,
compose_up's commands, the lab stand-in's start-up checks (upstream's words), and the CLI's refusals."""
import importlib.util
from pathlib import Path

import jinja2
import pytest
import yaml

from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils.vaultwarden_patch import effective_env, plan
from axe import cli

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "vault"


def _standin():
    path = ROOT / "lab" / "axe_lab" / "images" / "vaultwarden" / "vaultwarden_standin.py"
    spec = importlib.util.spec_from_file_location("vaultwarden_standin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(**overrides):
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    values = {"ansible_managed": "managed", "vault_customer": "acme", "vault_public_domain": "acme.axelabs.ai",
              "vault_service": "axe-vaultwarden", "vault_image": "docker.io/vaultwarden/server:1.36.0", "vault_port": 18082,
              "vault_bootstrap_keys": role_vars["vault_bootstrap_keys"],
              "vault_settings": {"DOMAIN": "https://acme.axelabs.ai/vault",
                                 "SSO_AUTHORITY": "https://login.microsoftonline.com/tenant-1/v2.0",
                                 "SSO_CLIENT_ID": "client-1"}}
    values.update(overrides)
    template = jinja2.Template((ROLE / "templates" / "docker-compose.yml.j2").read_text(), keep_trailing_newline=True)
    return template.render(**values)


def test_the_rendered_stack_needs_no_patch_and_carries_no_secret():
    text = render()
    planned = plan(text, "acme.axelabs.ai", "axe-vaultwarden")
    assert planned["text"] == text
    assert all(action == "ok" for _k, _now, _want, _trap, action in planned["findings"])
    env = effective_env(text, "axe-vaultwarden")
    assert env["INVITATIONS_ALLOWED"] == "false" and env["SSO_ENABLED"] == "true"
    assert "SSO_CLIENT_SECRET" not in env  # it comes from .env.local
    service = yaml.safe_load(text)["services"]["axe-vaultwarden"]
    assert service["env_file"] == [".env.local"] and service["ports"] == ["127.0.0.1:18082:80"]
    assert "./data:/data" in service["volumes"]


def test_the_rendered_stack_starts_the_stand_in():
    standin = _standin()
    env = effective_env(render(), "axe-vaultwarden")
    env["SSO_CLIENT_SECRET"] = "from .env.local"
    cfg = standin.settings(env)
    assert standin.config_errors(cfg) is None
    assert standin.base_path(cfg["DOMAIN"]) == "/vault"
    assert standin.first_sso_login(cfg, None) == (200, "ok")


@pytest.mark.parametrize("env, message", [
    ({"DOMAIN": "acme.axelabs.ai/vault"}, "DOMAIN variable needs to contain the protocol"),
    ({"SSO_ENABLED": "true", "SSO_AUTHORITY": "https://login.microsoftonline.com/t/v2.0", "SSO_CLIENT_ID": "c"},
     "`SSO_CLIENT_ID`, `SSO_CLIENT_SECRET` and `SSO_AUTHORITY` must be set for SSO support"),
    ({"SSO_ENABLED": "true", "SSO_AUTHORITY": "login.microsoftonline.com", "SSO_CLIENT_ID": "c", "SSO_CLIENT_SECRET": "s"},
     "Invalid sso_authority URL"),
    ({"SSO_ONLY": "yes"}, "SSO_ONLY"),
])
def test_the_stand_in_refuses_what_vaultwarden_refuses(env, message):
    standin = _standin()
    assert message in standin.config_errors(standin.settings(env))


def test_the_first_sso_login_meets_t12_and_t13_until_the_bootstrap():
    standin = _standin()
    base = {"SSO_ENABLED": "true", "SSO_AUTHORITY": "https://x/v2.0", "SSO_CLIENT_ID": "c", "SSO_CLIENT_SECRET": "s"}
    cfg = standin.settings(dict(base, SIGNUPS_ALLOWED="false", INVITATIONS_ALLOWED="false"))
    assert standin.first_sso_login(cfg, None) == (400, "Your provider does not send email verification status")
    assert standin.first_sso_login(cfg, True) == (400, "Failed to retrieve the invitation")


def test_compose_up_pulls_only_when_told_and_recreates_only_when_told():
    default = cc.compose_up("/p", "docker-compose.yml", ["axe-vaultwarden"])
    assert default[default.index("--pull") + 1] == "never" and "--force-recreate" not in default
    forced = cc.compose_up("/p", "docker-compose.yml", ["axe-vaultwarden"], recreate=True, pull="missing")
    assert forced[forced.index("--pull") + 1] == "missing" and forced[-2:] == ["--force-recreate", "axe-vaultwarden"]
    assert "--no-deps" in forced and forced[:6] == ["docker", "compose", "--project-directory", "/p", "--file",
                                                    "/p/docker-compose.yml"]


@pytest.mark.parametrize("argv, words", [
    (["deploy", "vault", "acme", "--ref", "v2"], "--ref, --rollback and --force are for frame, blueprint and hive"),
    (["vault", "bootstrap", "Bad_Id"], "T25"),
    (["vault", "session", "Bad_Id", "--verify"], "T25"),
])
def test_the_cli_refuses_before_any_run(argv, words, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("AXE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("AXE_CONFIG", str(tmp_path / "none.env"))
    assert cli.main(argv) == 2
    assert words in capsys.readouterr().err


def test_diffs_mask_secret_named_settings_in_every_form():
    from ansible_collections.axelabs.onboard.plugins.module_utils.redact import redact_text
    text = ('      SSO_CLIENT_SECRET: "vw~abc"   # from the vault\n'
            '      - ADMIN_TOKEN=xyz\n'
            "NEXTAUTH_SECRET='q'\n"
            '      SSO_CLIENT_ID: "client-1"\n'
            '      SSO_CLIENT_SECRET:\n')
    assert redact_text(text) == ('      SSO_CLIENT_SECRET: <redacted>\n'
                                 '      - ADMIN_TOKEN=<redacted>\n'
                                 "NEXTAUTH_SECRET=<redacted>\n"
                                 '      SSO_CLIENT_ID: "client-1"\n'
                                 '      SSO_CLIENT_SECRET:\n')


def test_diff_redaction_covers_the_names_real_configurations_use_and_values_over_several_lines():
    from ansible_collections.axelabs.onboard.plugins.module_utils import redact
    secrets = ["AdminTokenValue42", "pushInstallKey42", "duoSkeyValue42", "smtpPass#42", "dbPassw0rd42",
               "blockLineOne42", "blockLineTwo42", "pemBodyLine42"]
    text = ("services:\n  vw:\n    environment:\n"
            '      ADMIN_TOKEN: "AdminTokenValue42"\n'
            "      PUSH_INSTALLATION_KEY: pushInstallKey42\n"
            "      - DUO_SKEY=duoSkeyValue42\n"
            "      SMTP_PASSWORD: 'smtpPass#42'\n"
            "      DATABASE_URL: postgresql://vw:dbPassw0rd42@db:5432/vw\n"
            "      SSO_CLIENT_SECRET: |\n        blockLineOne42\n        blockLineTwo42\n"
            '      RSA_PRIVATE_KEY="-----BEGIN KEY\npemBodyLine42\n-----END KEY"\n'
            "      DOMAIN: https://acme.axelabs.ai/vault\n      KEYS: visible\n")
    masked = redact.redact_text(text)
    assert not [s for s in secrets if s in masked], masked
    # Only the values go: every setting is still there, and what is not secret is untouched.
    for key in ("ADMIN_TOKEN", "PUSH_INSTALLATION_KEY", "DUO_SKEY", "SMTP_PASSWORD", "SSO_CLIENT_SECRET"):
        assert key in masked
    assert "postgresql://vw:<redacted>@db:5432/vw" in masked
    assert "DOMAIN: https://acme.axelabs.ai/vault\n      KEYS: visible\n" in masked
    assert masked.count("\n") == text.count("\n")


def test_a_broken_compose_file_is_named_by_position_never_by_its_text():
    from ansible_collections.axelabs.onboard.plugins.module_utils import vaultwarden_patch
    from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
    broken = 'services:\n  axe-vaultwarden:\n    environment:\n      SSO_CLIENT_SECRET: "inlineSecret42\n   bad: [\n'
    try:
        vaultwarden_patch.plan(broken, "acme.axelabs.ai")
    except ProductError as exc:
        message = str(exc) + " " + (exc.next_step or "")
    else:
        raise AssertionError("a broken file was patched")
    assert "line " in message and "inlineSecret"[:8] not in message
    assert not any(broken[i:i + 8] in message for i in range(broken.index("inline"), broken.index("42") + 2 - 8 + 1))
