"""The AWX custom credential types in awx/credential_types/: each is what AWX's API takes (POST
/api/v2/credential_types/), keeps its secrets out of extra vars, and injects only names the product reads.

The shape rules are AWX's own for custom credential types: field ids are variable names, unique and never `tower`;
`secret`, `multiline`, `format` and `choices` only on string fields; injectors are `file` (`template` or
`template.NAME`, not both), `env` and `extra_vars`; every template renders from the defined inputs alone (and
`tower.filename` only with a file injector); no environment variable starting ANSIBLE_.

Then AWX's injection is played here (files written, templates rendered) and the product's own code reads the
result: the argument specs' environment fallbacks, the lookup's options, the Secrets Manager token file.
"""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import jinja2
import jinja2.meta
import jinja2.sandbox
import pytest
import yaml

from helpers.lab import ROOT

TYPES_DIR = ROOT / "awx" / "credential_types"
FILES = sorted(TYPES_DIR.glob("*.yml"))
# Where the playbooks' code runs: what AWX's job runs, the `axe` wrapper excluded.
PRODUCT_DIRS = ("plugins", "roles", "playbooks")

VARIABLE = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
FIELD_KEYS = {"id", "label", "type", "format", "choices", "help_text", "multiline", "secret", "ask_at_runtime", "default"}
STRING_ONLY = ("choices", "multiline", "format", "secret")
# An input that holds a credential by its name: it must be marked secret (AWX encrypts it and hides it).
SECRET_ID = re.compile(r"token|secret|password|passphrase|session|private_key|_key$")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def fields(definition) -> dict:
    return {f["id"]: f for f in definition["inputs"].get("fields", [])}


def secret_ids(definition) -> set[str]:
    return {i for i, f in fields(definition).items() if f.get("secret")}


def templates(definition):
    """(injector kind, key, template) for every injector template."""
    for kind, entries in (definition.get("injectors") or {}).items():
        for key, template in entries.items():
            yield kind, key, template


def referenced(template: str) -> set[str]:
    return jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(template))


def test_the_three_credentials_the_playbooks_need_are_defined():
    assert {p.name for p in FILES} >= {"secrets_manager.yml", "cloudflare.yml", "operator_vault.yml"}
    names = [load(p)["name"] for p in FILES]
    assert len(set(names)) == len(names), names  # AWX's names are unique


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_shape_is_what_awx_takes(path):
    definition = load(path)
    assert set(definition) <= {"name", "description", "kind", "inputs", "injectors"}, set(definition)
    assert isinstance(definition["name"], str) and definition["name"].strip()
    assert definition["kind"] in ("cloud", "net")  # the kinds a custom credential type may have
    inputs = definition["inputs"]
    assert set(inputs) <= {"fields", "required"}, set(inputs)
    ids = [f.get("id") for f in inputs["fields"]]
    assert len(ids) == len(set(ids)), f"field ids must be unique: {ids}"
    for field in inputs["fields"]:
        assert set(field) <= FIELD_KEYS, f"{field.get('id')}: {set(field) - FIELD_KEYS}"
        assert VARIABLE.match(field["id"] or "") and field["id"] != "tower", field["id"]
        assert isinstance(field["label"], str) and field["label"]
        kind = field.get("type", "string")
        assert kind in ("string", "boolean"), field
        if kind != "string":
            assert not set(field) & set(STRING_ONLY), field
        if "default" in field:
            assert isinstance(field["default"], {"string": str, "boolean": bool}[kind]), field
        if "format" in field:
            assert field["format"] in ("ssh_private_key", "url"), field
        if SECRET_ID.search(field["id"]):
            assert field.get("secret") is True, f"{field['id']} holds a credential: it must be `secret: true`"
    assert set(inputs.get("required", [])) <= set(ids)
    assert secret_ids(definition) <= set(inputs.get("required", [])), "a secret the type carries is one it needs"

    injectors = definition["injectors"]
    assert injectors and set(injectors) <= {"file", "env", "extra_vars"}, set(injectors)
    files = list(injectors.get("file", {}))
    assert all(re.match(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$", k) for k in files), files
    assert not ("template" in files and len(files) > 1), "one file is `template`; several are template.NAME each"
    for name, value in injectors.get("env", {}).items():
        assert VARIABLE.match(name), name
        assert not name.startswith("ANSIBLE_"), f"{name}: AWX refuses ANSIBLE_* (it may change Ansible's configuration)"
        assert isinstance(value, str) and value.isascii(), (name, value)
    for name in injectors.get("extra_vars", {}):
        assert VARIABLE.match(name), name


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_template_renders_from_the_defined_inputs_alone(path):
    definition = load(path)
    files = list(definition["injectors"].get("file", {}))
    if "template" in files:
        filename = "/tmp/awx_example"
    elif files:
        filename = SimpleNamespace(**{k.split(".", 1)[1]: f"/tmp/awx_example_{k}" for k in files})
    else:
        filename = None  # tower.filename without a file injector: AWX refuses the type
    namespace = {**{i: "EXAMPLE" for i in fields(definition)}, "tower": SimpleNamespace(filename=filename)}
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    for kind, key, template in templates(definition):
        assert isinstance(template, str), (kind, key)
        rendered = env.from_string(template).render(namespace)
        assert "None" not in rendered, f"{kind}.{key} names tower.filename with no file injector"
        assert referenced(template) <= set(fields(definition)) | {"tower"}, (kind, key, template)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_no_secret_reaches_extra_vars(path):
    definition = load(path)
    for key, template in (definition["injectors"].get("extra_vars") or {}).items():
        leaked = referenced(template) & secret_ids(definition)
        assert not leaked, f"extra_vars.{key} carries the secret input(s) {sorted(leaked)}: secrets never go in extra vars"


def _read_forms(name: str) -> list[re.Pattern]:
    """The ways the product's code reads an environment variable: an argument spec's env fallback, os.environ, a
    plugin option's `env:` entry (get_option), the env lookup in a role or playbook."""
    n = re.escape(name)
    return [re.compile(rf"env_fallback,\s*\[[^\]]*[\"']{n}[\"']"),
            re.compile(rf"environ(?:\.get)?[\[(]\s*[\"']{n}[\"']"),
            re.compile(rf"os\.getenv\(\s*[\"']{n}[\"']"),
            re.compile(rf"^\s*env:\s*\n(?:\s*-\s*name:\s*\S+\s*\n)*\s*-\s*name:\s*{n}\s*$", re.M),
            re.compile(rf"lookup\(\s*[\"']ansible\.builtin\.env[\"'],\s*[\"']{n}[\"']")]


def readers(name: str) -> list[str]:
    hits = []
    for top in PRODUCT_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in (".py", ".yml", ".yaml") or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            if any(form.search(text) for form in _read_forms(name)):
                hits.append(str(path.relative_to(ROOT)))
    return hits


INJECTED = sorted({(p.stem, name) for p in FILES for name in (load(p)["injectors"].get("env") or {})})


@pytest.mark.parametrize("stem, name", INJECTED, ids=[f"{s}-{n}" for s, n in INJECTED])
def test_each_injected_environment_variable_is_one_the_playbooks_read(stem, name):
    assert readers(name), (f"{stem} injects {name}, but nothing under {', '.join(PRODUCT_DIRS)} reads it "
                           "(an env fallback, os.environ, a plugin option's env, the env lookup): renamed?")


# ---- AWX's injection, played, and the product reading the result -----------------------------------------------------
def inject(definition, values: dict, tmp_path: Path) -> dict:
    """The environment AWX gives a job for a credential of this type: file templates written to files of their own,
    env templates rendered (with tower.filename naming those files)."""
    values = {**{i: f.get("default", "") for i, f in fields(definition).items()}, **values}
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    files = {}
    for key, template in (definition["injectors"].get("file") or {}).items():
        path = tmp_path / f"awx_{key.replace('.', '_')}"
        path.write_text(env.from_string(template).render(values))
        path.chmod(0o600)
        files[key] = str(path)
    filename = files.get("template") or SimpleNamespace(**{k.split(".", 1)[1]: v for k, v in files.items()})
    return {name: env.from_string(t).render({**values, "tower": SimpleNamespace(filename=filename)})
            for name, t in (definition["injectors"].get("env") or {}).items()}


def test_secrets_manager_token_arrives_as_a_file_the_backend_reads(tmp_path):
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault, vault_sm

    definition = load(TYPES_DIR / "secrets_manager.yml")
    token = "0.48b4774c-68aa-4a3c-9b9e-1b7bd9a1f2c3.secretpart:a2V5a2V5a2V5"
    env = inject(definition, {"access_token": token, "organization_id": "0f0f0f0f-0000-4000-8000-000000000000"}, tmp_path)
    assert token not in env.values(), "the token itself is in no environment variable"
    assert env["AXE_VAULT_BACKEND"] in vault.BACKENDS and env["AXE_VAULT_BACKEND"] == vault_sm.SecretsManagerBackend.name
    assert vault_sm.read_token(env, security=str(tmp_path / "no-security")) == token
    backend = vault_sm.SecretsManagerBackend.from_env({**env, "AXE_STATE_DIR": str(tmp_path)})
    assert (backend.organization_id, backend.api_url, backend.identity_url) == (
        "0f0f0f0f-0000-4000-8000-000000000000", vault_sm.DEFAULT_API, vault_sm.DEFAULT_IDENTITY)


def _fallbacks(spec: dict, env: dict, monkeypatch) -> dict:
    """The module parameters an argument spec's environment fallbacks give, as AnsibleModule fills them."""
    from ansible.module_utils.common.parameters import set_fallbacks
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    params: dict = {}
    set_fallbacks(spec, params)
    return params


def test_cloudflare_token_is_the_roles_token_and_never_in_the_environment(tmp_path):
    """The roles' token (cloudflared's and the preflight's defaults) is the file's content, as Ansible evaluates them;
    the job's environment holds only the file's path (ansible-runner records the environment in its artifacts)."""
    import os
    import subprocess

    from helpers.lab import VENV_BIN
    env = inject(load(TYPES_DIR / "cloudflare.yml"), {"api_token": "cf-token-for-the-test"}, tmp_path)
    assert "cf-token-for-the-test" not in "".join(env.values())
    run = subprocess.run(
        [str(VENV_BIN / "ansible"), "localhost", "-i", "localhost,", "-c", "local", "-m", "ansible.builtin.debug",
         "-e", f"@{ROOT / 'roles/cloudflared/defaults/main.yml'}", "-e", f"@{ROOT / 'roles/preflight/defaults/main.yml'}",
         "-a", "msg={{ [cloudflared_api_token, preflight_api_token] }}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AXE_")}, **env,
             "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".collections")})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count('"cf-token-for-the-test"') == 2, run.stdout


def test_operator_vault_settings_are_the_modules_and_the_lookups(tmp_path, monkeypatch):
    from ansible_collections.axelabs.onboard.plugins.lookup import vault_secret
    from ansible_collections.axelabs.onboard.plugins.module_utils import common_args, vault

    env = inject(load(TYPES_DIR / "operator_vault.yml"), {"vault_url": "http://bw-serve.example:8087"}, tmp_path)
    params = _fallbacks(common_args.vault_spec(), env, monkeypatch)
    assert params == {"vault_backend": "bw_serve", "vault_url": "http://bw-serve.example:8087",
                      "vault_organization": "AXE Labs"}
    assert params["vault_backend"] in vault.BACKENDS
    options = yaml.safe_load(vault_secret.DOCUMENTATION)["options"]
    lookup_env = {e["name"]: option for option, spec in options.items() for e in spec.get("env", [])}
    assert set(env) <= set(lookup_env), "the vault_secret lookup reads each of them too"
