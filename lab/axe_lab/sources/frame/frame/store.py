"""frame's entities, in postgres (frame-postgres on the shared `axe` network)."""
import os

import psycopg2

SCHEMA = """CREATE TABLE IF NOT EXISTS entities (
    id text PRIMARY KEY, legal_name text NOT NULL, kind text NOT NULL,
    accounting_standard text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS audit_log (
    id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), actor text NOT NULL,
    action text NOT NULL, entity_id text NOT NULL, detail text NOT NULL DEFAULT '')"""
# Who acts for frame itself (registration by the operator's tools); anyone else is a person through MCP.
SYSTEM = "system"


def connect():
    conn = psycopg2.connect(host=os.environ.get("FRAME_DB_HOST", "frame-postgres"), user="frame",
                            dbname="postgres", password=os.environ["FRAME_DB_PASSWORD"], connect_timeout=3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(SCHEMA)
    return conn


def entities():
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, legal_name, kind, accounting_standard FROM entities ORDER BY id")
            return [dict(zip(("id", "legal_name", "kind", "accounting_standard"), row)) for row in cur.fetchall()]
    finally:
        conn.close()


def register(entity_id, legal_name, kind, standard):
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO entities (id, legal_name, kind, accounting_standard) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (id) DO NOTHING", (entity_id, legal_name, kind, standard))
            created = cur.rowcount == 1
            if created:
                cur.execute("INSERT INTO audit_log (actor, action, entity_id) VALUES (%s, 'entity.register', %s)",
                            (SYSTEM, entity_id))
            return created
    finally:
        conn.close()


def journal(entity_id, actor, memo):
    """A journal entry (분개) posted through MCP: the audit log's record of a person's work."""
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM entities WHERE id = %s", (entity_id,))
            if cur.fetchone() is None:
                return None
            cur.execute("INSERT INTO audit_log (actor, action, entity_id, detail) VALUES (%s, 'journal.create', %s, %s) "
                        "RETURNING id", (actor, entity_id, memo))
            return cur.fetchone()[0]
    finally:
        conn.close()


def audit_summary():
    """The audit log at a glance: entries in all, those by people (not the system), the last of them."""
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(*) FILTER (WHERE actor <> %s), "
                        "max(at) FILTER (WHERE actor <> %s) FROM audit_log", (SYSTEM, SYSTEM))
            entries, by_people, last = cur.fetchone()
            return {"entries": entries, "by_people": by_people, "last_by_people": last.isoformat() if last else None}
    finally:
        conn.close()
