# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate a document against one of the product's schemas; name the file, the path and the fault.

Also what every file the product reads from outside goes through first: `read_regular_file`
(a regular file of a bounded size, or a named refusal before a byte is read) and `check_shape`
(bounded nesting and alias expansion). Errors name the field and the fault and never show a value
the schema marks `writeOnly` (a secret).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat
import traceback
import unicodedata

from ansible_collections.axelabs.onboard.plugins.module_utils.schemas import UNSAFE_CHARS, unsafe_form

try:
    import jsonschema
    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - the controller's virtualenv has it
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = traceback.format_exc()


class ProductError(Exception):
    """An error an operator reads: what is wrong, where, and the next step. `trap` is a traps.md id."""

    def __init__(self, message, next_step=None, trap=None, details=None):
        super(ProductError, self).__init__(message)
        self.message = message
        self.next_step = next_step
        self.trap = trap
        self.details = details or []

    def problem(self):
        """The problem alone, with its trap id: what a result's `msg` carries (the rest travels as fields)."""
        return ("%s: %s" % (self.trap, self.message)) if self.trap else self.message

    def __str__(self):
        text = self.problem()
        if self.details:
            text += "".join("\n  - %s" % d for d in self.details)
        if self.next_step:
            text += "\n  next: %s" % self.next_step
        return text

    def result(self):
        """The fields every module fails with, so `axe` (and any reader of the result) gets each one intact."""
        return dict(msg=self.problem(), trap=self.trap, next_step=self.next_step, details=list(self.details))


def fail(module, exc, **extra):
    """The one way a module fails on a ProductError: its fields as they are, plus the module's own `extra`
    (the commands it ran, what it measured); `extra` never replaces the error's own fields unless they are empty."""
    fields = exc.result()
    for key, value in extra.items():
        if key not in fields or not fields[key]:
            fields[key] = value
    module.fail_json(**fields)


def doc_path(parts):
    """['customers', 'acme', 'entities', 0] -> customers.acme.entities[0]"""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def line_of(document, parts):
    """The 1-based line of a path in a ruamel round-trip document, when it knows it."""
    node, line = document, None
    for part in parts:
        lc = getattr(node, "lc", None)
        try:
            if lc is not None:
                if isinstance(part, int):
                    line = lc.item(part)[0] + 1
                else:
                    line = lc.key(part)[0] + 1
            node = node[part]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


_UNSAFE = re.compile("[" + UNSAFE_CHARS + "]")
_CONTROL_NAMES = {0x00: "NUL", 0x09: "TAB", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN", 0x1B: "ESC", 0x7F: "DEL"}
_BIDI = set([0x061C, 0x200E, 0x200F]) | set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
_ZERO_WIDTH = set([0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])
SHOWN_CHARS = 64  # at most this much of a (non-secret) value appears in a message


def char_name(char):
    """U+202E RIGHT-TO-LEFT OVERRIDE; U+001B ESC; U+D800 (a lone surrogate)."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return "U+%04X (a lone surrogate)" % code
    name = _CONTROL_NAMES.get(code) or unicodedata.name(char, "")
    return ("U+%04X %s" % (code, name)).strip()


def unsafe_problem(value):
    """What is wrong with a string holding one of UNSAFE_CHARS (schemas.py), or None.

    Names the character and where it is, never the text around it.
    """
    match = _UNSAFE.search(value)
    if match is None:
        return None
    char, code = match.group(0), ord(match.group(0))
    if value.rstrip("\r\n") != value and match.start() >= len(value.rstrip("\r\n")):
        return "ends with a newline (%s): a copy-paste slip" % char_name(char)
    if 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate (half of a character: the text was mangled on its way)"
    elif code in _BIDI:
        kind = "a bidirectional-text control, %s (it makes text display in another order than it is)" % char_name(char)
    elif code in _ZERO_WIDTH:
        kind = "an invisible zero-width character, %s" % char_name(char)
    elif code < 0x20 or 0x7F <= code <= 0x9F:
        kind = "a control character, %s" % char_name(char)
    else:
        kind = "an invisible formatting character, %s" % char_name(char)
    return "contains %s at character %d of %d" % (kind, match.start() + 1, len(value))


def secret_problem(value):
    """What is wrong with a client secret, without any of it: it is printable ASCII, no spaces."""
    problem = unsafe_problem(value)
    if problem:
        return problem
    if value != value.strip():
        return "%s with a space: a copy-paste slip" % ("starts" if value[:1].isspace() else "ends")
    for index, char in enumerate(value):
        if not "\x21" <= char <= "\x7e":
            what = "a space" if char.isspace() else "%s, which is not printable ASCII" % char_name(char)
            return "contains %s at character %d of %d" % (what, index + 1, len(value))
    return None


def shown(value, secret=False):
    """A value as a message may show it: never a secret, never a whole structure, never long."""
    if secret:
        return "the value (a secret, not shown)"
    if isinstance(value, (dict, list)):
        return kind_of(value)
    if isinstance(value, str):
        cut = value.split("\n", 1)[0][:SHOWN_CHARS]
        return repr(cut) + ("..." if cut != value else "")
    return repr(value)


def kind_of(value):
    """'a string', 'a mapping', ...: a value described without showing it."""
    for types, name in (((dict,), "a mapping"), ((list,), "a list"), ((str,), "a string"), ((bool,), "a boolean"),
                        ((int, float), "a number")):
        if isinstance(value, types):
            return name
    return "null" if value is None else "a %s" % type(value).__name__


def _message(error):
    schema = error.schema if isinstance(error.schema, dict) else {}
    secret = schema.get("writeOnly") is True
    value, kind = error.instance, error.validator
    key = "the key " if "propertyNames" in error.relative_schema_path else ""
    if secret and isinstance(value, str) and kind == "pattern":
        return "%s %s" % (shown(value, secret), secret_problem(value) or "does not have the expected form")
    if kind == "pattern":
        return "%s%s %s" % (key, shown(value), unsafe_problem(value) or
                            "does not have the expected form (%s)" % unsafe_form(error.validator_value))
    if kind in ("minLength", "maxLength"):
        return "%s is %d characters long; %s %d" % (
            shown(value, secret), len(value), "at least" if kind == "minLength" else "at most", error.validator_value)
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        # Where a structure belongs, a scalar is shown by its kind only: it may be a whole file that is not YAML for us.
        what = kind_of(value) if set(wanted) & set(["object", "array"]) else shown(value, secret)
        return "%s is not of type %s" % (what, " or ".join(repr(w) for w in wanted))
    if kind == "const":
        return "%s is not %r" % (shown(value, secret), error.validator_value)
    if kind == "enum":
        return "%s%s is not one of %s" % (key, shown(value, secret), ", ".join(repr(v) for v in error.validator_value))
    if kind in ("minItems", "maxItems"):
        return "has %d items; %s %d" % (len(value), "at least" if kind == "minItems" else "at most",
                                        error.validator_value)
    if kind == "uniqueItems":
        return "lists the same item twice"
    if secret or (isinstance(value, (dict, list)) and kind not in ("required", "additionalProperties")):
        return "fails the schema's %r rule" % kind
    return error.message


def validate(document, schema, source, unknown_fields_are_warnings=False):
    """Return (errors, warnings): lists of 'file:line: path: what is wrong' strings."""
    if not HAS_JSONSCHEMA:
        raise ProductError("the Python package jsonschema is missing on the controller",
                           "install axe with scripts/setup.sh (it pins jsonschema)")
    validator = jsonschema.Draft202012Validator(schema)
    errors, warnings = [], []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        parts = list(error.absolute_path)
        line = line_of(document, parts)
        where = "%s:%s" % (source, line) if line else source
        if error.validator == "additionalProperties" and unknown_fields_are_warnings:
            warnings.append("%s: %s: %s" % (where, doc_path(parts), error.message))
            continue
        if error.validator == "required":
            errors.append("%s: %s: %s" % (where, doc_path(parts), error.message))
            continue
        errors.append("%s: %s: %s" % (where, doc_path(parts), _message(error)))
    return errors, warnings


# ---- reading what comes from outside -------------------------------------------------------
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def _refuse_unless_regular(st, path, what, limit, limit_note, next_step):
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise ProductError("%s %s is %s, not a file; axe reads %s only from a regular file" % (what, path, kind, what),
                           next_step=next_step)
    if st.st_size > limit:
        raise ProductError("%s %s is %d bytes, larger than any real one: %s" % (what, path, st.st_size, limit_note),
                           next_step=next_step)


def read_regular_file(path, limit, what, limit_note, next_step):
    """The bytes of `path`: a regular file of at most `limit` bytes (symlinks followed).

    A FIFO, a device, a socket, a directory or a larger file is refused before a byte is read: the
    path is stat()ed first, and then opened non-blocking (a FIFO swapped in after the stat does not
    block the open) and checked again on the open descriptor.
    """
    try:
        _refuse_unless_regular(os.stat(path), path, what, limit, limit_note, next_step)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except (IOError, OSError) as exc:
        raise ProductError("cannot read %s %s: %s" % (what, path, exc.strerror or exc), next_step=next_step)
    try:
        _refuse_unless_regular(os.fstat(fd), path, what, limit, limit_note, next_step)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (IOError, OSError) as exc:
        raise ProductError("cannot read %s %s: %s" % (what, path, exc.strerror or exc), next_step=next_step)
    finally:
        os.close(fd)
    if size > limit:
        raise ProductError("%s %s grew past %d bytes while it was read: %s" % (what, path, limit, limit_note),
                           next_step=next_step)
    return b"".join(chunks)


def line_at(data, offset):
    """The 1-based line of a byte or character offset."""
    return data.count(b"\n" if isinstance(data, bytes) else "\n", 0, offset) + 1


_SCALAR_KEYS = (str, int, float, bool, type(None))


def check_shape(document, source, max_depth, max_added_by_aliases, next_step):
    """Refuse a document nested deeper than `max_depth`, that refers to itself, or whose aliases (a
    node reached by more than one path: YAML's &anchor and *alias) would repeat more than
    `max_added_by_aliases` nodes when expanded: an alias bomb ("billion laughs"), or that uses a list
    or a mapping as a key (YAML's `? [a]`). One pass, no
    recursion, each distinct node once: the bomb is measured, never expanded."""
    if not isinstance(document, (dict, list)):
        return
    size, on_path, stack, biggest, distinct = {}, set(), [(document, False)], (0, None), 0
    while stack:
        node, done = stack.pop()
        children = list(node.values()) if isinstance(node, dict) else node
        if done:
            scalars = sum(1 for c in children if not isinstance(c, (dict, list)))
            size[id(node)] = 1 + scalars + sum(size[id(c)] for c in children if isinstance(c, (dict, list)))
            distinct += 1 + scalars
            on_path.discard(id(node))
            anchor = getattr(getattr(node, "anchor", None), "value", None)
            if anchor and size[id(node)] > biggest[0]:
                biggest = (size[id(node)], "&%s%s" % (anchor, " (line %s)" % _line(node)[1:] if _line(node) else ""))
            continue
        if id(node) in size:
            continue
        if isinstance(node, dict) and not all(isinstance(k, _SCALAR_KEYS) for k in node):
            raise ProductError("%s%s: a key is a list or a mapping, not a name" % (source, _line(node)),
                               next_step=next_step)
        if id(node) in on_path:
            raise ProductError("%s%s: an alias refers to a node that contains it" % (source, _line(node)),
                               next_step=next_step)
        if len(on_path) >= max_depth:
            raise ProductError("%s%s: nested more than %d levels deep" % (source, _line(node), max_depth),
                               next_step=next_step)
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if isinstance(c, (dict, list)))
    added = size[id(document)] - distinct
    if added > max_added_by_aliases:
        raise ProductError("%s: its aliases would repeat %d nodes when expanded (more than %d)%s: an alias bomb, "
                           "not a registry" % (source, added, max_added_by_aliases,
                                               ", the largest %s" % biggest[1] if biggest[1] else ""),
                           next_step=next_step)


def _line(node):
    lc = getattr(node, "lc", None)
    return ":%d" % (lc.line + 1) if lc is not None and lc.line is not None else ""
