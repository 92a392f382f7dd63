"""customers.yaml: validation with file:line:path, byte-preserving writes, T23, the lock, atomicity."""
from __future__ import annotations

import os
import re
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
from helpers.samples import CUSTOMERS_YAML, PACK


def write(tmp_path, text=CUSTOMERS_YAML):
    path = tmp_path / "customers.yaml"
    path.write_text(text)
    return path


def ingest_text(path, customer="acme", pack=PACK):
    f = cf.CustomersFile(str(path)).load()
    cf.apply_pack(f.document, customer, pack)
    return f, f.render()


def test_unchanged_document_renders_byte_identical(tmp_path):
    f = cf.CustomersFile(str(write(tmp_path))).load()
    assert f.render() == CUSTOMERS_YAML


def test_ingest_touches_only_the_customer_and_its_manifest_slots(tmp_path):
    f, new = ingest_text(write(tmp_path))
    old_lines, new_lines = CUSTOMERS_YAML.splitlines(), new.splitlines()
    # Everything from realchoice's comment to the end of beta stays exactly as written.
    start = old_lines.index("  # graduated to self-deploy (D-ops-40): no services manifest on purpose")
    end = old_lines.index("services:")
    block = old_lines[start:end]
    at = new_lines.index(block[0])
    assert new_lines[at:at + len(block)] == block
    assert "    - rc-main       # the only entity" in new_lines  # odd indentation kept
    assert '        - {env: "FRAME_BETA_DB_PASSWORD", auto_generate: true}' in new_lines
    data = cf.plain(cf._yaml().load(new))
    assert data["customers"]["acme"]["sso"]["tenant_id"] == PACK["tenant_id"]
    assert data["services"]["frame"]["beta"]["secrets"][0]["env"] == "FRAME_BETA_DB_PASSWORD"
    assert [s["env"] for s in data["services"]["frame"]["acme"]["secrets"]] == ["AZURE_ACME_FRAME_MCP_CLIENT_SECRET"]
    # No secret value ever lands in the file.
    for app in PACK["apps"].values():
        assert app["client_secret"] not in new


def test_ingest_twice_is_a_fixed_point(tmp_path):
    path = write(tmp_path)
    f, once = ingest_text(path)
    f.write(once)
    f2, twice = ingest_text(path)
    assert twice == once


def test_validation_names_file_line_and_path(tmp_path):
    bad = CUSTOMERS_YAML.replace('public_domain: "beta.axelabs.ai"', 'public_domain: "Not A Domain"')
    with pytest.raises(ProductError) as err:
        cf.CustomersFile(str(write(tmp_path, bad))).load()
    text = str(err.value)
    line = bad.splitlines().index('    public_domain: "Not A Domain"') + 1
    assert f"customers.yaml:{line}: customers.beta.public_domain: 'Not A Domain' does not have the expected form" in text
    assert "nothing was changed" in text


def test_missing_required_keys_are_listed_t01(tmp_path):
    bad = CUSTOMERS_YAML.replace('    tailscale_host: "beta-macmini"\n', "")
    with pytest.raises(ProductError, match=r"customers.beta: 'tailscale_host' is a required property"):
        cf.CustomersFile(str(write(tmp_path, bad))).load()


def test_unknown_customer_is_t01_with_the_add_command(tmp_path):
    f = cf.CustomersFile(str(write(tmp_path))).load()
    with pytest.raises(ProductError) as err:
        f.entry("gamma")
    assert err.value.trap == "T01" and "axe customers add gamma" in err.value.next_step


def test_unsafe_customer_key_is_refused_t25(tmp_path):
    bad = CUSTOMERS_YAML.replace("  beta:\n", "  Beta_Corp:\n")
    with pytest.raises(ProductError, match="Beta_Corp"):
        cf.CustomersFile(str(write(tmp_path, bad))).load()


def test_directory_in_place_of_the_file_t23(tmp_path):
    empty = tmp_path / "empty" / "customers.yaml"
    empty.mkdir(parents=True)
    f = cf.CustomersFile(str(empty)).load(allow_missing=True)
    f.write(cf.EMPTY_FILE)
    assert empty.is_file()
    full = tmp_path / "full" / "customers.yaml"
    full.mkdir(parents=True)
    (full / "something").write_text("x")
    with pytest.raises(ProductError) as err:
        cf.CustomersFile(str(full)).load()
    assert err.value.trap == "T23" and "not empty" in err.value.message


def test_write_is_atomic_keeps_a_backup_and_the_mode(tmp_path):
    path = write(tmp_path)
    os.chmod(path, 0o640)
    f, new = ingest_text(path)
    f.write(new)
    assert path.read_text() == new
    assert (tmp_path / "customers.yaml.bak").read_text() == CUSTOMERS_YAML
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_an_invalid_result_is_never_written(tmp_path):
    path = write(tmp_path)
    f = cf.CustomersFile(str(path)).load()
    f.document["customers"]["acme"]["public_domain"] = "bad domain"
    with pytest.raises(ProductError):
        f.write(f.render())
    assert path.read_text() == CUSTOMERS_YAML


def test_lock_excludes_a_second_writer_and_names_the_holder(tmp_path):
    path = str(write(tmp_path))
    held = threading.Event()
    release = threading.Event()

    def holder():
        with cf.FileLock(path):
            held.set()
            release.wait(5)
    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    started = time.monotonic()
    with pytest.raises(ProductError) as err:
        with cf.FileLock(path, wait=0.5):
            pass
    assert time.monotonic() - started >= 0.5
    assert "locked by another run" in err.value.message and f"pid {os.getpid()}" in err.value.message
    release.set()
    t.join()
    with cf.FileLock(path, wait=0.5):
        pass


def test_splice_keeps_original_layout_outside_changes():
    original = "a:\n- 1\n- 2\nb: x   # note\n"
    before = "a:\n  - 1\n  - 2\nb: x   # note\n"
    after = "a:\n  - 1\n  - 2\nb: y   # note\n"
    assert cf.splice(original, before, after) == "a:\n- 1\n- 2\nb: y   # note\n"


# ---- property: other customers' bytes and comments survive an ingest -------------------
OTHER_LINES = [i for i, line in enumerate(CUSTOMERS_YAML.splitlines())
               if CUSTOMERS_YAML.splitlines().index("  # graduated to self-deploy (D-ops-40): no services manifest on purpose") <= i
               < CUSTOMERS_YAML.splitlines().index("services:")]
comment_text = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters=" -_.:#'\"가나다"),
                       max_size=30)
legal_name = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters=" .,&-"),
                     min_size=1, max_size=30).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(comments=st.lists(st.tuples(st.sampled_from(OTHER_LINES), comment_text), max_size=6),
       name=legal_name, quote=st.sampled_from(['"{}"', "'{}'"]))
def test_random_comments_and_edits_elsewhere_survive_byte_for_byte(tmp_path, comments, name, quote):
    lines = CUSTOMERS_YAML.splitlines()
    lines[lines.index("    legal_name: 'RealChoice Inc.'")] = "    legal_name: " + quote.format(name.replace("'", "''") if quote.startswith("'") else name.replace('"', ''))
    for index, text in sorted(comments, reverse=True):
        indent = re.match(r"^\s*", lines[index]).group(0)
        lines.insert(index, f"{indent}# {text}".rstrip())
    original = "\n".join(lines) + "\n"
    path = tmp_path / "prop.yaml"
    path.write_text(original)
    f, new = ingest_text(path)
    start = lines.index("  # graduated to self-deploy (D-ops-40): no services manifest on purpose") \
        if "  # graduated to self-deploy (D-ops-40): no services manifest on purpose" in lines else None
    block = lines[min(OTHER_LINES):lines.index("services:")] if start is None else lines[start:lines.index("services:")]
    new_lines = new.splitlines()
    joined = "\n".join(new_lines)
    assert "\n".join(block) in joined, "another customer's lines changed"
    assert lines[0] == new_lines[0]


def test_a_killed_writers_temp_file_is_swept_by_the_next_write(tmp_path):
    import subprocess
    gone = subprocess.Popen(["true"])  # a pid that has exited
    gone.wait()
    target = tmp_path / "customers.yaml"
    target.write_text("customers: {}\n")
    left = tmp_path / (".customers.yaml.%d.tmp" % gone.pid)
    left.write_text("half")
    alive = tmp_path / (".customers.yaml.%d.tmp" % os.getppid())  # a writer that still runs
    alive.write_text("in progress")
    other = tmp_path / ".other.yaml.1.tmp"
    other.write_text("not ours")
    cf._atomic_write(str(target), "customers: {a: 1}\n")
    assert not left.exists() and alive.exists() and other.exists()
    assert target.read_text() == "customers: {a: 1}\n"


def test_one_public_domain_is_one_customers(tmp_path):
    from ansible_collections.axelabs.onboard.plugins.module_utils import trap_checks
    path = tmp_path / "customers.yaml"
    path.write_text(CUSTOMERS_YAML)
    f = cf.CustomersFile(str(path)).load()
    assert f.sharing_public_domain("beta") == [] and f.sharing_public_domain("beta", "ACME.axelabs.ai.") == ["acme"]
    # A write that would give beta acme's public name is refused, naming both; the file is untouched.
    shared = CUSTOMERS_YAML.replace('public_domain: "beta.axelabs.ai"', 'public_domain: "acme.axelabs.ai"')
    with pytest.raises(ProductError) as err:
        f.write(shared)
    assert "acme and beta have the same public_domain acme.axelabs.ai" in str(err.value)
    assert path.read_text() == CUSTOMERS_YAML
    # One written by hand: the ingest refuses the customer, and the preflight reports it (T02) with the fix.
    path.write_text(shared)
    hand = cf.CustomersFile(str(path)).load()
    with pytest.raises(ProductError) as err:
        hand.refuse_shared_public_domain("beta")
    assert "public_domain acme.axelabs.ai is already acme's" in str(err.value)
    [finding] = [f for f in trap_checks.customer_entry(str(path), "beta")[0] if f["trap"] == "T02"]
    assert "also acme's" in finding["problem"] and "axe customers add beta --public-domain" in finding["next_step"]


# The read-only fast path (the inventory's): the same data as the round-trip parse, or no answer at all.
TRICKY_SCALARS = ['yes', 'NO', 'on', 'off', '0777', '0o17', '0x1f', '1:20', '1_000', '2026-01-01', '~', '.inf',
                  '"법인명 \\"주식회사\\""', "'It''s'", '12e3', 'null', 'True', '+1', '-0']


def test_read_fast_gives_what_the_round_trip_parse_gives():
    for text in [CUSTOMERS_YAML] + ["customers: {}\nx:\n  v: %s\n" % v for v in TRICKY_SCALARS]:
        assert cf.read_fast(text, "c.yaml") == cf.plain(cf.parse(text, "c.yaml")), text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
@settings(max_examples=300, deadline=None)
def test_read_fast_never_disagrees_with_parse(value):
    text = "customers: {}\nx:\n  - %s\n  - k: %s\n  - \"%s\"\n  - '%s'\n" % (value, value, value, value)
    fast = cf.read_fast(text, "c.yaml")
    try:
        expected = cf.plain(cf.parse(text, "c.yaml"))
    except ProductError:
        assert fast is None
    else:
        assert fast is None or fast == expected


@pytest.mark.parametrize("text", ["customers:\n  a: 1\n  a: 2\n", "customers: [\n", "a: &x [*x]\n",
                                  "customers: " + "[" * 200 + "]" * 200 + "\n"])
def test_read_fast_leaves_every_problem_to_the_parse_that_names_the_line(text):
    assert cf.read_fast(text, "c.yaml") is None


def test_a_read_only_load_is_the_same_registry_and_cannot_be_written(tmp_path):
    path = tmp_path / "customers.yaml"
    path.write_text(CUSTOMERS_YAML, encoding="utf-8")
    fast = cf.CustomersFile(str(path)).load(readonly=True)
    full = cf.CustomersFile(str(path)).load()
    assert fast.readonly and cf.plain(full.document) == fast.document
    assert {c: fast.manifest(c) for c in fast.customers} == cf.plain({c: full.manifest(c) for c in full.customers})
    with pytest.raises(ProductError, match="read-only"):
        fast.render()


def test_a_read_only_load_of_a_bad_registry_reports_as_the_full_load_does(tmp_path):
    path = tmp_path / "customers.yaml"
    path.write_text(CUSTOMERS_YAML.replace("customers:", "customers:\n  bad key: {}", 1), encoding="utf-8")
    with pytest.raises(ProductError) as fast:
        cf.CustomersFile(str(path)).load(readonly=True)
    with pytest.raises(ProductError) as full:
        cf.CustomersFile(str(path)).load()
    assert str(fast.value) == str(full.value) and fast.value.details == full.value.details
