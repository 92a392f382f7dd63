"""blueprint's users, in sqlite on the blueprint-data volume (/data), shared by blueprint-app and its candidate.

The table is the one the runbook's D+1 grant writes (`UPDATE User SET role = 'admin' WHERE email = ...`): a
user is created by the first Microsoft sign-in, with the role 'user', and only an admin's grant changes it.
Every statement takes its values as parameters, never as SQL text."""
import contextlib
import datetime
import os
import sqlite3
import uuid

PATH = os.environ.get("BLUEPRINT_DB", "/data/blueprint.db")
COLUMNS = ("id", "email", "name", "role", "createdAt", "lastSignInAt")
SCHEMA = ('CREATE TABLE IF NOT EXISTS "User" (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, '
          "role TEXT NOT NULL DEFAULT 'user', createdAt TEXT NOT NULL, lastSignInAt TEXT)")
SELECT = 'SELECT %s FROM "User" WHERE email = ?' % ", ".join(COLUMNS)


@contextlib.contextmanager
def transaction():
    # Two containers (blueprint-app, its candidate) may write at once: sqlite's lock, waited for.
    conn = sqlite3.connect(PATH, timeout=10)
    try:
        conn.execute(SCHEMA)
        with conn:
            yield conn
    finally:
        conn.close()


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _row(conn, email):
    row = conn.execute(SELECT, (email,)).fetchone()
    return dict(zip(COLUMNS, row)) if row else None


def find(email):
    """The user with exactly this email, or None (never signed in)."""
    with transaction() as conn:
        return _row(conn, email)


def count():
    with transaction() as conn:
        return conn.execute('SELECT count(*) FROM "User"').fetchone()[0]


def sign_in(email, name):
    """(user, first): the first sign-in creates the user (role 'user'); every one records lastSignInAt."""
    now = _now()
    with transaction() as conn:
        first = conn.execute('INSERT OR IGNORE INTO "User" (id, email, name, createdAt) VALUES (?, ?, ?, ?)',
                             (uuid.uuid4().hex, email, name, now)).rowcount == 1
        conn.execute('UPDATE "User" SET lastSignInAt = ? WHERE email = ?', (now, email))
        return _row(conn, email), first


def set_role(email, role):
    """(user, changed); user None when nobody with that email has signed in (nothing is written then)."""
    with transaction() as conn:
        changed = conn.execute('UPDATE "User" SET role = ? WHERE email = ? AND role != ?', (role, email, role)).rowcount == 1
        return _row(conn, email), changed
