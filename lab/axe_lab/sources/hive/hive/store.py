"""hive's mirror of frame's entities, in sqlite on the hive-data volume (shared by both colours)."""
import os
import sqlite3

PATH = os.environ.get("HIVE_DB", "/data/hive.db")


def connect():
    conn = sqlite3.connect(PATH, timeout=5)
    conn.execute("CREATE TABLE IF NOT EXISTS entities (id TEXT PRIMARY KEY, legal_name TEXT NOT NULL)")
    return conn


def entities():
    with connect() as conn:
        return [{"id": i, "legal_name": n} for i, n in conn.execute("SELECT id, legal_name FROM entities ORDER BY id")]


def register(entity_id, legal_name):
    with connect() as conn:
        return conn.execute("INSERT OR IGNORE INTO entities (id, legal_name) VALUES (?, ?)",
                            (entity_id, legal_name)).rowcount == 1
