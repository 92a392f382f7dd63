"""frame's entities, in postgres (frame-postgres on the shared `axe` network)."""
import os

import psycopg2

SCHEMA = """CREATE TABLE IF NOT EXISTS entities (
    id text PRIMARY KEY, legal_name text NOT NULL, kind text NOT NULL,
    accounting_standard text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"""


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
            return cur.rowcount == 1
    finally:
        conn.close()
