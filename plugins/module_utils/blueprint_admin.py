# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's D+1 grant, `UPDATE User SET role = 'admin' WHERE email = ...`, as pure parts: is the email an
address, which argv asks blueprint's user-table command (blueprint_definition.admin), what its answer says,
and the errors an operator reads. Nothing here runs anything (the blueprint_admin module does), so all of it is
unit-tested with no host; `axe blueprint admin` checks the email with the same function before any SSH.

The email only ever travels as one argv word, appended to the command the role declares, and blueprint puts it
into its statement as a parameter: no shell and no SQL text is built from it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.axelabs.onboard.plugins.module_utils.schemas import UNSAFE_CHARS
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

ADMIN = "admin"
MAX_LENGTH = 254  # RFC 5321's limit for a whole address (the path is 256 with its angle brackets)
MAX_LOCAL = 64
# RFC 5322's atext plus any non-ASCII character (RFC 6531), without the braces: no address Entra issues has
# them, and Ansible would read `{{` in a variable as a template.
_LOCAL_CHAR = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`|~.-]|[^\x00-\x7f]")
_LABEL = re.compile(r"^[^\W_](?:(?:[^\W_]|-)*[^\W_])?$", re.UNICODE)  # letters and digits, any script
_UNSAFE = re.compile("[" + UNSAFE_CHARS + "]")


def email_problem(email):
    """What makes `email` not an address blueprint could hold, in words; None when it is one."""
    if not email:
        return "it is empty"
    if len(email) > MAX_LENGTH:
        return "it is %d characters long; an address has at most %d" % (len(email), MAX_LENGTH)
    if _UNSAFE.search(email):
        return "it contains a control or invisible character"
    if re.search(r"\s", email):
        return "it contains whitespace"
    if email.count("@") != 1:
        return "it must have exactly one @ (it has %d)" % email.count("@")
    local, domain = email.split("@")
    if not local or len(local) > MAX_LOCAL:
        return "the part before @ must be 1 to %d characters long" % MAX_LOCAL
    bad = sorted(set(c for c in local if not _LOCAL_CHAR.match(c)))
    if bad:
        return "the part before @ cannot have %s" % " ".join(repr(c) for c in bad)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "the part before @ cannot start or end with a dot, or have two dots in a row"
    labels = domain.split(".")
    if len(labels) < 2 or not all(len(label) <= 63 and _LABEL.match(label) for label in labels):
        return "%r is not a domain name (labels of letters, digits and inner hyphens, joined by dots)" % domain
    return None


def check_email(email):
    problem = email_problem(email)
    if problem:
        raise ProductError("%r is not an email address: %s" % (email, problem),
                           next_step="give the address the user signs in to Microsoft with, as Entra shows it")


def command(argv, email):
    """The role's command with the email as its last word (the declared argv ends with `--`)."""
    return list(argv) + [email]


def rerun(customer, email):
    """The command that grants, as the operator runs it again (the email quoted for a POSIX shell)."""
    quoted = email if re.match(r"^[A-Za-z0-9@._+-]+$", email) else "'%s'" % email.replace("'", "'\"'\"'")
    return "axe blueprint admin %s %s --apply" % (customer, quoted)


def read_user(rc, out, err, container):
    """The user in the command's answer, one JSON object with `user` (an object or null); None: no such user."""
    answer = None
    for line in reversed((out or "").splitlines()):
        if line.strip().startswith("{"):
            try:
                answer = json.loads(line)
                break
            except ValueError:
                continue
    user = (answer or {}).get("user")
    if user is None and answer is not None and "user" in answer:
        return None
    if rc != 0 or not isinstance(user, dict) or not user.get("role"):
        why = ((answer or {}).get("error") or err or out or "no answer").strip()[-400:]
        raise ProductError("blueprint's user command in %s failed (exit %d): %s" % (container, rc, why),
                           next_step="read `docker logs %s` on the host, fix what it names, then run the same "
                                     "command again (nothing was changed by this one)" % container)
    return user


def never_signed_in(customer, email, sign_in_url):
    return ProductError(
        "%s has not signed in to blueprint yet: blueprint has no user with exactly this email (a user is created "
        "by their first Microsoft sign-in, with the role 'user')" % email,
        next_step="have them sign in at %s with Microsoft, then run again: `%s`" % (sign_in_url, rerun(customer, email)))


def not_running(container, status, customer, email):
    return ProductError(
        "%s is not running on %s (%s): blueprint's users cannot be read" % (container, customer, status or "no such container"),
        next_step="deploy blueprint: `axe deploy blueprint %s --apply`, then run again: `%s`" % (customer, rerun(customer, email)))


def grant_not_confirmed(container, email, user):
    return ProductError("blueprint in %s answered the grant for %s with the role %r, not %r"
                        % (container, email, (user or {}).get("role"), ADMIN),
                        next_step="read `docker logs %s` on the host; the grant is safe to run again" % container)


def diff(email, before, after):
    """The user's role as a line, before and after (absent before the first sign-in)."""
    def line(role):
        return "%s: %s\n" % (email, role) if role else ""
    return dict(before_header="blueprint User role", after_header="blueprint User role",
                before=line(before), after=line(after))
