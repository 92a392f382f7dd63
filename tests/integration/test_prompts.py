"""The interactive paths, driven through a real terminal (a pty): the 8 values at hidden prompts,
a secret at a hidden prompt, and the confirmation question before an apply."""
from __future__ import annotations

import os
from pathlib import Path

import pexpect
import pytest

from helpers.lab import VENV_BIN
from helpers.samples import CUSTOMERS_YAML, PACK

pytestmark = pytest.mark.lab


def spawn(lab, args, env):
    return pexpect.spawn(str(VENV_BIN / "axe"), args, env={**os.environ, **env}, encoding="utf-8", timeout=60,
                         dimensions=(50, 250))


def test_prompted_values_hidden_secrets_and_confirmation(lab, tmp_path):
    lab.host("acme")
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML.replace("acme", "promptc"))
    env = {"AXE_CUSTOMERS_FILE": str(customers)}
    apps = PACK["apps"]
    answers = [("tenant id", PACK["tenant_id"])]
    for app in ("blueprint", "vaultwarden", "frame_mcp"):
        label = app.replace("_", " ")
        answers += [(f"{label} client id", apps[app]["client_id"]), (f"{label} client secret", apps[app]["client_secret"])]
    answers.append(("frame mcp application id uri", "https://promptc.axelabs.ai/frame/mcp"))
    child = spawn(lab, ["customers", "ingest", "promptc", "--prompt", "--apply"], env)
    transcript = ""
    for label, value in answers:
        child.expect_exact(f"promptc {label}: ")
        transcript += child.before
        child.sendline(value)
    child.expect_exact("Apply this plan? [y/N] ")
    transcript += child.before
    child.sendline("y")
    child.expect(pexpect.EOF)
    transcript += child.before
    child.close()
    assert child.exitstatus == 0, transcript[-3000:]
    # Secrets typed at hidden prompts are never echoed; the ids are.
    for app in apps.values():
        assert app["client_secret"] not in transcript
    assert apps["blueprint"]["client_id"] in transcript
    assert 'tenant_id: "3f2b8c1e' in customers.read_text()
    tmp_dir = Path(os.environ["AXE_STATE_DIR"]) / "tmp"
    assert tmp_dir.is_dir() and not list(tmp_dir.glob("pack-*.txt")), "the prompted values' file is removed"

    # A secret at a hidden prompt, and a "no" at the confirmation: nothing applied, exit 1.
    child = spawn(lab, ["secret", "push", "AZURE_PROMPTC_FRAME_MCP_CLIENT_SECRET", "--customer", "promptc",
                        "--service", "frame", "--apply"], env)
    child.expect_exact("value (hidden): ")
    child.sendline("typed~at~a~hidden~prompt~42")
    child.expect_exact("Apply this plan? [y/N] ")
    child.sendline("n")
    child.expect(pexpect.EOF)
    out = child.before
    child.close()
    assert child.exitstatus == 1 and "not confirmed: nothing was applied" in out
    assert "typed~at~a~hidden~prompt~42" not in out
    got = lab.axe("secret", "get", "AZURE_PROMPTC_FRAME_MCP_CLIENT_SECRET", "--customer", "promptc",
                  "--service", "frame", env=env)
    assert got.stdout == apps["frame_mcp"]["client_secret"] + "\n"
