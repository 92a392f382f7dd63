"""frame's MCP server stand-in: /frame/mcp, /frame/mcp/journal (a journal entry, as an MCP tool call posts it),
/frame/entities, /frame/assets/logo.txt, /health/ready."""
import os

import standin
from frame import store

PORT = 8000


def readiness():
    problems = standin.missing_env(["FRAME_DB_PASSWORD", "FRAME_MCP_TOKEN"])
    reason = standin.broken_reason()
    if reason:
        problems.append(reason)
    if not problems:
        try:
            store.entities()
        except Exception as exc:
            problems.append("database: %s" % str(exc).strip())
    return problems


def mcp():
    return 200, dict(standin.identity(), service="frame", endpoint="mcp")


def entities():
    return 200, {"entities": [e["id"] for e in store.entities()]}


def journal(query):
    """An MCP tool call that posts a journal entry, as an employee's Claude makes it (?entity=ID&actor=EMAIL&memo=)."""
    entity, actor = (query.get("entity") or [""])[0], (query.get("actor") or [""])[0]
    if not entity or not actor or actor == store.SYSTEM:
        return 400, {"error": "entity and actor (a person) are required"}
    entry = store.journal(entity, actor, (query.get("memo") or [""])[0])
    if entry is None:
        return 404, {"error": "no entity %s" % entity}
    return 200, {"journal_entry": entry, "entity": entity}


def logo():
    with open(os.path.join(standin.HERE, "assets", "logo.txt"), "rb") as fh:
        return 200, fh.read()


if __name__ == "__main__":
    standin.serve("frame", PORT, {"/mcp": mcp, "/mcp/journal": journal, "/entities": entities,
                                   "/assets/logo.txt": logo},
                  readiness, base_path="/frame")
