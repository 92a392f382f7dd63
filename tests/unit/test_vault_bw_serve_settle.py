"""The bw_serve client's reads after its own writes (T19 as the real CLI 2026.x gives it): bw serve can answer a
list from a cache its sync has not finished filling. Only the transport (bw serve's answers) is replaced here;
the lab tests run the same client against the real CLIs."""
from __future__ import annotations

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import vault

ORG, COL = "org-1", "col-1"


class LaggingServe(vault.BwServeBackend):
    """bw serve whose next `lag` item listings show the items as they were before the last write."""

    def __init__(self, lag=0):
        super().__init__(url="http://127.0.0.1:9")
        self.items, self.before, self.lag, self.calls = [], [], lag, []

    def _call(self, method, path, body=None, query=None):
        self.calls.append((method, path))
        if method in ("POST", "PUT", "DELETE") and path.startswith("/object/item"):
            self.before = [dict(i) for i in self.items]
        if path == "/sync":
            if (query or {}).get("force") == "true":
                self.lag = 0  # a forced sync replaces the cache
            return None
        if path == "/list/object/organizations":
            return {"data": [{"id": ORG, "name": "AXE Labs"}]}
        if path == "/list/object/org-collections":
            return {"data": [{"id": COL, "name": query["search"]}]}
        if path == "/list/object/items":
            seen = self.before if self.lag else self.items
            self.lag = max(0, self.lag - 1)
            return {"data": [i for i in seen if query["search"].lower() in i["name"].lower()]}
        if (method, path) == ("POST", "/object/item"):
            self.items.append(dict(body, id="id-%d" % len(self.items)))
            return self.items[-1]
        if method == "PUT":
            self.items = [dict(body) if i["id"] == body["id"] else i for i in self.items]
            return body
        if method == "DELETE":
            self.items = [i for i in self.items if path.rsplit("/", 1)[1] != i["id"]]
            return None
        raise AssertionError((method, path))


def test_a_write_read_back_at_once_waits_for_the_listing_to_show_it(monkeypatch):
    monkeypatch.setattr(vault, "SETTLE_INTERVAL", 0.001)
    serve = LaggingServe()
    assert serve.put("acme", "frame", "FRAME_X", "v1") == "create"
    serve.lag = 2  # the next two listings are from before the write
    assert serve.get("acme", "frame", "FRAME_X") == "v1"
    # The put's own read and its forced second look (a new name), then 2 stale listings and 1 that shows it.
    assert serve.calls.count(("GET", "/list/object/items")) == 5
    serve.lag = 2
    assert serve.put("acme", "frame", "FRAME_X", "v2") == "update"
    serve.lag = 1
    assert serve.get_many("acme", "frame", ["FRAME_X", "FRAME_Y"]) == ["v2", None]
    assert serve.delete("acme", "frame", "FRAME_X") is True
    serve.lag = 1
    assert serve.list("acme") == []


def test_a_read_with_no_write_of_its_own_takes_the_first_listing():
    serve = LaggingServe(lag=5)
    serve.before = [{"id": "x", "name": "axe/acme/frame/FRAME_X", "login": {"password": "old"}}]
    assert serve.get("acme", "frame", "FRAME_X") == "old"  # what bw serve shows: nothing to wait for
    assert serve.calls.count(("GET", "/list/object/items")) == 1


def test_the_wait_is_bounded_and_then_the_listing_is_the_truth(monkeypatch):
    monkeypatch.setattr(vault, "SETTLE_SECONDS", 0.05)
    monkeypatch.setattr(vault, "SETTLE_INTERVAL", 0.01)
    serve = LaggingServe()
    serve.put("acme", "frame", "FRAME_X", "mine")
    serve.items = []  # another operator deleted it since
    assert serve.get("acme", "frame", "FRAME_X") is None
    assert 2 <= serve.calls.count(("GET", "/list/object/items")) <= 12


@pytest.mark.parametrize("search, expected_calls", [("axe/acme/frame/FRAME_X", 2), ("axe/other/", 1)])
def test_only_writes_the_search_covers_are_waited_for(monkeypatch, search, expected_calls):
    monkeypatch.setattr(vault, "SETTLE_INTERVAL", 0.001)
    serve = LaggingServe()
    serve.put("acme", "frame", "FRAME_X", "v1")
    before = serve.calls.count(("GET", "/list/object/items"))
    serve.lag = 1
    serve._items(search)
    assert serve.calls.count(("GET", "/list/object/items")) - before == expected_calls


def test_a_missing_name_is_looked_for_once_more_after_a_forced_sync_once_per_run():
    """Another client's write a moment ago, which this bw serve's listing does not show yet."""
    serve = LaggingServe(lag=1)
    serve.items = [{"id": "x", "name": "axe/acme/frame/FRAME_X", "login": {"password": "theirs"}}]
    assert serve.get("acme", "frame", "FRAME_X") == "theirs"
    assert ("POST", "/sync") in serve.calls and serve.calls.count(("GET", "/list/object/items")) == 2
    assert serve.get("acme", "frame", "FRAME_MISSING") is None  # believed: the forced sync was made
    assert serve.calls.count(("GET", "/list/object/items")) == 3
