"""Packs and customers.yaml as they really arrive (issue 14, item 6): BOMs, duplicate keys, invisible
characters, lookalike ids, FIFOs and devices, huge or deeply nested files, alias bombs, non-UTF-8
bytes, files that are not ours, symlinks. Each is accepted, or refused by a ProductError that names
the file and the field, says what to do next, and shows no secret and none of a file that is not ours.
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time

import jsonschema
import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils import pack as packs
from ansible_collections.axelabs.onboard.plugins.module_utils import schemas, validation
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
from helpers.samples import CUSTOMERS_YAML, PACK, SECRETS, pack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = PACK["apps"]["blueprint"]["client_secret"]


def pack_bytes(data=PACK, indent=2):
    return json.dumps(data, indent=indent).encode("utf-8")


def refused(fn, *args, **kwargs) -> ProductError:
    """The ProductError fn raises; every one has a next step an operator can act on."""
    with pytest.raises(ProductError) as err:
        fn(*args, **kwargs)
    assert err.value.next_step, "a refusal without a next step: %s" % err.value
    return err.value


def read_pack(tmp_path, raw: bytes, fmt="json", name="axelabs-bootstrap-acme.json"):
    path = tmp_path / name
    path.write_bytes(raw)
    return packs.read(str(path), fmt)


def check(data):
    return packs.check(data, "acme", "acme.axelabs.ai", "pack.json")


def no_piece_of(secret: str, text: str, size=8):
    """No `size`-character piece of the secret (nor all of a shorter one) is in the text."""
    if len(secret) < size:
        assert secret not in text
    for start in range(len(secret) - size + 1):
        assert secret[start:start + size] not in text, "a piece of the secret is in: %s" % text


# The bound says "refused at once, no blow-up" (a bomb or a hang would take minutes), not a speed figure (the bench
# scripts measure speed): it holds on a 2-core machine running the whole suite in parallel.
AT_ONCE = 10


def within(seconds, fn, *args):
    """fn(*args) in a thread: its result or exception, or a failure when it takes longer (never a hang)."""
    out = {}

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc
    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "still running after %ss (blocked?)" % seconds
    out["seconds"] = time.monotonic() - started
    return out


# ---- the pack: encodings -----------------------------------------------------------------------
@pytest.mark.parametrize("encode", [
    pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="utf-8 BOM (PowerShell 5.1 Out-File -Encoding utf8, Notepad)"),
    pytest.param(lambda b: b"\xff\xfe" + b.decode().encode("utf-16-le"), id="utf-16 LE BOM (PowerShell 5.1 Out-File)"),
    pytest.param(lambda b: b"\xfe\xff" + b.decode().encode("utf-16-be"), id="utf-16 BE BOM"),
    pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="CRLF line ends"),
])
def test_packs_as_windows_writes_them_are_accepted(tmp_path, encode):
    data = read_pack(tmp_path, encode(pack_bytes()))
    assert data == PACK
    assert check(data) == []


def test_the_text_form_with_a_bom_and_crlf_is_accepted(tmp_path):
    from test_pack import TEXT
    data = read_pack(tmp_path, b"\xef\xbb\xbf" + TEXT.replace("\n", "\r\n").encode(), fmt="text", name="pack.txt")
    assert check(data) == []
    assert packs.secrets(data, "acme") == packs.secrets(PACK, "acme")


def test_a_pack_in_a_windows_code_page_names_the_line_and_the_byte(tmp_path):
    raw = json.dumps(pack(note="ACME 코리아"), indent=2, ensure_ascii=False).encode().replace("코리아".encode(), "코리아".encode("cp949"))
    err = refused(read_pack, tmp_path, raw)
    line = raw.split(b"\n").index(next(x for x in raw.split(b"\n") if b"note" in x)) + 1
    assert "axelabs-bootstrap-acme.json:%d: byte 0x" % line in err.message and "not UTF-8" in err.message
    assert "UTF-8" in err.next_step


# ---- the pack: duplicate keys ------------------------------------------------------------------
@pytest.mark.parametrize("text, where", [
    ('{"schema": "axelabs-bootstrap/v1", "tenant_id": "a", "tenant_id": "b", "apps": {}}', "(top level): the key 'tenant_id'"),
    ('{"apps": {"blueprint": {"client_id": "x", "client_secret": "%s", "client_secret": "%s-2"}}}' % (SECRET, SECRET),
     "apps.blueprint: the key 'client_secret'"),
    ('{"apps": {"frame_mcp": {"redirect_uris": [{"a": 1, "a": 2}]}}}', "apps.frame_mcp.redirect_uris[0]: the key 'a'"),
])
def test_duplicate_keys_are_refused_naming_the_key_and_where(tmp_path, text, where):
    err = refused(read_pack, tmp_path, text.encode())
    assert where in err.message and "appears twice" in err.message
    no_piece_of(SECRET, str(err))


def test_duplicate_names_in_the_text_form_are_refused():
    from test_pack import TEXT
    err = refused(packs.parse_text, TEXT + "blueprint_client_secret: other-secret-value\n")
    assert "blueprint_client_secret is given twice (first on line 4)" in err.message
    assert "other-secret-value" not in str(err)


# ---- the pack: invisible and unsafe characters, refused by the schema itself --------------------
BAD_CHARS = [
    ("\n", "ends with a newline"), ("\r\n", "ends with a newline"), ("\x00", "NUL"), ("\x1b", "ESC"),
    ("\x7f", "DEL"), ("\x85", "control character"),
] + [(chr(c), "bidirectional-text control") for c in list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))] \
  + [(chr(c), "zero-width") for c in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)] \
  + [("\ud800", "lone surrogate"), ("\udfff", "lone surrogate")]
FIELDS = ["customer", "tenant_id", "apps.blueprint.client_id", "apps.vaultwarden.client_id",
          "apps.frame_mcp.client_secret", "apps.blueprint.client_secret", "apps.frame_mcp.application_id_uri"]


def _with(field, char):
    value = pack(**{})
    node = value
    for part in field.split(".")[:-1]:
        node = node[part]
    last = field.split(".")[-1]
    # Control characters and bidi/zero-width ones go inside the value; a newline at its end.
    node[last] = node[last] + char if char.endswith("\n") else node[last][:5] + char + node[last][5:]
    return value


@pytest.mark.parametrize("char, problem", BAD_CHARS, ids=["U+%04X" % ord(c[-1]) for c, _ in BAD_CHARS])
@pytest.mark.parametrize("field", FIELDS)
def test_unsafe_characters_are_refused_by_the_schema_naming_the_field(field, char, problem):
    bad = _with(field, char)
    # The schema alone refuses it: so do plain ansible-playbook, AWX, and editors using the exported file.
    assert not jsonschema.Draft202012Validator(schemas.PACK_SCHEMA).is_valid(bad)
    err = refused(check, bad)
    lines = [d for d in err.details if ": %s: " % field in d]
    assert lines and problem in lines[0], err.details
    if "secret" in field:
        no_piece_of(bad["apps"][field.split(".")[1]]["client_secret"], str(err))
        assert "(a secret, not shown)" in lines[0]


def test_exported_schemas_are_the_module_utils_ones():
    for name, schema in (("customers.schema.json", schemas.CUSTOMERS_SCHEMA),
                         ("axelabs-bootstrap-v1.schema.json", schemas.PACK_SCHEMA)):
        with open(os.path.join(ROOT, "schemas", name), encoding="utf-8") as fh:
            assert json.load(fh) == schema, "run scripts/export_schemas.py"


def test_the_exported_pack_schema_refuses_a_bidi_override_in_a_json_file(tmp_path):
    with open(os.path.join(ROOT, "schemas", "axelabs-bootstrap-v1.schema.json"), encoding="utf-8") as fh:
        exported = json.load(fh)
    # As the JSON arrives: escapes, so the file itself is plain ASCII.
    raw = pack_bytes().replace(b'"acme"', b'"ac\\u202eme"').replace(b'"3f2b8c1e', b'"\\ud8003f2b8c1e')
    data = read_pack(tmp_path, raw)
    assert not jsonschema.Draft202012Validator(exported).is_valid(data)
    err = refused(check, data)
    text = str(err)
    assert "customer: 'ac\\u202eme' contains a bidirectional-text control, U+202E RIGHT-TO-LEFT OVERRIDE" in text
    assert "tenant_id: '\\ud8003f2b8c1e" in text and "lone surrogate" in text


def test_schema_patterns_refuse_what_pythons_dollar_lets_through():
    # re.search("^[a-z]+$", "acme\n") matches: every pattern is guarded against it.
    for pattern in (schemas.CUSTOMER_ID, schemas.UUID, schemas.HOSTNAME, schemas.ENV_NAME, schemas.ENTITY_ID,
                    schemas.CLIENT_SECRET):
        good = {schemas.CUSTOMER_ID: "acme", schemas.UUID: PACK["tenant_id"], schemas.HOSTNAME: "acme.axelabs.ai",
                schemas.ENV_NAME: "AZURE_X", schemas.ENTITY_ID: "acme-kr", schemas.CLIENT_SECRET: SECRET}[pattern]
        assert re.search(pattern, good)
        assert not re.search(pattern, good + "\n")


def test_ordinary_text_stays_accepted():
    # Korean legal names, accents, dashes: only the invisible and control characters go.
    assert re.search(schemas.SAFE_TEXT, "ACME 코리아 주식회사 (Société) — ltd.")
    assert load_text("ACME 코리아 주식회사").customers["beta"]["legal_name"] == "ACME 코리아 주식회사"


def load_text(legal_name):
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "customers.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(CUSTOMERS_YAML.replace('"Beta"', '"%s"' % legal_name))
        return cf.CustomersFile(path).load()


# ---- the pack: two apps, one client id ---------------------------------------------------------
def test_the_same_client_id_in_another_letter_case_is_refused():
    same = PACK["apps"]["blueprint"]["client_id"].upper()
    err = refused(check, pack(**{"apps.frame_mcp.client_id": same}))
    assert any("two apps share a client_id (apps.blueprint.client_id and apps.frame_mcp.client_id, compared in any "
               "letter case)" in d for d in err.details)


# ---- the pack: what is not a file, or far too large ------------------------------------------
def test_a_pack_of_exactly_64_kib_is_read_and_one_byte_more_is_not(tmp_path):
    raw = pack_bytes()
    path = tmp_path / "pack.json"
    path.write_bytes(raw + b" " * (packs.MAX_PACK_BYTES - len(raw)))
    assert packs.read(str(path)) == PACK
    path.write_bytes(raw + b" " * (packs.MAX_PACK_BYTES - len(raw) + 1))
    err = refused(packs.read, str(path))
    assert "is 65537 bytes, larger than any real one: a pack is at most 64 KiB" in err.message


def test_a_huge_pack_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    path = tmp_path / "pack.json"
    with open(path, "wb") as fh:
        fh.truncate(50 * 1024 ** 3)  # sparse: 50 GiB that would take minutes to read

    def no_open(*args):
        raise AssertionError("opened")
    monkeypatch.setattr(validation.os, "open", no_open)
    out = within(AT_ONCE, packs.read, str(path))
    assert isinstance(out["error"], ProductError) and "53687091200 bytes" in out["error"].message


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "a named pipe (FIFO)"),
    (lambda p: os.symlink("/dev/zero", p), "a character device"),
    (lambda p: os.symlink("/dev/null", p), "a character device"),
    (lambda p: os.mkdir(p), "a directory"),
])
def test_fifos_devices_and_directories_are_refused_without_reading(tmp_path, monkeypatch, make, kind):
    path = str(tmp_path / "axelabs-bootstrap-acme.json")
    make(path)
    opened = []
    real_open = os.open
    monkeypatch.setattr(validation.os, "open", lambda *a: opened.append(a) or real_open(*a))
    out = within(AT_ONCE, packs.read, path)
    err = out["error"]
    assert isinstance(err, ProductError), out
    assert "the pack %s is %s, not a file" % (path, kind) in err.message and err.next_step
    assert opened == []


def test_a_fifo_swapped_in_after_the_check_does_not_block(tmp_path, monkeypatch):
    """The path is a file at os.stat and a FIFO at os.open: the open does not block, the fstat refuses."""
    path = str(tmp_path / "pack.json")
    os.mkfifo(path)
    regular = os.stat(__file__)
    real_stat = os.stat
    monkeypatch.setattr(validation.os, "stat", lambda p, *a, **k: regular if p == path else real_stat(p, *a, **k))
    out = within(AT_ONCE, packs.read, path)
    assert isinstance(out.get("error"), ProductError), out
    assert "is a named pipe (FIFO), not a file" in out["error"].message


# ---- the pack: deep nesting --------------------------------------------------------------------
@pytest.mark.parametrize("depth", [40, 900, 30000])
def test_deep_nesting_is_a_named_error(tmp_path, depth):
    raw = b'{"schema": "axelabs-bootstrap/v1", "note": ' + b"[" * depth + b"]" * depth + b"}"
    out = within(AT_ONCE, read_pack, tmp_path, raw)
    err = out.get("error")
    assert isinstance(err, ProductError), out
    assert "nested" in err.message and "32 levels" in err.message


# ---- secrets never echoed ----------------------------------------------------------------------
@pytest.mark.parametrize("secret, problem", [
    (SECRET + " ", "ends with a space"),
    (" " + SECRET, "starts with a space"),
    (SECRET[:20] + " " + SECRET[20:], "contains a space at character 21 of %d" % (len(SECRET) + 1)),
    (SECRET + "\n", "ends with a newline"),
    (SECRET[:10] + "\u200b" + SECRET[10:], "zero-width character, U+200B ZERO WIDTH SPACE at character 11 of %d" % (len(SECRET) + 1)),
    (SECRET[:10] + "é" + SECRET[10:], "U+00E9 LATIN SMALL LETTER E WITH ACUTE, which is not printable ASCII"),
    ("x7#Qz", "is 5 characters long; at least 8"),
    ("Q" * 600, "is 600 characters long; at most 512"),
])
def test_a_malformed_secret_names_the_field_and_the_problem_but_not_the_secret(secret, problem):
    err = refused(check, pack(**{"apps.vaultwarden.client_secret": secret}))
    text = str(err)
    assert any(d.startswith("pack.json: apps.vaultwarden.client_secret: the value (a secret, not shown) ")
               and problem in d for d in err.details), err.details
    no_piece_of(secret.strip(), text)


@pytest.mark.parametrize("value", [12345678901, [SECRET], {"value": SECRET}])
def test_a_secret_of_the_wrong_type_is_not_shown_either(value):
    err = refused(check, pack(**{"apps.blueprint.client_secret": value}))
    assert "apps.blueprint.client_secret: the value (a secret, not shown) is not of type 'string'" in str(err)
    no_piece_of(SECRET, str(err))
    assert "12345678901" not in str(err)


def test_the_text_form_never_echoes_a_line(tmp_path):
    from test_pack import TEXT
    broken = TEXT.replace("vaultwarden_client_secret: vw~", "vaultwarden_client_secret: vw ~")
    err = refused(packs.parse_text, broken, "pack.txt")
    assert "pack.txt:6: vaultwarden_client_secret: the value is empty or has a space in it" in err.message
    no_piece_of("vw ~L3m2N1o0P9q8R7s6T5u4V3w2X1y0Z9aB8cD7", str(err))
    err = refused(packs.parse_text, "tenant id 3f2b8c1e-5d4a-4e7b-9c21-7a6d5e4f3b2a " + SECRET)
    assert err.message == "text:1: expected `name: value`"


def test_a_secret_with_control_characters_from_the_text_form_is_refused():
    from test_pack import TEXT
    parsed = packs.parse_text(TEXT.replace("bp~Q8s7", "bp~Q8\x1bs7"))
    err = refused(check, parsed)
    assert any("apps.blueprint.client_secret: the value (a secret, not shown) contains a control character, "
               "U+001B ESC" in d for d in err.details)
    no_piece_of("bp~Q8\x1bs7R6t5U4v3W2x1Y0zA9bC8dE7fG6hI5jK4", str(err))


# ---- through the module: named errors, never "failed unexpectedly" ----------------------------
def run_module(tmp_path, pack_path):
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML)
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "customer": "acme", "pack": str(pack_path), "customers_file": str(customers)}}))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, ".collections"))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "plugins/modules/customer_pack_ingest.py"), str(args)],
                          capture_output=True, text=True, env=env, timeout=60)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("raw, expected", [
    (b'{"a": ' + b"[" * 30000 + b"]" * 30000 + b"}", "nested more than 32 levels deep"),
    (b'{"tenant_id": "x", "tenant_id": "y"}', "the key 'tenant_id' appears twice"),
    (pack_bytes(pack(**{"apps.blueprint.client_secret": SECRET + " "})), "ends with a space"),
    (pack_bytes(pack(customer="acme\u2066")), "bidirectional-text control, U+2066"),
])
def test_the_module_refuses_by_name(tmp_path, raw, expected):
    path = tmp_path / "pack.json"
    path.write_bytes(raw)
    result = run_module(tmp_path, path)
    said = "\n".join([result["msg"], *result.get("details", [])])  # the problem, then each detail, as fields
    assert result["failed"] and expected in said, said
    assert "unexpectedly" not in result["msg"] and result["next_step"]
    no_piece_of(SECRET, json.dumps(result))


def test_the_module_refuses_a_fifo_without_blocking(tmp_path):
    path = tmp_path / "pack.json"
    os.mkfifo(path)
    result = run_module(tmp_path, path)  # subprocess timeout: 60 s; it answers at once
    assert "is a named pipe (FIFO), not a file" in result["msg"]


# ---- customers.yaml ----------------------------------------------------------------------------
def write(tmp_path, text=CUSTOMERS_YAML, name="customers.yaml"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def load(path):
    return cf.CustomersFile(str(path)).load()


def test_non_utf8_bytes_name_the_file_and_the_line(tmp_path):
    raw = CUSTOMERS_YAML.replace('"Beta"', '"베타 주식회사"').encode("utf-8").replace(
        "베타 주식회사".encode(), "베타 주식회사".encode("cp949"))
    path = write(tmp_path, raw)
    err = refused(load, path)
    line = CUSTOMERS_YAML.splitlines().index('    legal_name: "Beta"') + 1
    assert err.message.startswith("%s:%d: byte 0x" % (path, line)) and "is not UTF-8" in err.message
    assert "베타" not in str(err) and "iconv" in err.next_step


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    bomb = "customers: {}\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        "lol%d: &l%d [%s]\n" % (i, i, ", ".join(["*l%d" % (i - 1)] * 9)) for i in range(1, 10))
    out = within(AT_ONCE, load, write(tmp_path, bomb))
    err = out.get("error")
    assert isinstance(err, ProductError), out
    assert "an alias bomb" in err.message and "the largest &l9 (line 11)" in err.message
    assert "lol," not in str(err)


def test_a_few_aliases_are_fine(tmp_path):
    text = CUSTOMERS_YAML.replace('    entities: ["acme-kr"]\n', '    entities: &one ["acme-kr"]\n') \
        .replace("    entities:\n      - \"beta-1\"\n      - \"beta-2\"\n", "    entities: *one\n")
    assert load(write(tmp_path, text)).customers["beta"]["entities"] == ["acme-kr"]


@pytest.mark.parametrize("text", [
    pytest.param("customers: " + "[" * 200000 + "]" * 200000 + "\n", id="200000 flow brackets"),
    pytest.param("customers: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", id="5000 flow mappings"),
    pytest.param("customers:\n" + "".join("  " * (i + 1) + "k%d:\n" % i for i in range(600)) + "  " * 601 + "x\n",
                 id="600 block mappings"),
    pytest.param("customers:\n" + "".join("  " * (i + 1) + "k%d:\n" % i for i in range(40)) + "  " * 41 + "x\n",
                 id="40 block mappings"),
])
def test_deep_nesting_is_refused_at_once(tmp_path, text):
    out = within(AT_ONCE, load, write(tmp_path, text))
    err = out.get("error")
    assert isinstance(err, ProductError), out
    assert "nested more than 32 levels deep" in err.message and str(tmp_path) in err.message


@pytest.mark.parametrize("text", [
    pytest.param("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                 "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n", id="passwd: one long scalar"),
    pytest.param("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice: Ops,,,:/home/alice:/bin/bash\n",
                 id="passwd: not YAML at line 2"),
    pytest.param("AXE_VAULT_URL=http://127.0.0.1:8087\nBWS_ACCESS_TOKEN=0.abcdef1234567890secret\n", id="an env file"),
    pytest.param("- root\n- hunter2hunter2\n", id="a list"),
    pytest.param("services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: hunter2hunter2\n",
                 id="someone else's compose file"),
    pytest.param("customers:\n  acme: 'root:x:0:0:root:/root:/bin/bash hunter2hunter2'\n", id="a string for an entry"),
])
def test_a_file_that_is_not_ours_is_never_shown(tmp_path, text):
    err = refused(load, write(tmp_path, text))
    shown = str(err)
    for piece in ("root:x", "/bin/bash", "nologin", "hunter2", "abcdef1234", "127.0.0.1", "Alice"):
        assert piece not in shown, shown
    assert str(tmp_path) in shown


def test_yaml_syntax_errors_name_the_line_not_the_text(tmp_path):
    text = CUSTOMERS_YAML.replace('    legal_name: "Beta"', '    legal_name: "Beta\n    secret_note: hunter2hunter2')
    err = refused(load, write(tmp_path, text))
    assert "is not valid YAML" in err.message and "customers.yaml:" in err.message
    assert "hunter2" not in str(err)


def test_a_duplicate_key_names_the_key_only(tmp_path):
    text = CUSTOMERS_YAML.replace('  beta:\n    legal_name: "Beta"', '  acme:\n    legal_name: "hunter2hunter2"')
    err = refused(load, write(tmp_path, text))
    line = text.splitlines().index("  acme:", 4) + 1
    assert "customers.yaml:%d:3 is not valid YAML: the key 'acme' appears twice in one mapping" % line in err.message
    assert "hunter2" not in str(err) and "ACME Korea" not in str(err)


def test_raw_control_characters_name_the_line(tmp_path):
    text = CUSTOMERS_YAML.replace('"Beta"', '"Be\x1bta"')
    err = refused(load, write(tmp_path, text))
    line = CUSTOMERS_YAML.splitlines().index('    legal_name: "Beta"') + 1
    assert err.message == "%s:%d: U+001B ESC is not allowed in YAML" % (tmp_path / "customers.yaml", line)


@pytest.mark.parametrize("old, new, field, problem", [
    ('legal_name: "Beta"', 'legal_name: "Be\\u202eta"', "customers.beta.legal_name", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ('tailscale_host: "beta-macmini"', 'tailscale_host: "beta-macmini\\n"', "customers.beta.tailscale_host",
     "ends with a newline"),
    ('sso: {provider: microsoft_entra_id, tenant_id: "9b1deb4d', 'sso: {provider: microsoft_entra_id, tenant_id: "\\u200b9b1deb4d',
     "customers.realchoice.sso.tenant_id", "U+200B ZERO WIDTH SPACE at character 1"),
    ('  beta:\n', '  "beta\\0":\n', "customers", "the key 'beta\\x00' contains a control character, U+0000 NUL"),
])
def test_escaped_unsafe_characters_in_customers_yaml_are_refused_by_the_schema(tmp_path, old, new, field, problem):
    text = CUSTOMERS_YAML.replace(old, new)
    assert text != CUSTOMERS_YAML
    err = refused(load, write(tmp_path, text))
    assert any(": %s: " % field in d and problem in d for d in err.details), err.details


def test_a_fifo_customers_file_is_refused_without_blocking(tmp_path):
    path = tmp_path / "customers.yaml"
    os.mkfifo(path)
    out = within(AT_ONCE, load, path)
    assert isinstance(out.get("error"), ProductError) and "is a named pipe (FIFO), not a file" in out["error"].message


def test_a_symlinked_customers_file_stays_a_link(tmp_path):
    real = tmp_path / "dotfiles" / "axe" / "customers.yaml"
    real.parent.mkdir(parents=True)
    real.write_text(CUSTOMERS_YAML)
    os.chmod(real, 0o640)
    link = tmp_path / "home" / ".axe" / "customers.yaml"
    link.parent.mkdir(parents=True)
    link.symlink_to(os.path.relpath(real, link.parent))
    f = load(link)
    cf.apply_pack(f.document, "acme", PACK)
    new = f.render()
    f.write(new)
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(real, link.parent)
    assert real.read_text() == new and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert (tmp_path / "home" / ".axe" / "customers.yaml.bak").read_text() == CUSTOMERS_YAML
    assert not [p for p in os.listdir(real.parent) if p.endswith(".tmp")]
    for secret in SECRETS:
        assert secret not in real.read_text()


def test_a_dangling_symlink_gets_its_target_written(tmp_path):
    link = tmp_path / "customers.yaml"
    link.symlink_to(tmp_path / "elsewhere" / "customers.yaml")
    f = cf.CustomersFile(str(link)).load(allow_missing=True)
    f.write(cf.EMPTY_FILE)
    assert link.is_symlink() and (tmp_path / "elsewhere" / "customers.yaml").read_text() == cf.EMPTY_FILE


def test_a_huge_customers_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "customers.yaml"
    with open(path, "wb") as fh:
        fh.truncate(cf.MAX_BYTES + 1)
    err = refused(load, path)
    assert "larger than any real one: a registry is at most 1 MiB" in err.message


def test_a_customers_file_with_a_bom_is_read_and_keeps_it(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + CUSTOMERS_YAML.encode())
    f = load(path)
    cf.apply_pack(f.document, "acme", PACK)
    f.write(f.render())
    assert path.read_bytes().startswith(b"\xef\xbb\xbf# AXE Labs customers")
    assert load(path).customers["acme"]["sso"]["tenant_id"] == PACK["tenant_id"]
