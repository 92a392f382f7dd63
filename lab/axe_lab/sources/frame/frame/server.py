"""frame's MCP server stand-in: /frame/mcp, /frame/entities, /frame/assets/logo.txt, /health/ready."""
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


def logo():
    with open(os.path.join(standin.HERE, "assets", "logo.txt"), "rb") as fh:
        return 200, fh.read()


if __name__ == "__main__":
    standin.serve("frame", PORT, {"/mcp": mcp, "/entities": entities, "/assets/logo.txt": logo},
                  readiness, base_path="/frame")
