# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate a document against one of the product's schemas; name the file, the path and the fault."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

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

    def __str__(self):
        text = ("%s: %s" % (self.trap, self.message)) if self.trap else self.message
        if self.details:
            text += "".join("\n  - %s" % d for d in self.details)
        if self.next_step:
            text += "\n  next: %s" % self.next_step
        return text


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


def _message(error):
    if error.validator == "pattern":
        return "%r does not have the expected form (%s)" % (error.instance, error.schema.get("pattern"))
    if error.validator == "const":
        return "%r is not %r" % (error.instance, error.schema.get("const"))
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
