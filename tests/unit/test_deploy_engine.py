"""The deploy engine's pure parts: commands as values, release planning, secrets expansion (no host)."""
import json

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils import release
from ansible_collections.axelabs.onboard.plugins.module_utils import service_secrets as ss
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

A, B = "a" * 40, "b" * 40
BG = {"blue": {"service": "frame-mcp-blue"}, "green": {"service": "frame-mcp-green"}}


# ---- commands ----------------------------------------------------------------------------------
def test_compose_commands_pin_the_file_to_the_project_and_never_pull():
    up = cc.compose_up("/Users/axe/.axe/services/frame", "compose.yaml", ["frame-mcp-green"], recreate=True)
    assert up[:6] == ["docker", "compose", "--project-directory", "/Users/axe/.axe/services/frame",
                      "--file", "/Users/axe/.axe/services/frame/compose.yaml"]
    assert ["--pull", "never"] == up[up.index("--pull"):up.index("--pull") + 2]
    assert "--no-deps" in up and "--no-build" in up and "--force-recreate" in up and up[-1] == "frame-mcp-green"
    dry = cc.compose_up("/p", "/abs/compose.yaml", ["x"], dry_run=True)
    assert "--dry-run" in dry and dry[dry.index("--file") + 1] == "/abs/compose.yaml"
    assert "--pull=false" in cc.compose_build("/p", "c.yaml", ["x"])
    run = cc.compose_run_candidate("/p", "c.yaml", "blueprint-app", "blueprint-app-candidate", "127.0.0.1:18094:3000")
    assert run[-5:] == ["--name", "blueprint-app-candidate", "--publish", "127.0.0.1:18094:3000", "blueprint-app"]
    assert "--no-deps" in run and ["--pull", "never"] == run[run.index("--pull"):run.index("--pull") + 2]


def test_git_commands_keep_untracked_deploy_files_and_take_tags():
    assert cc.git_dirty("/d")[-2:] == ["--untracked-files=no", "--ignore-submodules=none"]
    assert "--tags" in cc.git_fetch("/d") and "--detach" in cc.git_checkout("/d", A)
    assert cc.git_ls_remote("git://h/frame.git", "v1")[-2:] == ["v1", "v1^{}"]


def test_ls_remote_prefers_the_peeled_tag():
    out = "%s\trefs/tags/v1\n%s\trefs/tags/v1^{}\n" % (A, B)
    assert cc.parse_ls_remote(out, "v1") == B
    assert cc.parse_ls_remote("%s\trefs/heads/main\n" % A, "main") == A
    assert cc.parse_ls_remote("", "nope") is None


def test_dry_run_output_names_what_would_change():
    lines = [json.dumps({"dry-run": True, "id": "Container frame-mcp-blue", "status": "Running"}),
             json.dumps({"dry-run": True, "id": "Container frame-postgres", "status": "Recreate"}),
             json.dumps({"dry-run": True, "id": "Container 8edc70d22218_frame-postgres", "status": "Started"}),
             json.dumps({"dry-run": True, "id": "Network axe", "status": "Created"}), "not json", "{broken"]
    assert cc.dry_run_changes("\n".join(lines)) == {"frame-postgres": ["Recreate", "Started"]}
    assert cc.dry_run_changes(lines[0]) == {}


def test_external_resources_are_read_from_compose_config():
    config = {"volumes": {"frame-pgdata": {"external": True, "name": "frame-pgdata"}, "cache": {"name": "frame_cache"}},
              "networks": {"axe": {"external": True, "name": "axe"}, "default": {"name": "frame_default"}}}
    assert cc.external_resources(config) == {"volumes": ["frame-pgdata"], "networks": ["axe"]}
    assert cc.external_resources({}) == {"volumes": [], "networks": []}


# ---- release planning --------------------------------------------------------------------------------
def live(colour, commit):
    return dict(release.empty_state(), active=colour, releases={colour: {"commit": commit, "ref": "v1"}})


def test_first_release_goes_to_blue_and_a_new_commit_to_the_idle_colour():
    assert release.plan(release.empty_state(), A, BG)["target"] == "blue"
    p = release.plan(live("blue", A), B, BG)
    assert (p["action"], p["target"], p["previous"]) == ("release", "green", "blue")
    assert release.plan(live("green", A), B, BG)["target"] == "blue"


def test_the_live_commit_without_drift_is_no_release_but_drift_or_force_is():
    assert release.plan(live("blue", A), A, BG)["action"] == "none"
    drifted = release.plan(live("blue", A), A, BG, drift=["frame-mcp-blue"])
    assert drifted["action"] == "release" and drifted["target"] == "green" and "configuration" in drifted["reason"]
    assert release.plan(live("blue", A), A, BG, force=True)["action"] == "release"


def test_single_container_services_release_into_their_one_slot():
    assert release.plan(live("app", A), B, {"app": {}})["target"] == "app"
    assert release.plan(live("app", A), A, {"app": {}})["action"] == "none"


def test_promotion_keeps_the_previous_release_for_rollback_and_a_bounded_history():
    state = live("blue", A)
    new = release.promoted(state, "green", B, "v2", "t1")
    assert new["active"] == "green" and new["previous"] == {"commit": A, "ref": "v1"}
    assert release.rollback_target(new) == {"commit": A, "ref": "v1"}
    assert state["active"] == "blue"  # pure: the input is not changed
    again = new
    for i in range(15):
        again = release.promoted(again, "blue", B, "v2", "t%d" % i)
    assert len(again["history"]) == release.HISTORY
    assert release.rollback_target(release.empty_state()) is None


def test_a_promotion_killed_after_the_switch_is_finished_from_the_staged_record():
    # blue serves A; green was brought up with B (recorded before it started) and the proxy switched to it;
    # the deploy died before saving the state.
    state = release.with_staged(live("blue", A), "green", B, "v2", "t1")
    assert state["staged"] == {"slot": "green", "commit": B, "ref": "v2", "at": "t1"}
    assert release.plan(state, B, BG)["target"] == "green"  # the state alone would overwrite what serves
    found = release.interrupted_promotion(state, "green")
    assert found["commit"] == B
    finished = release.promoted(state, "green", found["commit"], found["ref"], found["at"])
    assert finished["active"] == "green" and "staged" not in finished and finished["previous"]["commit"] == A
    assert release.plan(finished, B, BG)["action"] == "none"
    # Nothing to finish: the proxy points at the live colour, at a colour nothing was staged in, or nowhere.
    assert release.interrupted_promotion(state, "blue") is None
    assert release.interrupted_promotion(release.with_staged(live("blue", A), "blue", B, "v2", "t"), "green") is None
    assert release.interrupted_promotion(live("blue", A), "green") is None
    assert release.interrupted_promotion(state, None) is None
    assert "staged" not in release.without_staged(state) and "staged" in state


def test_releases_env_and_upstream_are_plain_text():
    env = release.releases_env(live("blue", A), staged=("green", B))
    assert "AXE_RELEASE_BLUE=%s\n" % A[:12] in env and "AXE_RELEASE_GREEN=%s\n" % B[:12] in env
    assert "AXE_RELEASE=%s" % A[:12] in release.releases_env(live("app", A))
    assert "set $axe_upstream frame-mcp-green:8000;" in release.upstream_conf("frame-mcp-green", 8000)


# ---- blueprint's two-step swap behind its proxy -------------------------------------------------------
APP, CAND = "blueprint-app", "blueprint-app-candidate"
SINGLE = {"app": {"service": APP, "port": 18095}}
CANDIDATE = {"name": CAND, "port": 18094, "container_port": 3000}
PROXY = {"service": "axe-blueprint-proxy", "upstream_port": 3000, "config_dir": ".axe/proxy", "port": 18083}


class Host(object):
    """A model of the host for the step plans: which release each container runs, which answer, and where
    the proxy points. It refuses what would drop requests: pointing the proxy at a container that does not
    answer, and recreating, stopping or removing the container the proxy points at."""

    def __init__(self, app, candidate, pointed, app_answers=True):
        self.runs = {APP: app, CAND: candidate}
        self.answers = set([CAND] if candidate else []) | set([APP] if app and app_answers else [])
        self.pointed = pointed
        self.served = [self.serving()]

    def serving(self):
        return self.runs.get(self.pointed) if self.pointed in self.answers else None

    def run(self, steps, release_for_up):
        for step in steps:
            kind, name = step[0], (step[1] if len(step) > 1 else None)
            if kind == "point":
                assert name in self.answers, "the proxy would point at %s, which does not answer" % name
                self.pointed = name
            elif kind in ("up", "stop", "remove"):
                assert name != self.pointed, "%s would %s the container the proxy points at" % (step, name)
                self.answers.discard(name)
                self.runs[name] = release_for_up if kind == "up" else None
            elif kind == "healthy":
                self.answers.add(name)
            self.served.append(self.serving())
        return self


def test_the_two_step_swap_always_serves_and_ends_on_the_live_container():
    # stage + candidate health happened: the candidate runs v2 and answers; the role's health check of the
    # recreated blueprint-app sits between promote and settle.
    host = Host(app="v1", candidate="v2", pointed=APP)
    steps = release.promote_steps(APP, CAND) + [("healthy", APP)] + release.settle_steps(APP, CAND)
    host.run(steps, "v2")
    assert None not in host.served and set(host.served) == {"v1", "v2"}
    assert (host.pointed, host.runs) == (APP, {APP: "v2", CAND: None})
    # The order that matters: the proxy leaves blueprint-app before it is recreated, comes back after it answers,
    # and each switch is followed by a drain before what it left is touched.
    assert steps.index(("point", CAND)) < steps.index(("up", APP)) < steps.index(("healthy", APP)) < steps.index(("point", APP))
    assert release.promote_steps(APP, CAND)[1] == ("drain",) and release.settle_steps(APP, CAND)[1] == ("drain",)
    assert release.promote_steps(APP, CAND)[-1] == ("record",)


@pytest.mark.parametrize("phase,pointed,app_answers,expect", [
    # the candidate failed health: blueprint-app was never touched
    ("staged", APP, True, [("remove", CAND)]),
    # promote stopped half-way (after the proxy moved to the candidate): the live release goes back in first
    ("staged", CAND, False, None),
    # the recreated blueprint-app failed health: the candidate serves while the previous release comes back
    ("promoted", CAND, False, None),
    # settle's reload failed after its file was written: the candidate serves again before blueprint-app is touched
    ("promoted", APP, True, None),
])
def test_abort_never_takes_away_what_the_proxy_serves(phase, pointed, app_answers, expect):
    steps = release.abort_steps(APP, CAND, phase, pointed, back=True, candidate_running=True)
    if expect is not None:
        assert steps == expect
    host = Host(app="v2" if phase == "promoted" else "v1", candidate="v2", pointed=pointed, app_answers=app_answers)
    host.run(steps, "v1")
    assert None not in host.served, (steps, host.served)
    assert (host.pointed, host.runs[APP], host.runs[CAND]) == (APP, "v1", None)


def test_abort_of_a_first_release_leaves_nothing_running():
    assert release.abort_steps(APP, CAND, "staged", CAND, back=False, candidate_running=False) == [("remove", CAND), ("stop", APP)]
    assert release.abort_steps(APP, CAND, "promoted", CAND, back=False, candidate_running=True) == [("remove", CAND), ("stop", APP)]


def test_the_proxy_points_at_the_live_slot_or_on_a_first_release_at_the_staged_one():
    assert release.proxy_upstream(live("app", A), SINGLE, PROXY, "app", CANDIDATE) == (APP, 3000)
    assert release.proxy_upstream(release.empty_state(), SINGLE, PROXY, "app", CANDIDATE) == (CAND, 3000)
    frame_proxy = {"service": "axe-frame-proxy", "upstream_port": 8000}
    assert release.proxy_upstream(live("blue", A), BG, frame_proxy, "green") == ("frame-mcp-blue", 8000)
    assert release.proxy_upstream(release.empty_state(), BG, frame_proxy, "blue") == ("frame-mcp-blue", 8000)
    assert release.proxy_upstream(release.empty_state(), BG, frame_proxy) is None
    for name, port in ((APP, 3000), (CAND, 3000), ("frame-mcp-green", 8000)):
        assert release.parse_upstream(release.upstream_conf(name, port)) == (name, port)
    assert release.parse_upstream(None) is None and release.parse_upstream("# nothing\n") is None


# ---- what serves, measured after a failure ----------------------------------------------------------
def test_what_is_measured_is_the_proxys_port_and_the_container_it_points_at():
    points = release.measure_points(SINGLE, proxy=PROXY, candidate=CANDIDATE, pointed=CAND, active="app")
    assert [p["url"] for p in points] == ["http://127.0.0.1:18083/health/ready", "http://127.0.0.1:18094/health/ready"]
    assert points[0]["what"] == "axe-blueprint-proxy, what cloudflared forwards to"
    assert points[1]["what"] == "blueprint-app-candidate, the container the proxy points at"
    frame = dict(BG, blue=dict(BG["blue"], port=18090), green=dict(BG["green"], port=18091))
    points = release.measure_points(frame, proxy={"service": "axe-frame-proxy", "port": 18080}, pointed="frame-mcp-green",
                                    external_path="/frame/health/ready")
    assert [p["url"] for p in points] == ["http://127.0.0.1:18080/frame/health/ready", "http://127.0.0.1:18091/health/ready"]
    # No proxy: the live slot; the proxy pointing nowhere known: only the proxy's port.
    assert [p["url"] for p in release.measure_points(SINGLE, active="app")] == ["http://127.0.0.1:18095/health/ready"]
    assert len(release.measure_points(SINGLE, proxy=PROXY, pointed=None)) == 1


def test_the_measured_sentence_says_status_and_reported_version_or_that_nothing_answers():
    ok = json.dumps({"service": "blueprint", "version": "2.0.0", "colour": "", "ready": True})
    green = json.dumps({"version": "1.0.0", "colour": "green"})
    assert release.answer_summary(200, ok) == "answers 200, version 2.0.0"
    assert release.answer_summary(200, green) == "answers 200, version 1.0.0 (green)"
    assert release.answer_summary(502, "<html>Bad Gateway</html>") == "answers 502"
    assert release.answer_summary(0, "[Errno 111] Connection refused") == "nothing answers ([Errno 111] Connection refused)"
    points = release.measure_points(SINGLE, proxy=PROXY, candidate=CANDIDATE, pointed=APP)
    points[0].update(status=200, body=ok)
    points[1].update(status=0, body="timed out")
    assert release.measured_sentence(points) == (
        "measured on the host after the failure: http://127.0.0.1:18083/health/ready (axe-blueprint-proxy, what cloudflared"
        " forwards to) answers 200, version 2.0.0; http://127.0.0.1:18095/health/ready (blueprint-app, the container the"
        " proxy points at) nothing answers (timed out)")
    assert "nothing to ask" in release.measured_sentence([])


# ---- secrets ---------------------------------------------------------------------------------------------
FRAME = [{"env": "FRAME_{CUSTOMER}_DB_PASSWORD", "as": "FRAME_DB_PASSWORD", "auto_generate": True},
         {"env": "AZURE_{CUSTOMER}_FRAME_MCP_CLIENT_SECRET", "as": "AZURE_AD_CLIENT_SECRET", "source": "pack"},
         {"env": "PII_{ENTITY}_PASSPHRASE_1", "per_entity": True, "auto_generate": True},
         {"env": "PII_{ENTITY}_PASSPHRASE_2", "per_entity": True, "auto_generate": True},
         {"env": "OPS_{CUSTOMER}_RESTIC_KEY", "as": "RESTIC_KEY"}]


def test_expand_fills_customer_and_entities_and_keeps_owners():
    out = ss.expand(FRAME, "frame", "acme-co", ["acme-kr", "acme-us"])
    names = [s["env"] for s in out]
    assert names == ["FRAME_ACME_CO_DB_PASSWORD", "AZURE_ACME_CO_FRAME_MCP_CLIENT_SECRET", "PII_ACME_KR_PASSPHRASE_1",
                     "PII_ACME_US_PASSPHRASE_1", "PII_ACME_KR_PASSPHRASE_2", "PII_ACME_US_PASSPHRASE_2", "OPS_ACME_CO_RESTIC_KEY"]
    assert {s["owner"] for s in out} == {"frame"} and out[0]["as"] == "FRAME_DB_PASSWORD"
    hive = ss.expand([{"env": "FRAME_{CUSTOMER}_MCP_TOKEN", "owner": "frame", "auto_generate": True}], "hive", "acme", [])
    assert hive[0]["owner"] == "frame" and hive[0]["source"] == "generated"


def test_entities_that_collide_in_env_names_are_refused():
    with pytest.raises(ProductError, match="both become PII_A_B_PASSPHRASE_1"):
        ss.expand(FRAME, "frame", "acme", ["a-b", "a_b"])


def test_every_missing_secret_is_named_at_once_with_its_fix():
    secrets = ss.expand(FRAME, "frame", "acme", ["acme-kr"])
    gaps = ss.missing(secrets, {"frame": [{"env": "OPS_ACME_RESTIC_KEY"}]}, {}, "acme")
    assert [g[0] for g in gaps] == ["AZURE_ACME_FRAME_MCP_CLIENT_SECRET", "OPS_ACME_RESTIC_KEY"]
    pack_gap, listed_gap = gaps
    assert "no slot in services.frame.acme" in pack_gap[1] and "axe customers ingest acme" in pack_gap[2]
    assert listed_gap[1] == "in the manifest, not in the vault" and listed_gap[2].startswith("axe secret push OPS_ACME_RESTIC_KEY")
    unlisted = ss.missing(secrets, {}, {}, "acme")[1]
    assert "add {env: OPS_ACME_RESTIC_KEY} to services.frame.acme.secrets" in unlisted[2]
    in_vault = dict((s["env"], True) for s in secrets)
    assert ss.missing(secrets, {}, in_vault, "acme") == []


def test_generated_secrets_get_manifest_slots():
    secrets = ss.expand(FRAME, "frame", "acme", ["acme-kr"])
    slots = ss.slots_to_add(secrets, {"frame": [{"env": "FRAME_ACME_DB_PASSWORD"}]})
    assert slots == {"frame": ["PII_ACME_KR_PASSPHRASE_1", "PII_ACME_KR_PASSPHRASE_2"]}


def test_entities_get_legal_names_their_passphrase_names_and_settings():
    entry = {"legal_name": "ACME Korea", "entities": ["acme-kr", "acme-us"], "entity_names": {"acme-us": "ACME US Inc."},
             "entity_settings": {"acme-us": {"accounting_standard": "usgaap"}}}
    assert ss.entities(entry) == [
        {"id": "acme-kr", "legal_name": "ACME Korea", "env": ["PII_ACME_KR_PASSPHRASE_1", "PII_ACME_KR_PASSPHRASE_2"],
         "settings": {}},
        {"id": "acme-us", "legal_name": "ACME US Inc.", "env": ["PII_ACME_US_PASSPHRASE_1", "PII_ACME_US_PASSPHRASE_2"],
         "settings": {"accounting_standard": "usgaap"}}]


def test_an_entity_s_args_take_its_settings_then_the_service_s_defaults_and_never_format_a_name():
    import importlib
    se = importlib.import_module("ansible_collections.axelabs.onboard.plugins.modules.service_entities")
    args = ["--kind", "{kind}", "--accounting-standard", "{accounting_standard}"]
    defaults = {"kind": "corporate", "accounting_standard": "ksme"}
    entity = {"id": "x", "legal_name": "{kind} 주식회사", "args": args, "settings": {"accounting_standard": "usgaap"}}
    assert se.entity_args(entity, defaults) == ["--kind", "corporate", "--accounting-standard", "usgaap"]
    with pytest.raises(se.ProductError, match="no value for 'kind'"):
        se.entity_args(dict(entity, settings={}), {})


def test_render_env_names_what_the_entry_lacks():
    templates = {"AZURE_AD_TENANT_ID": "{sso[tenant_id]}", "AZURE_AD_CLIENT_ID": "{sso[apps][blueprint][client_id]}",
                 "NEXTAUTH_URL": "https://{public_domain}"}
    env, missing = ss.render_env(templates, {"public_domain": "acme.axelabs.ai", "sso": {"provider": "microsoft_entra_id"}})
    assert env["NEXTAUTH_URL"] == "https://acme.axelabs.ai"
    assert missing == ["AZURE_AD_CLIENT_ID", "AZURE_AD_TENANT_ID"]
    full = {"public_domain": "a.axelabs.ai", "sso": {"tenant_id": "t", "apps": {"blueprint": {"client_id": "c"}}}}
    assert ss.render_env(templates, full) == ({"AZURE_AD_TENANT_ID": "t", "AZURE_AD_CLIENT_ID": "c",
                                               "NEXTAUTH_URL": "https://a.axelabs.ai"}, [])
    # Any value: .env.local quotes it (env_file.quote), so a legal name with quotes is a value like any other.
    assert ss.render_env({"X": "{legal_name}"}, {"legal_name": "O'Brien \"주\""}) == ({"X": "O'Brien \"주\""}, [])


def test_env_file_values_are_one_double_quoted_line_with_every_special_escaped():
    from ansible_collections.axelabs.onboard.plugins.module_utils import env_file
    assert env_file.quote("plain") == '"plain"'
    assert env_file.quote("it's \"$5\" \\ #x") == '"it\'s \\"\\$5\\" \\\\ #x"'
    assert env_file.quote("a\nB=1\r\t") == '"a\\nB=1\\r\\t"'
    assert env_file.quote("ends with \\") == '"ends with \\\\"'
    assert env_file.quote("제타 😀") == '"제타 😀"'
    # Whatever the value, the line cannot end early: no raw line break, and every quote inside is escaped.
    for value in ("\n\n", "\"\n", "\\\"", "x\\\nY=2"):
        quoted = env_file.quote(value)
        assert "\n" not in quoted and "\r" not in quoted
        assert quoted[0] == quoted[-1] == '"' and '"' not in quoted[1:-1].replace('\\"', "").replace("\\\\", "")
