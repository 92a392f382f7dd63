#!/usr/bin/env python3
"""A stand-in for `bw serve`: the Bitwarden CLI's local REST API (Vault Management API).

Stdlib only, so it runs in a lab container or on the operator side as `bw serve`. Paths, bodies
and envelopes follow Bitwarden's published spec (shared/specs/bitwarden-vault-management-api.json)
and what the real CLI was seen to do: `{"success": true, "data": ...}`, lists as
`{"object": "list", "data": [...]}`, every failure HTTP 400 `{"success": false, "message": ...}`,
403 unless the Host is localhost/127.0.0.1/[::1], 403 to any request with an Origin header.

State, as with the real CLI and server:
  server  a JSON file (--server), the Vaultwarden server's copy, shared by every `bw` process
  cache   this process's copy, taken at start and at POST /sync, updated by its own writes.
A write by another process (another operator's `bw`, a lab knob) is invisible here until /sync:
trap T19. The vault is unlocked when the process was started with the lab's BW_SESSION, or after
POST /unlock with the master password; otherwise every vault call answers "Vault is locked."
"""
import argparse
import copy
import datetime
import fcntl
import json
import os
import sys
import threading
import uuid
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from _jsonhttp import JSONHandler

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Server:
    """The shared server copy: a JSON file under an exclusive lock."""

    def __init__(self, path):
        self.path = path

    def _locked(self, fn):
        with open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = self._read()
                result = fn(state)
                self._write(state)
                return result
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self):
        try:
            with open(self.path) as fh:
                return json.load(fh)
        except FileNotFoundError:
            return {"organizations": [], "collections": [], "items": []}

    def _write(self, state):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(state, fh, indent=1)
        os.replace(tmp, self.path)

    def snapshot(self):
        return self._locked(lambda s: copy.deepcopy(s))

    def change(self, fn):
        return self._locked(fn)


class Vault:
    def __init__(self, server, session, password, email):
        self.server = server
        self.session = session
        self.password = password
        self.email = email
        self.lock = threading.Lock()
        self.unlocked = bool(session) and os.environ.get("BW_SESSION") == session
        self.cache = server.snapshot()
        self.last_sync = now()

    def sync(self):
        self.cache = self.server.snapshot()
        self.last_sync = now()


class Fail(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


def contains(value, term):
    return term.lower() in (value or "").lower()


def item_view(item):
    return {"passwordHistory": None, "object": "item", **item}


class Handler(JSONHandler):
    vault: Vault = None
    lab_knobs = False
    content_type = "application/json; charset=utf-8"

    def _body(self):
        try:
            return self._read_json()
        except ValueError:
            raise Fail("Invalid JSON in request body.")

    def _handle(self, method):
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0] if not (self.headers.get("Host") or "").startswith("[") \
            else (self.headers.get("Host") or "").split("]")[0] + "]"
        if host not in LOCAL_HOSTS or self.headers.get("Origin"):
            self._send(403, {"success": False, "message": "Forbidden."})
            return
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            with self.vault.lock:
                data = self.route(method, url.path, query)
            self._send(200, {"success": True, **({"data": data} if data is not None else {})})
        except Fail as exc:
            self._send(exc.status, {"success": False, "message": exc.message})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    # routes ---------------------------------------------------------------------------
    def route(self, method, path, query):
        v = self.vault
        if self.lab_knobs and path.startswith("/_lab/"):
            return self.lab(method, path)
        if (method, path) == ("GET", "/status"):
            return {"object": "template", "template": {
                "serverUrl": "https://vault.lab.invalid", "lastSync": v.last_sync, "userEmail": v.email,
                "userId": "5d1c5a38-0d0a-4a34-9c0c-6f1c4bb0a001", "status": "unlocked" if v.unlocked else "locked"}}
        if (method, path) == ("POST", "/unlock"):
            if self._body().get("password") != v.password:
                raise Fail("Invalid master password.")
            v.unlocked = True
            return {"noColor": False, "object": "message", "title": "Your vault is now unlocked!",
                    "message": "To unlock your vault, set your session key to the `BW_SESSION` environment variable.",
                    "raw": v.session}
        if (method, path) == ("POST", "/lock"):
            v.unlocked = False
            return {"noColor": False, "object": "message", "title": "Your vault is locked.", "message": None}
        if not v.unlocked:
            raise Fail("Vault is locked.")
        if (method, path) == ("POST", "/sync"):
            v.sync()
            return {"noColor": False, "object": "message", "title": "Syncing complete.", "message": None}
        if (method, path) == ("GET", "/list/object/organizations"):
            orgs = [o for o in v.cache["organizations"] if contains(o["name"], query.get("search", ""))]
            return {"object": "list", "data": orgs}
        if (method, path) in (("GET", "/list/object/collections"), ("GET", "/list/object/org-collections")):
            if path.endswith("org-collections") and not query.get("organizationId"):
                raise Fail("--organizationid <organizationid> required.")
            cols = [dict(c, object="collection" if path.endswith("/collections") else "org-collection")
                    for c in v.cache["collections"]
                    if contains(c["name"], query.get("search", ""))
                    and query.get("organizationId", c["organizationId"]) == c["organizationId"]]
            return {"object": "list", "data": cols}
        if (method, path) == ("POST", "/object/org-collection"):
            return self.create_collection(query.get("organizationId"), self._body())
        if (method, path) == ("GET", "/list/object/items"):
            return {"object": "list", "data": [item_view(i) for i in self.search(query)]}
        if (method, path) == ("POST", "/object/item"):
            return item_view(self.create_item(self._body()))
        if path.startswith("/object/item/"):
            item_id = path[len("/object/item/"):]
            if method == "GET":
                return item_view(self.find(item_id))
            if method == "PUT":
                return item_view(self.edit_item(item_id, self._body()))
            if method == "DELETE":
                self.delete_item(item_id)
                return None
        raise Fail("Not found.", status=404 if method == "GET" else 400)

    def search(self, query):
        term = query.get("search", "")
        out = []
        for item in self.vault.cache["items"]:
            if item.get("deletedDate"):
                continue
            if query.get("organizationId") and item.get("organizationId") != query["organizationId"]:
                continue
            if query.get("collectionId") and query["collectionId"] not in (item.get("collectionIds") or []):
                continue
            login = item.get("login") or {}
            if term and not (contains(item["name"], term) or contains(login.get("username"), term)
                             or contains(item.get("notes"), term)):
                continue
            out.append(item)
        return out

    def find(self, item_id):
        for item in self.vault.cache["items"]:
            if item["id"] == item_id and not item.get("deletedDate"):
                return item
        raise Fail("Not found.")

    def _write_through(self, fn):
        """A write goes to the server and to this process's cache, as the real CLI does."""
        result = self.vault.server.change(fn)
        fn(self.vault.cache)
        return result

    def create_collection(self, org_id, body):
        if not org_id or org_id not in [o["id"] for o in self.vault.cache["organizations"]]:
            raise Fail("Organization not found.")
        if not body.get("name"):
            raise Fail("Collection name is required.")
        col = {"id": str(uuid.uuid4()), "organizationId": org_id, "name": body["name"],
               "externalId": body.get("externalId"), "groups": body.get("groups") or []}
        self._write_through(lambda s: s["collections"].append(copy.deepcopy(col)))
        return dict(col, object="org-collection")

    def _check_item(self, body):
        if body.get("type") not in (1, 2, 3, 4):
            raise Fail("Invalid item type.")
        if not body.get("name"):
            raise Fail("Name is required.")
        org = body.get("organizationId")
        cols = body.get("collectionIds") or []
        if org:
            if org not in [o["id"] for o in self.vault.cache["organizations"]]:
                raise Fail("Organization not found.")
            if not cols:
                raise Fail("You must select at least one collection.")
            known = {c["id"] for c in self.vault.cache["collections"] if c["organizationId"] == org}
            if set(cols) - known:
                raise Fail("Collection not found.")

    def create_item(self, body):
        self._check_item(body)
        stamp = now()
        item = {"id": str(uuid.uuid4()), "organizationId": body.get("organizationId"),
                "folderId": body.get("folderId"), "type": body["type"], "reprompt": body.get("reprompt", 0),
                "name": body["name"], "notes": body.get("notes"), "favorite": bool(body.get("favorite")),
                "fields": body.get("fields") or [], "login": body.get("login") if body["type"] == 1 else None,
                "secureNote": body.get("secureNote") if body["type"] == 2 else None,
                "collectionIds": body.get("collectionIds") or [], "revisionDate": stamp,
                "creationDate": stamp, "deletedDate": None}
        self._write_through(lambda s: s["items"].append(copy.deepcopy(item)))
        return item

    def edit_item(self, item_id, body):
        current = self.find(item_id)
        self._check_item(dict(current, **body))
        updated = dict(current, **{k: v for k, v in body.items() if k not in ("id", "object", "creationDate")})
        updated["revisionDate"] = now()

        def apply(state):
            state["items"] = [copy.deepcopy(updated) if i["id"] == item_id else i for i in state["items"]]
        self._write_through(apply)
        return updated

    def delete_item(self, item_id):
        self.find(item_id)

        def trash(state):
            for i in state["items"]:
                if i["id"] == item_id:
                    i["deletedDate"] = now()
        self._write_through(trash)

    # lab knobs (never used by the product) ------------------------------------------------
    def lab(self, method, path):
        if (method, path) == ("POST", "/_lab/server-item"):
            # Another client wrote this item: the server has it, this process's cache does not (T19).
            body = self._body()
            item = {"id": str(uuid.uuid4()), "deletedDate": None, "revisionDate": now(), "creationDate": now(),
                    "favorite": False, "reprompt": 0, "fields": [], "folderId": None, **body}
            self.vault.server.change(lambda s: s["items"].append(item))
            return {"id": item["id"]}
        raise Fail("Not found.", status=404)


def seed(server, organization):
    """A new vault: the operator organization, nothing else."""
    def ensure(state):
        if not any(o["name"] == organization for o in state["organizations"]):
            state["organizations"].append({"object": "organization", "id": str(uuid.uuid4()), "name": organization,
                                           "status": 2, "type": 0, "enabled": True})
    server.change(ensure)


def main(argv=None):
    p = argparse.ArgumentParser(description="bw serve stand-in")
    p.add_argument("--hostname", default="localhost")
    p.add_argument("--port", type=int, default=8087)
    p.add_argument("--server", required=True, help="the shared server state (JSON)")
    p.add_argument("--session-file", required=True, help="the valid BW_SESSION")
    p.add_argument("--password-file", required=True, help="the master password")
    p.add_argument("--email", default="ops@axelabs.ai")
    p.add_argument("--organization", default="AXE Labs")
    p.add_argument("--lab-knobs", action="store_true")
    args = p.parse_args(argv)
    with open(args.session_file) as fh:
        session = fh.read().strip()
    with open(args.password_file) as fh:
        password = fh.read().strip()
    server = Server(args.server)
    seed(server, args.organization)
    Handler.vault = Vault(server, session, password, args.email)
    Handler.lab_knobs = args.lab_knobs
    host = "0.0.0.0" if args.hostname == "all" else args.hostname
    httpd = ThreadingHTTPServer((host, args.port), Handler)
    print("Listening on %s:%d" % (host, args.port), flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
