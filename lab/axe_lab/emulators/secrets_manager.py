#!/usr/bin/env python3
"""The lab's Bitwarden Secrets Manager: the identity server's client_credentials login with a machine
account's access token, and the API routes `bitwarden-sdk` calls for projects and secrets, over HTTPS.

Crypto-faithful without doing crypto here: like Bitwarden's server, it never sees a plaintext. A machine
account's `encrypted_payload` (the organization key under the access token's key) is made by the lab's
tooling (axe_lab/sm_crypto.py) when the account is made; the SDK encrypts every secret's key, value and
note, and every project's name, with that organization key before sending them, and this server stores
and returns those EncStrings as given. A token whose key part is wrong logs in (the id and secret
match) and then fails to decrypt, as against the real service.

Access: each machine account may read and write all projects ("all"), only the projects it created
("own"), or none ("none": an account without project access). An account may be marked expired.
Routes: POST /identity/connect/token; under /api: organizations/{org}/projects|secrets (GET, POST),
organizations/{org}/secrets/sync, projects/{id}, secrets/{id} (GET, PUT), projects/delete, secrets/delete,
secrets/get-by-ids. Standard library only (it runs in the lab's containers).
"""
import argparse
import datetime
import json
import os
import secrets
import ssl
import sys
import threading
import uuid
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _jsonhttp import JSONHandler, b64url, save_json  # noqa: E402

LOCK = threading.Lock()
STATE = {"projects": {}, "secrets": {}}
CLIENTS = {}  # client id -> {secret, organization, encrypted_payload, access, expired}
SESSIONS = {}  # bearer token -> (client id, expiry)
ARGS = None
SESSION_SECONDS = 3600


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def stamp():
    return now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def save():
    save_json(ARGS.state, STATE)


def bearer_token(client_id, client):
    """A JWT as the SDK reads it (it takes the organization from the payload; the signature is not checked)."""
    expiry = int(now().timestamp()) + SESSION_SECONDS
    claims = {"iss": "axelab-identity", "nbf": expiry - SESSION_SECONDS, "iat": expiry - SESSION_SECONDS, "exp": expiry,
              "scope": ["api.secrets"], "amr": ["Application"], "client_id": client_id, "sub": client_id,
              "organization": client["organization"], "jti": uuid.uuid4().hex}
    token = "%s.%s.%s" % (b64url({"alg": "RS256", "typ": "at+jwt"}), b64url(claims), secrets.token_urlsafe(32))
    SESSIONS[token] = (client_id, expiry)
    return token


def project_model(project):
    return {"object": "project", "id": project["id"], "organizationId": project["organizationId"],
            "name": project["name"], "creationDate": project["creationDate"], "revisionDate": project["revisionDate"]}


def secret_model(secret, with_value=True):
    projects = [{"id": p, "name": STATE["projects"][p]["name"]} for p in secret["projectIds"] if p in STATE["projects"]]
    model = {"object": "secret", "id": secret["id"], "organizationId": secret["organizationId"], "key": secret["key"],
             "creationDate": secret["creationDate"], "revisionDate": secret["revisionDate"], "projects": projects,
             "read": True, "write": True}
    if with_value:
        model.update(value=secret["value"], note=secret["note"])
    return model


class Handler(JSONHandler):
    def _error(self, status, message):
        self._send(status, {"message": message, "validationErrors": None, "exceptionMessage": None,
                            "exceptionStackTrace": None, "innerExceptionMessage": None, "object": "error"})

    # identity ------------------------------------------------------------------------------------
    def _login(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        client = CLIENTS.get(form.get("client_id", ""))
        if form.get("grant_type") != "client_credentials" or form.get("scope") != "api.secrets":
            return self._send(400, {"error": "unsupported_grant_type", "error_description": "client_credentials, api.secrets"})
        if client is None or not secrets.compare_digest(client["secret"], form.get("client_secret", "")):
            return self._send(400, {"error": "invalid_client", "error_description": "invalid_client"})
        if client.get("expired"):
            return self._send(400, {"error": "invalid_client", "error_description": "The access token has expired."})
        with LOCK:
            token = bearer_token(form["client_id"], client)
        self._send(200, {"access_token": token, "expires_in": SESSION_SECONDS, "token_type": "Bearer",
                         "scope": "api.secrets", "encrypted_payload": client["encrypted_payload"]})

    # the API ----------------------------------------------------------------------------------------
    def _client(self):
        auth = self.headers.get("Authorization") or ""
        session = SESSIONS.get(auth[7:]) if auth.startswith("Bearer ") else None
        if session is None or session[1] < now().timestamp():
            return None
        return session[0], CLIENTS[session[0]]

    def _can(self, who, project_id):
        client_id, client = who
        if client["access"] == "all":
            return True
        if client["access"] == "own":
            return STATE["projects"].get(project_id, {}).get("createdBy") == client_id
        return False

    def _visible_secrets(self, who, org):
        return [s for s in STATE["secrets"].values() if s["organizationId"] == org
                and any(self._can(who, p) for p in s["projectIds"])]

    def _route(self, method):
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        if parts[:3] == ["identity", "connect", "token"] and method == "POST":
            return self._login()
        if not parts or parts[0] != "api":
            return self._error(404, "Not found.")
        who = self._client()
        if who is None:
            return self._send(401, {"message": "Unauthorized."})
        try:
            body = self._read_json() if method in ("POST", "PUT") else None
        except ValueError:
            return self._error(400, "The request body is not JSON.")
        parts = parts[1:]
        with LOCK:
            return self._api(method, parts, body, who)

    def _api(self, method, parts, body, who):
        org_of_client = who[1]["organization"]
        if len(parts) >= 3 and parts[0] == "organizations":
            org = parts[1]
            if org != org_of_client:
                return self._error(404, "Resource not found.")
            if parts[2:] == ["projects"] and method == "GET":
                data = [project_model(p) for p in STATE["projects"].values() if p["organizationId"] == org
                        and self._can(who, p["id"])]
                return self._send(200, {"object": "list", "data": data, "continuationToken": None})
            if parts[2:] == ["projects"] and method == "POST":
                if who[1]["access"] == "none":
                    return self._error(404, "Resource not found.")
                stamp_ = stamp()
                project = {"id": str(uuid.uuid4()), "organizationId": org, "name": body.get("name"),
                           "creationDate": stamp_, "revisionDate": stamp_, "createdBy": who[0]}
                STATE["projects"][project["id"]] = project
                save()
                return self._send(200, project_model(project))
            if parts[2:] == ["secrets"] and method == "GET":
                visible = self._visible_secrets(who, org)
                projects = {p for s in visible for p in s["projectIds"]}
                return self._send(200, {"object": "SecretsWithProjectsList",
                                        "secrets": [secret_model(s, with_value=False) for s in visible],
                                        "projects": [project_model(STATE["projects"][p]) for p in sorted(projects)
                                                     if p in STATE["projects"]]})
            if parts[2:] == ["secrets"] and method == "POST":
                project_ids = body.get("projectIds") or []
                if not project_ids or not all(p in STATE["projects"] and self._can(who, p) for p in project_ids):
                    return self._error(404, "Resource not found.")
                stamp_ = stamp()
                secret = {"id": str(uuid.uuid4()), "organizationId": org, "key": body.get("key"),
                          "value": body.get("value"), "note": body.get("note") or "", "projectIds": project_ids,
                          "creationDate": stamp_, "revisionDate": stamp_}
                STATE["secrets"][secret["id"]] = secret
                save()
                return self._send(200, secret_model(secret))
            if parts[2:] == ["secrets", "sync"] and method == "GET":
                visible = self._visible_secrets(who, org)
                query = parse_qs(urlsplit(self.path).query)
                since = (query.get("lastSyncedDate") or [""])[0]
                changed = not since or any(s["revisionDate"] > since for s in visible)
                return self._send(200, {"object": "secretsSync", "hasChanges": changed,
                                        "secrets": {"object": "list", "data": [secret_model(s) for s in visible] if changed else [],
                                                    "continuationToken": None}})
            return self._error(404, "Not found.")
        if parts == ["secrets", "get-by-ids"] and method == "POST":
            found = [STATE["secrets"].get(i) for i in body.get("ids") or []]
            if any(s is None or not any(self._can(who, p) for p in s["projectIds"]) for s in found):
                return self._error(404, "Resource not found.")
            return self._send(200, {"object": "list", "data": [secret_model(s) for s in found], "continuationToken": None})
        if parts in (["secrets", "delete"], ["projects", "delete"]) and method == "POST":
            kind = parts[0]
            results = []
            for item_id in body if isinstance(body, list) else []:
                item = STATE[kind].get(item_id)
                allowed = item is not None and (self._can(who, item_id) if kind == "projects" else
                                                any(self._can(who, p) for p in item["projectIds"]))
                if allowed:
                    del STATE[kind][item_id]
                    if kind == "projects":
                        for s in STATE["secrets"].values():
                            s["projectIds"] = [p for p in s["projectIds"] if p != item_id]
                results.append({"id": item_id, "error": None if allowed else "access denied"})
            save()
            return self._send(200, {"object": "list", "data": results, "continuationToken": None})
        if len(parts) == 2 and parts[0] in ("secrets", "projects") and method in ("GET", "PUT"):
            kind, item_id = parts
            item = STATE[kind].get(item_id)
            allowed = item is not None and (self._can(who, item_id) if kind == "projects" else
                                            any(self._can(who, p) for p in item["projectIds"]))
            if not allowed:
                return self._error(404, "Resource not found.")
            if method == "PUT":
                if kind == "secrets":
                    project_ids = body.get("projectIds") or item["projectIds"]
                    if not all(p in STATE["projects"] and self._can(who, p) for p in project_ids):
                        return self._error(404, "Resource not found.")
                    item.update(key=body.get("key"), value=body.get("value"), note=body.get("note") or "",
                                projectIds=project_ids)
                else:
                    item["name"] = body.get("name")
                item["revisionDate"] = stamp()
                save()
            return self._send(200, secret_model(item) if kind == "secrets" else project_model(item))
        return self._error(404, "Not found.")

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PUT(self):
        self._route("PUT")


def main(argv=None):
    global ARGS
    p = argparse.ArgumentParser(description="Bitwarden Secrets Manager stand-in (identity + API, HTTPS)")
    p.add_argument("--port", type=int, default=8444)
    p.add_argument("--state", required=True, help="where projects and secrets (as EncStrings) are kept")
    p.add_argument("--clients", required=True, help="the machine accounts (made by the lab's tooling)")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    ARGS = p.parse_args(argv)
    with open(ARGS.clients) as fh:
        CLIENTS.update(json.load(fh))
    if os.path.exists(ARGS.state):
        with open(ARGS.state) as fh:
            STATE.update(json.load(fh))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ARGS.cert, ARGS.key)
    httpd = ThreadingHTTPServer(("0.0.0.0", ARGS.port), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
