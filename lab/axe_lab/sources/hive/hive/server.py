"""hive's MCP server stand-in: /hive/mcp, /hive/entities, /health/ready."""
import standin
from hive import store

PORT = 8000


def readiness():
    problems = standin.missing_env(["HIVE_MCP_TOKEN"])
    reason = standin.broken_reason()
    if reason:
        problems.append(reason)
    if not problems:
        try:
            store.entities()
        except Exception as exc:
            problems.append("store: %s" % exc)
    return problems


def mcp():
    return 200, dict(standin.identity(), service="hive", endpoint="mcp")


def entities():
    return 200, {"entities": [e["id"] for e in store.entities()]}


if __name__ == "__main__":
    standin.serve("hive", PORT, {"/mcp": mcp, "/entities": entities}, readiness, base_path="/hive")
