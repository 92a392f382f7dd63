# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""customers.yaml: the one loader. Read, validate, change, write back.

Writes keep every byte of what did not change: comments, key order, quoting, blank lines,
indentation. ruamel.yaml's round trip keeps comments and quoting but normalises some layout
(sequence indentation, for one), so the new text is spliced in: only the lines whose rendering
actually changed replace their originals (see `splice`). Writes are atomic (temp file + rename),
keep the previous version as `customers.yaml.bak`, and hold an exclusive lock so two operators
cannot interleave a read-change-write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import difflib
import errno
import fcntl
import getpass
import io
import json
import os
import re
import socket
import time
import traceback

from ansible_collections.axelabs.onboard.plugins.module_utils import atomic_file, lock_owner
from ansible_collections.axelabs.onboard.plugins.module_utils.schemas import CUSTOMERS_SCHEMA
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import (
    ProductError, char_name, check_shape, kind_of, line_at, read_regular_file, shown, validate)

try:
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.reader import ReaderError
    HAS_RUAMEL = True
    RUAMEL_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - the controller's virtualenv has it
    HAS_RUAMEL = False
    RUAMEL_IMPORT_ERROR = traceback.format_exc()

    class YAMLError(Exception):
        """Stands in for ruamel's, which is never raised without ruamel (_yaml() refuses first)."""

    DuplicateKeyError = ReaderError = YAMLError

LOCK_WAIT_SECONDS = 30
EMPTY_FILE = "# AXE Labs customer registry. Schema: schemas/customers.schema.json\ncustomers: {}\n"
MAX_BYTES = 1024 * 1024  # a registry of a thousand customers is about 1 MiB
MAX_DEPTH = 32  # a registry nests 7 levels deep (customers.acme.sso.apps.frame_mcp.redirect_uris[0])
MAX_ADDED_BY_ALIASES = 10000  # what *aliases may repeat: a few manifests, never a bomb
FIX_IT = "fix the file where shown (the .bak beside it is the last good version); nothing was changed"
_FLOW = re.compile(r"[\[\]{}\n]")


def parse(text, source):
    """customers.yaml's text as a ruamel round-trip document, or a ProductError naming the file and the
    line, that shows none of the file's text but the key or token at fault. Nesting deeper than
    MAX_DEPTH and alias bombs are refused within a fraction of a second; they are never expanded."""
    line = _flow_too_deep(text)
    if line:
        raise ProductError("%s:%d: nested more than %d levels deep" % (source, line, MAX_DEPTH), next_step=FIX_IT)
    try:
        document = _yaml().load(text)
    except RecursionError:
        raise ProductError("%s: nested more than %d levels deep" % (source, MAX_DEPTH), next_step=FIX_IT)
    except YAMLError as exc:
        if isinstance(exc, ReaderError):  # a character YAML does not allow, at a character offset
            character = exc.character if isinstance(exc.character, int) else ord(exc.character or "?")
            raise ProductError("%s:%d: %s is not allowed in YAML"
                               % (source, line_at(text, exc.position), char_name(chr(character))), next_step=FIX_IT)
        raise ProductError("%s is not valid YAML: %s" % (_where(source, exc), _problem(exc)), next_step=FIX_IT)
    except (ValueError, TypeError, OverflowError) as exc:  # a tagged or timestamp-like value that cannot be built
        raise ProductError("%s: a date or a !!tagged value cannot be read as its type: %s" % (
            source, str(exc).split("\n", 1)[0][:100]), next_step=FIX_IT)
    check_shape(document, source, MAX_DEPTH, MAX_ADDED_BY_ALIASES, FIX_IT)
    return document


def read_fast(text, source):
    """The data parse() would give, for a reader that never writes back (the inventory, `axe health`), as plain
    dicts and lists, parsed by libyaml in C (ruamel.yaml.clib) with ruamel's YAML 1.2 rules and duplicate keys
    refused: a registry of 1,000 customers in a tenth of the round-trip parser's time. None whenever it cannot
    vouch for the result (no C parser, or anything wrong with the text): the caller parses with parse(), whose
    errors name the line."""
    # Where libyaml and ruamel's own scanner are known to read a text differently (a tab after a plain scalar, tags,
    # directives), the text is parse()'s; a registry written by axe has none of them.
    if not HAS_RUAMEL or "\t" in text or "!" in text or text.startswith("%") or "\n%" in text or _flow_too_deep(text):
        return None
    yaml = YAML(typ="safe")
    if "CParser" not in getattr(yaml.Parser, "__name__", ""):
        return None  # the pure-Python safe parser is no faster than the round-trip one
    try:
        document = yaml.load(text)
        check_shape(document, source, MAX_DEPTH, MAX_ADDED_BY_ALIASES, FIX_IT)
    except Exception:  # every failure is parse()'s to explain, line and all
        return None
    try:
        return json.loads(json.dumps(document, default=_not_a_date))  # as plain() makes a round-trip document
    except ValueError:
        # A timestamp: the safe loader's datetime prints with a space where the round-trip one keeps the "T" it
        # read (found by the property test). No registry axe writes has one: parse() decides.
        return None


def _not_a_date(value):
    if isinstance(value, datetime.datetime):  # a plain date prints the same from both loaders
        raise ValueError("a timestamp")
    return str(value)


def _flow_too_deep(text):
    """The line where [ and { first nest deeper than MAX_DEPTH, or None. A look at the text before
    ruamel reads it: its scanner needs seconds for thousands of nested brackets. Brackets inside
    quotes and comments count too; no registry comes near the limit."""
    depth, line = 0, 1
    for match in _FLOW.finditer(text):
        char = match.group(0)
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        else:
            depth = max(0, depth - 1)
    return None


def _where(source, exc):
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None or getattr(mark, "line", None) is None:
        return source
    return "%s:%d:%d" % (source, mark.line + 1, mark.column + 1)


def _problem(exc):
    """ruamel's problem and context, without the snippet of the file its str() shows."""
    problem = (getattr(exc, "problem", None) or "").strip()
    if isinstance(exc, DuplicateKeyError):
        key = re.match(r'found duplicate key "(.*?)" with value', problem, re.S)
        problem = "the key %s appears twice in one mapping" % (shown(key.group(1)) if key else "")
    context = (getattr(exc, "context", None) or "").strip()
    text = problem + (" (%s)" % context if context and not isinstance(exc, DuplicateKeyError) else "")
    return (text or type(exc).__name__)[:160]


def _yaml(indent=(2, 4, 2)):
    if not HAS_RUAMEL:
        raise ProductError("the Python package ruamel.yaml is missing on the controller",
                           "install axe with scripts/setup.sh (it pins ruamel.yaml)")
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def dump(document, indent=(2, 4, 2)):
    stream = io.StringIO()
    _yaml(indent).dump(document, stream)
    return stream.getvalue()


def splice(original, dumped_before, dumped_after):
    """Apply to `original` only the changes between two renderings of the same document.

    `dumped_before` is ruamel's rendering of the unchanged document, `dumped_after` of the changed
    one. Lines of `original` that ruamel would merely re-lay-out are kept as they are; a change
    that touches such a re-laid-out region takes that region's new rendering with it.
    """
    o_lines = original.splitlines(True)
    b_lines = dumped_before.splitlines(True)
    a_lines = dumped_after.splitlines(True)
    if o_lines == b_lines:
        return dumped_after
    b_to_o = {}
    for tag, o1, o2, b1, b2 in difflib.SequenceMatcher(None, o_lines, b_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(b2 - b1):
                b_to_o[b1 + k] = o1 + k

    def o_at(b):
        """Where B's line `b` starts in the original, when a known line pins it down."""
        if b in b_to_o:
            return b_to_o[b]
        if b == 0:
            return 0
        if (b - 1) in b_to_o:
            return b_to_o[b - 1] + 1
        if b == len(b_lines):
            return len(o_lines)
        return None

    hunks = []
    for tag, b1, b2, a1, a2 in difflib.SequenceMatcher(None, b_lines, a_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # Widen the hunk (over lines equal in both renderings) until both edges are pinned.
        while o_at(b1) is None:
            b1, a1 = b1 - 1, a1 - 1
        while (b2 != b1 and o_at(b2) is None) or (b2 == b1 and o_at(b1) is None):
            b2, a2 = b2 + 1, a2 + 1
        if hunks and b1 <= hunks[-1][1]:
            pb1, pb2, pa1, pa2 = hunks.pop()
            b1, a1 = pb1, pa1
            b2, a2 = max(b2, pb2), max(a2, pa2)
        hunks.append((b1, b2, a1, a2))
    out, o_pos = [], 0
    for b1, b2, a1, a2 in hunks:
        o_start = o_at(b1)
        o_end = o_at(b2) if b2 > b1 else o_start
        out.extend(o_lines[o_pos:o_start])
        out.extend(a_lines[a1:a2])
        o_pos = max(o_pos, o_end)
    out.extend(o_lines[o_pos:])
    return "".join(out)


class CustomersFile(object):
    """One customers.yaml on disk. `load()` validates; `render()` and `write()` keep bytes."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.text = None
        self.document = None
        self.readonly = False  # loaded as plain data (load(readonly=True)): nothing to render or write from

    # reading ------------------------------------------------------------------------------
    def check_not_directory(self):
        """Trap T23: a bind mount of a missing file leaves a directory where the file belongs."""
        if os.path.isdir(self.path):
            if os.listdir(self.path):
                raise ProductError(
                    "%s is a directory, not a file, and it is not empty" % self.path, trap="T23",
                    next_step="look inside it, move what matters elsewhere, remove the directory, and run again")
            return True
        return False

    def load(self, allow_missing=False, text=None, readonly=False):
        """`text`: what the file would hold after an earlier step of the same plan (check mode
        only); it is parsed and validated as the file would be, and the file is not read.
        `readonly`: for a reader that never writes back; read_fast() when it can vouch for the result."""
        if text is not None:
            self.text = text
        elif self.check_not_directory():
            self.text = EMPTY_FILE  # an empty directory: treated as no file; write() replaces it
        elif not os.path.exists(self.path):
            if not allow_missing:
                raise ProductError("no customers file at %s" % self.path, trap="T01",
                                   next_step="set AXE_CUSTOMERS_FILE or --customers-file, or create it with "
                                             "`axe customers add CUSTOMER --legal-name NAME --primary-domain DOMAIN "
                                             "--entity ID --apply`")
            self.text = EMPTY_FILE
        else:
            self.text = self._read()
        if readonly:
            fast = read_fast(self.text, self.path)
            if isinstance(fast, dict) and not validate(fast, CUSTOMERS_SCHEMA, self.path)[0]:
                self.document, self.readonly = fast, True
                return self
        self.document = parse(self.text, self.path)
        if self.document is None:
            self.document = _yaml().load(EMPTY_FILE)
        if not isinstance(self.document, dict):
            raise ProductError("%s is not a customer registry: it holds %s where a mapping with `customers:` belongs"
                               % (self.path, kind_of(self.document)),
                               next_step="check that AXE_CUSTOMERS_FILE (or --customers-file) names customers.yaml; "
                                         "its form is schemas/customers.schema.json")
        self.validate()
        return self

    def _read(self):
        """The file's text: a regular file of at most MAX_BYTES, UTF-8; never the text in an error."""
        raw = read_regular_file(self.path, MAX_BYTES, "the customers file", "a registry is at most %d MiB"
                                % (MAX_BYTES // (1024 * 1024)), "check AXE_CUSTOMERS_FILE or --customers-file")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProductError("%s:%d: byte 0x%02x is not UTF-8; customers.yaml is UTF-8 text"
                               % (self.path, line_at(raw, exc.start), raw[exc.start]),
                               next_step="save it as UTF-8 (iconv -f CP949 -t UTF-8, if an editor wrote it in a "
                                         "Windows code page); the .bak beside it is the last good version")

    def validate(self, document=None):
        target = document if document is not None else self.document
        errors, dummy = validate(plain(target), CUSTOMERS_SCHEMA, self.path)
        if errors and document is None:
            # Only when something is wrong: again on the round-trip document, for line numbers.
            errors, dummy = validate(self.document, CUSTOMERS_SCHEMA, self.path)
        if errors:
            raise ProductError("%s does not match schemas/customers.schema.json" % self.path, details=errors,
                               next_step="fix the entries named above; nothing was changed")

    # questions ----------------------------------------------------------------------------
    @property
    def customers(self):
        return self.document.get("customers") or {}

    def sharing_public_domain(self, customer, domain=None):
        """The other customers whose public_domain is `domain` (default: the customer's own). One public name is one
        tunnel and one DNS record: two customers on it would serve one customer's employees the other's stack."""
        domain = _public_name({"public_domain": domain} if domain is not None else self.customers.get(customer))
        return sorted(name for name, entry in self.customers.items()
                      if name != customer and domain and _public_name(entry) == domain)

    def refuse_shared_public_domain(self, customer):
        """The customer's public_domain is its own, or a ProductError naming who else has it."""
        sharing = self.sharing_public_domain(customer)
        if sharing:
            domain = (self.customers.get(customer) or {}).get("public_domain")
            raise ProductError("public_domain %s is already %s's: one public name is one customer's tunnel" % (
                domain, ", ".join(sharing)), details=["customers.%s.public_domain" % customer],
                next_step="give %s its own public_domain (--public-domain; the default is %s.axelabs.ai); "
                          "nothing was changed" % (customer, customer))

    def check_public_domains(self, document=None):
        """Refuse a registry (this one, or `document`) in which two customers share a public_domain."""
        customers = (document.get("customers") or {}) if document is not None else self.customers
        seen = {}
        for name in sorted(customers):
            domain = _public_name(customers[name])
            if domain and domain in seen:
                raise ProductError("%s and %s have the same public_domain %s" % (seen[domain], name, domain),
                                   next_step="give %s its own public_domain (axe customers add %s --public-domain "
                                             "%s.axelabs.ai --apply); nothing was changed" % (name, name, name))
            seen.setdefault(domain, name)

    def entry(self, customer):
        entry = self.customers.get(customer)
        if entry is None:
            known = ", ".join(sorted(self.customers)) or "none"
            raise ProductError("customer %r is not in %s (known: %s)" % (customer, self.path, known), trap="T01",
                               next_step="axe customers add %s --legal-name NAME --primary-domain DOMAIN "
                                         "--entity ID --apply" % customer)
        return entry

    def manifest(self, customer):
        """{service: [secret slots]} for the customer; empty for a sovereignty customer (T24)."""
        services = self.document.get("services") or {}
        return dict((svc, list((services.get(svc) or {}).get(customer, {}).get("secrets") or []))
                    for svc in services if customer in (services.get(svc) or {}))

    def wanted_refs(self, customer):
        """{service: ref} the customer should run: its own slot's `ref`, else the fleet's `releases` default (also for
        a slot its pack has not made yet: a D-day's plan deploys what the apply will)."""
        services = self.document.get("services") or {}
        fleet = self.document.get("releases") or {}
        wanted = {}
        for svc in sorted(set(services) | set(fleet)):
            ref = ((services.get(svc) or {}).get(customer) or {}).get("ref") or fleet.get(svc)
            if ref:
                wanted[svc] = ref
        return wanted

    def set_wanted_ref(self, customer, service, ref):
        """Record that `customer` should run `service` at `ref` (its slot's `ref`, the slot made when the customer has
        a manifest but none for the service); False when it already says so."""
        if not self.manifest(customer):
            raise ProductError("services not declared for %s: the customer runs its own stack (no services manifest)"
                               % customer, trap="T24",
                               next_step="nothing to record for %s; ingest its pack first if it is a managed customer "
                                         "(axe customers ingest %s PACK.json --apply)" % (customer, customer))
        services = self.document["services"]
        if services.get(service) is None:
            services[service] = quoted({})
        slot = services[service].get(customer)
        if slot is None:
            services[service][customer] = slot = quoted({"secrets": []})
        if slot.get("ref") == ref:
            return False
        slot["ref"] = quoted(ref)
        return True

    # writing ------------------------------------------------------------------------------
    def render(self):
        """The file's new text: the original with only the changed lines replaced."""
        if self.readonly:
            raise ProductError("internal: %s was loaded read-only and cannot be rendered" % self.path)
        before = dump(_yaml().load(self.text) or _yaml().load(EMPTY_FILE))
        after = dump(self.document)
        spliced = splice(self.text, before, after)
        # The splice is an optimisation of layout, never of content: if its result does not mean
        # exactly the changed document, fall back to ruamel's own rendering.
        if plain(_yaml().load(spliced)) != plain(self.document):
            return after
        return spliced

    def write(self, new_text):
        """Write atomically; the previous version stays as `.bak`. A customers.yaml that is a symlink
        (into a dotfiles repository, say) stays one: the file it points at is replaced."""
        document = _yaml().load(new_text)
        self.validate(document)
        self.check_public_domains(document)
        target = os.path.realpath(self.path)
        if os.path.isdir(target):
            os.rmdir(target)  # T23: only an empty one gets here (check_not_directory)
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        if os.path.exists(target):
            _atomic_copy(target, self.path + ".bak")
        _atomic_write(target, new_text)
        self.text = new_text


def edit(path, change, check_mode, allow_missing=False):
    """One change to customers.yaml, the way every module makes one: under the file's lock, load it, let
    `change(f)` edit the loaded CustomersFile (True when it changed the document), render (validated against the
    schema) and write atomically unless in check mode. Returns (before, after), the texts for the diff: equal when
    nothing changed. Raises ProductError."""
    with FileLock(path):
        f = CustomersFile(path).load(allow_missing=allow_missing)
        before = f.text if os.path.isfile(f.path) else ""
        after = f.render() if change(f) else before
        if after != before and not check_mode:
            f.write(after)
    return before, after


def _public_name(entry):
    """An entry's public_domain as DNS compares it (no trailing dot, any case); '' when it has none."""
    return str((entry or {}).get("public_domain") or "").rstrip(".").lower()


def quoted(value):
    """New values in the runbook's style: strings double-quoted, structures in block style."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString
    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = quoted(item)
        return out
    if isinstance(value, list):
        return CommentedSeq([quoted(v) for v in value])
    if isinstance(value, str):
        return DoubleQuotedScalarString(value)
    return value


def merge(target, wanted):
    """Set `wanted`'s values into the round-trip mapping `target`, touching only what differs."""
    for key, value in wanted.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        elif plain(target.get(key)) != plain(value):
            target[key] = quoted(value)


def apply_pack(document, customer, pack):
    """Set a validated pack's meaning into the round-trip document: the customer's `sso` and the
    manifest slots of the three client secrets (T08). Touches only what differs."""
    from ansible_collections.axelabs.onboard.plugins.module_utils import pack as packs
    entry = document["customers"][customer]
    sso = packs.sso_entry(pack, customer, entry["public_domain"])
    if entry.get("sso") is None:
        entry["sso"] = quoted(sso)
    else:
        merge(entry["sso"], sso)
    services = document.get("services")
    if services is None:
        document["services"] = services = quoted({})
    for service, env, dummy in packs.secrets(pack, customer):
        per_service = services.get(service)
        if per_service is None:
            services[service] = per_service = quoted({})
        manifest = per_service.get(customer)
        if manifest is None:
            per_service[customer] = manifest = quoted({"secrets": []})
        slots = manifest.setdefault("secrets", [])
        if not any(s.get("env") == env for s in slots):
            slots.append(quoted({"env": env, "source": "pack", "auto_generate": False}))


def plain(node):
    """A ruamel document as plain dicts and lists (for comparison and JSON Schema)."""
    return json.loads(json.dumps(node, default=str))


def _atomic_write(path, text, mode=None):
    # Writers killed before their rename left `.NAME.PID.tmp` behind: swept once their process is gone.
    atomic_file.sweep_dead_temps(path, lambda pid: lock_owner.running(pid, ""))
    atomic_file.write(path, text, mode)


def _atomic_copy(src, dst):
    with io.open(src, encoding="utf-8") as fh:
        _atomic_write(dst, fh.read(), mode=os.stat(src).st_mode & 0o7777)


class FileLock(object):
    """An exclusive lock beside a file, naming its holder, waited on for a bounded time."""

    def __init__(self, path, wait=LOCK_WAIT_SECONDS):
        self.path = path + ".lock"
        self.wait = wait
        self.fh = None

    def __enter__(self):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        self.fh = io.open(self.path, "a+")
        deadline = time.time() + self.wait
        while True:
            try:
                fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.time() >= deadline:
                    self.fh.seek(0)
                    holder = self.fh.read().strip() or "unknown"
                    self.fh.close()
                    raise ProductError("%s is locked by another run (%s)" % (self.path[:-5], holder),
                                       next_step="wait for that run to finish, then run again")
                time.sleep(0.1)
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write("%s@%s pid %d since %s" % (getpass.getuser(), socket.gethostname(), os.getpid(),
                                                 time.strftime("%Y-%m-%dT%H:%M:%S%z")))
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()
        return False
