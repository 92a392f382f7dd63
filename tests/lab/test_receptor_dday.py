"""The D-day and the rollout as AWX runs them, without AWX and without `axe` (issue 19): playbooks/onboard.yml (its
check, then its apply, then its apply again) and playbooks/rollout.yml, each a job streamed by `ansible-runner
transmit` to the real receptor daemon, run there by `ansible-runner worker`, its results turned back into artifacts
by `ansible-runner process` (the pipeline is tests/helpers/receptor.py's).

Each job is what an AWX job template gives ansible-runner:
- the project (the checkout's playbooks and ansible.cfg) and the inventory source inventory/customers.yml;
- extra vars, none secret: axe_target and the pack's path (D-day), the service, ref and batching (rollout);
- the job type "check" as ansible-playbook's --check (AWX's cmdline);
- the vault credential as AWX injects one of awx/credential_types/secrets_manager.yml: the access token in a file of
  its own under the private data dir's env/ (travelling in the stream, deleted with the worker's dir), its path in
  AXE_SM_TOKEN_FILE, the organization and URLs in the environment;
- the lab's non-secret settings as environment variables (AWX: the execution environment's, or "extra environment
  variables"), from `axe lab env`: SETTINGS below. The lab's keychain stand-in (AXE_SECURITY) and `bw serve`
  (AXE_VAULT_URL) are not given: the vault is reached with the token from the file or not at all.
The receptor daemon, and so the worker, starts with an environment of its own (helpers.receptor.ee_env), nothing of
the test's. `axe` runs only as `axe lab env`, which prints the lab's settings.

The results are checked as the `axe` D-day tests check theirs (tests/integration/test_dday.py): the check changes
nothing anywhere; the apply takes a fresh lab host to four services answering 200 through the edge; the apply again
changes nothing on the host; the rollout brings frame to v2 and records it in customers.yaml; and no secret (the
pack's, the vault's, the access token) is in anything the pipeline wrote.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from helpers.dday import EXTERNAL, DDay
from helpers.lab import ROOT
from helpers.receptor import awx_inject, copy_project, ee_env, linked_collection, receptor_base, receptor_node, run_job
from helpers.samples import CUSTOMERS_YAML, PACK, SECRETS

pytestmark = pytest.mark.lab

CUSTOMER = "rcp"
STEPS = ["ingest", "preflight", "cloudflared", "frame", "blueprint", "hive", "vault", "backup", "health"]
# `axe lab env`'s settings a job needs, none secret: where customers.yaml is, the Tailscale CLI and the SSH config the
# inventory plugin uses, the lab's Cloudflare API, zone and edge, the services' git server and the vault's image, and
# the CA of the lab's Secrets Manager (a private endpoint: Bitwarden's own needs none).
SETTINGS = ("AXE_TAILSCALE", "AXE_SSH_CONFIG", "CLOUDFLARE_BASE_URL", "AXE_CLOUDFLARE_ZONE", "AXE_EDGE_URL",
            "AXE_REPO_BASE", "AXE_VAULT_IMAGE", "AXE_SM_CA_FILE")


class AwxJobs:
    """The customer's lab host and a receptor node: each `job` is one AWX job, its private data dir made anew."""

    def __init__(self, d: DDay, socket: Path, base: Path, tmp: Path, token: str):
        self.d, self.socket, self.base, self.tmp, self.token = d, socket, base, tmp, token
        self.collections = linked_collection(tmp)
        self.jobs: list = []

    def job(self, name: str, playbook: str, extravars: dict, cmdline: str | None = None):
        pdd = self.tmp / name / "private"
        work_dir = self.base / f"work-{name}"  # the worker's private data dir (AWX: /runner in the EE)
        copy_project(pdd)
        (pdd / "inventory").mkdir()
        shutil.copy(ROOT / "inventory" / "customers.yml", pdd / "inventory" / "customers.yml")
        sm = self.d.settings
        credential = awx_inject("secrets_manager", {
            "access_token": self.token, "organization_id": sm["AXE_SM_ORGANIZATION_ID"],
            "api_url": sm["AXE_SM_API_URL"], "identity_url": sm["AXE_SM_IDENTITY_URL"]}, pdd, work_dir)
        # The Cloudflare credential, as a file too: the roles take it over the vault's item (cloudflared's defaults).
        credential.update(awx_inject("cloudflare", {"api_token": sm["AXE_LAB_CLOUDFLARE_TOKEN"]}, pdd, work_dir))
        (pdd / "env" / "envvars").write_text(yaml.safe_dump({
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections),  # the execution environment's collection
            "AXE_CUSTOMERS_FILE": str(self.d.customers),
            **{k: sm[k] for k in SETTINGS},
            **credential,
        }))
        (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars))
        job = run_job(self.socket, pdd, playbook, out=self.tmp / name / "out", ident=f"awx-{name}", work_dir=work_dir,
                      cmdline=cmdline, timeout=900)
        self.jobs.append(job)
        return job


def steps(job) -> list[str]:
    """The D-day steps the job entered, in order (each play's first task publishes its step with set_stats)."""
    out = []
    for data in job.results():
        published = (((data.get("res") or {}).get("ansible_stats") or {}).get("data") or {}).get("axe_step")
        if published and published not in out:
            out.append(published)
    return out


def succeeded(job) -> str:
    """The job's failures and its output's end, for an assertion's message."""
    return f"{job.status} rc={job.rc} failed={job.failed()}\n{job.stdout()[-4000:]}"


def sm_backend(settings: dict, state: Path, token: str):
    """The lab's Secrets Manager as the test reads it (its own SDK state), with the operator machine account."""
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault_sm
    return vault_sm.SecretsManagerBackend(
        api_url=settings["AXE_SM_API_URL"], identity_url=settings["AXE_SM_IDENTITY_URL"],
        organization_id=settings["AXE_SM_ORGANIZATION_ID"], ca_file=settings["AXE_SM_CA_FILE"], state_file=str(state),
        token=token)


@pytest.fixture(scope="module")
def awx(lab, tmp_path_factory):
    from axe_lab import secrets_manager
    lab.host("acme")  # the lab's emulators and git server are up
    tmp = tmp_path_factory.mktemp("rcp")
    with lab.fresh(CUSTOMER) as host:
        d = DDay(lab, host, tmp, CUSTOMER)  # reads `axe lab env`: the lab's settings, no product command
        d.customers.write_text(CUSTOMERS_YAML.replace("acme", CUSTOMER))
        d.pack = tmp / f"axelabs-bootstrap-{CUSTOMER}.json"
        d.pack.write_text(json.dumps(PACK).replace("acme", CUSTOMER))
        token = secrets_manager.accounts(lab.lab)["tokens"]["operator"]  # the lab operator's machine account
        with receptor_base() as base, receptor_node(base, env=ee_env(base / "home")) as socket:
            jobs = AwxJobs(d, socket, base, tmp, token)
            jobs.vault = sm_backend(d.settings, tmp / "sm.state", token)
            yield jobs


def world(awx) -> dict:
    """Everything a D-day changes, as a value: customers.yaml, the vault, Cloudflare, the host."""
    import cloudflare
    d = awx.d
    sdk = cloudflare.Cloudflare(api_token=d.settings["AXE_LAB_CLOUDFLARE_TOKEN"], base_url=d.settings["AXE_LAB_CLOUDFLARE_URL"])
    zone = next(iter(sdk.zones.list(name="axelabs.ai")))
    records = sorted((r.type, r.content) for r in sdk.dns.records.list(zone_id=zone.id, name=d.domain))
    tunnels = sorted(t.id for t in sdk.zero_trust.tunnels.cloudflared.list(account_id=zone.account.id,
                                                                            name=f"axe-{CUSTOMER}", is_deleted=False))
    host = d.host.ssh("ls -a ~/.axe ~/.cloudflared 2>&1; PATH=/opt/homebrew/bin:$PATH docker ps -a --format '{{.Names}}'"
                      "; pmset -g | grep -w sleep", check=False).stdout
    return {"customers": d.customers.read_text(), "vault": sorted(awx.vault.list(CUSTOMER)), "dns": records,
            "tunnels": tunnels, "host": host}


def test_the_check_job_plans_every_step_and_changes_nothing_anywhere(awx):
    before = world(awx)
    assert before["tunnels"] == [] and before["vault"] == [] and "No such file" in before["host"]
    job = awx.job("dday-check", "playbooks/onboard.yml", {"axe_target": CUSTOMER, "pack": str(awx.d.pack)},
                  cmdline="--check")
    assert job.status == "successful" and job.rc == 0, succeeded(job)
    assert steps(job) == STEPS
    assert job.stats["changed"].get(CUSTOMER, 0) > 0  # what the apply would change, planned...
    assert world(awx) == before  # ...and nothing on the host (no container), in the vault, Cloudflare or customers.yaml


def test_the_apply_job_takes_the_customer_from_nothing_to_four_services_answering(awx):
    d = awx.d
    job = awx.job("dday-apply", "playbooks/onboard.yml", {"axe_target": CUSTOMER, "pack": str(d.pack)})
    assert job.status == "successful" and job.rc == 0, succeeded(job)
    assert steps(job) == STEPS
    stats = job.stats
    assert stats["changed"].get(CUSTOMER, 0) > 0 and not stats.get("failures") and not stats.get("dark"), stats
    published = stats["artifact_data"]["hosts"][CUSTOMER]
    assert published["health"] == {"frame": 200, "blueprint": 200, "hive": 200, "vault": 200}, published
    for service, path in EXTERNAL.items():  # through the edge, as an employee reaches it
        assert d.get(path)[0] == 200, (service, d.get(path))
    assert d.version("frame") == "1.0.0"
    # The job's whole environment (ansible-runner's `command` artifact): the vault's token only as the file's path, in
    # the worker's private data dir; no keychain (AXE_SECURITY, nor a `security` on PATH), no BWS_ACCESS_TOKEN, no
    # `bw serve`. So every vault read and write of this D-day used the token from the injected file.
    env = json.loads((job.artifacts / "command").read_text())["env"]
    assert env["AXE_VAULT_BACKEND"] == "secrets_manager"
    assert Path(env["AXE_SM_TOKEN_FILE"]).parent == awx.base / "work-dday-apply" / "env"
    assert Path(env["AXE_CLOUDFLARE_TOKEN_FILE"]).parent == awx.base / "work-dday-apply" / "env"
    assert not {"AXE_SECURITY", "BWS_ACCESS_TOKEN", "AXE_VAULT_URL", "AXE_BW", "AXE_STATE_DIR", "AXE_CONFIG"} & set(env)
    assert shutil.which("security", path=env["PATH"]) is None
    # The ingest wrote through the job's credential: the pack's secrets are in the customer's Secrets Manager project.
    names = {env for _service, env in awx.vault.list(CUSTOMER)}
    assert {"AZURE_RCP_BLUEPRINT_CLIENT_SECRET", "AZURE_RCP_VAULTWARDEN_CLIENT_SECRET",
            "AZURE_RCP_FRAME_MCP_CLIENT_SECRET", "FRAME_RCP_DB_PASSWORD"} <= names, names
    assert yaml.safe_load(d.customers.read_text())["customers"][CUSTOMER]["sso"]["tenant_id"] == PACK["tenant_id"]


def test_the_apply_job_again_changes_nothing_on_the_host(awx):
    before = world(awx)
    job = awx.job("dday-again", "playbooks/onboard.yml", {"axe_target": CUSTOMER, "pack": str(awx.d.pack)})
    assert job.status == "successful" and job.rc == 0, succeeded(job)
    stats = job.stats
    # changed=0 for the host, and for the controller's steps (the ingest of the same pack) too.
    assert stats["changed"].get(CUSTOMER, 0) == 0 and not stats["changed"], [
        (r.get("host"), r.get("task")) for r in job.results() if (r.get("res") or {}).get("changed")]
    assert stats["ok"].get(CUSTOMER, 0) > 0 and not stats.get("failures") and not stats.get("dark"), stats
    assert stats["artifact_data"]["hosts"][CUSTOMER]["health"] == {"frame": 200, "blueprint": 200, "hive": 200, "vault": 200}
    assert world(awx) == before


def test_the_rollout_job_brings_frame_to_v2_and_records_it(awx):
    d = awx.d
    job = awx.job("rollout", "playbooks/rollout.yml", {
        "axe_service": "frame", "service_ref": "v2", "axe_target": CUSTOMER, "axe_rollout_serial": [1],
        "axe_rollout_max_failed": 0})
    assert job.status == "successful" and job.rc == 0, succeeded(job)
    stats = job.stats
    assert stats["changed"].get(CUSTOMER, 0) > 0 and not stats.get("failures") and not stats.get("dark"), stats
    assert stats["artifact_data"]["hosts"][CUSTOMER]["edge"] == {"frame": 200}
    assert d.version("frame") == "2.0.0"  # GET /frame/mcp through the edge
    wanted = yaml.safe_load(d.customers.read_text())["services"]["frame"][CUSTOMER]
    assert wanted["ref"] == "v2", wanted
    assert re.search(rf'(?m)^  frame:\n(?:    .*\n)*    {CUSTOMER}:\n(?:      .*\n)*      ref: "v2"$', d.customers.read_text())


def test_no_secret_is_in_anything_the_pipeline_wrote(awx):
    values = list(SECRETS)  # the pack's client secrets
    values += [awx.vault.get(CUSTOMER, service, env) for service, env in sorted(awx.vault.list(CUSTOMER))]
    secret, key = awx.token.split(".", 2)[2].split(":")
    values += [awx.token, secret, key]  # the vault's access token, and each of its secret parts
    values.append(awx.d.settings["AXE_LAB_CLOUDFLARE_TOKEN"])  # the Cloudflare credential's token (a file, too)
    assert len(awx.jobs) == 4 and all(v and len(v) >= 8 for v in values) and len(values) > 10
    # What the pipeline wrote: each job's `ansible-runner process` OUT dir, receptor's data dir and log; the worker's
    # private data dirs are gone (run_job checks it), and with them the copies of the token's file.
    roots = [job.out for job in awx.jobs] + [awx.base / "data", awx.base / "receptor.log"]
    files = [p for root in roots for p in ([root] if root.is_file() else root.rglob("*")) if p.is_file()]
    assert sum(1 for p in files if p.name.endswith(".json") and "job_events" in p.parts) > 400  # not vacuous
    leaks = sorted({(str(p.relative_to(awx.tmp if awx.tmp in p.parents else awx.base)), v[:6]) for p in files
                    for v in values if v in p.read_bytes().decode("utf-8", "replace")})
    assert leaks == []
    assert not list(awx.base.glob("work-*"))
