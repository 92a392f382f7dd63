#!/usr/bin/env python3
"""A stateful stand-in for the Cloudflare API subset the product uses (base path /client/v4).

Stdlib only. Zones, DNS records, Cloudflare Tunnels (cfd_tunnel: create, list, get, patch, delete,
token, configurations, connections) and token verify, with Cloudflare's envelope
(`success`, `errors`, `messages`, `result`, `result_info`), its pagination (an empty `result` past
the last page: the official SDK pages until it sees one) and its error codes:
  81053 CNAME onto a name holding A/AAAA/CNAME, 81054 A/AAAA onto a name holding a CNAME,
  81058 an identical record, 1013 a tunnel name in use, 1022 deleting a tunnel with connections,
  9109 an unknown token, 10000 a token without the permission the call needs.
TXT, MX and the other types coexist with a CNAME, as the real API accepts.
Lab knobs under /_lab (never used by the product): inject 429/500 answers, add a connection.
"""
import argparse
import base64
import datetime
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from _jsonhttp import JSONHandler

PREFIX = "/client/v4"
ADDRESS_TYPES = {"A", "AAAA", "CNAME"}
RECORD_TYPES = {"A", "AAAA", "CNAME", "TXT", "MX", "NS", "CAA", "SRV"}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Fail(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class State:
    def __init__(self, path):
        self.path = path
        self.lock = threading.RLock()
        self.failures = []  # HTTP statuses to answer next (lab knob)
        try:
            with open(path) as fh:
                self.data = json.load(fh)
        except FileNotFoundError:
            self.data = {"accounts": [], "zones": [], "records": [], "tunnels": [], "configs": {}, "tokens": {}}

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(self.data, fh, indent=1)
        os.replace(tmp, self.path)


class Handler(JSONHandler):
    state: State = None

    def _body(self):
        try:
            return self._read_json()
        except ValueError:
            raise Fail(400, 9207, "Request body is invalid.")

    def _handle(self, method):
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            with self.state.lock:
                if url.path.startswith("/_lab/"):
                    result = self.lab(method, url.path, self._body())
                    self._send(200, {"success": True, "errors": [], "messages": [], "result": result})
                    return
                if self.state.failures:
                    status = self.state.failures.pop(0)
                    self.state.save()
                    raise Fail(status, 971 if status == 429 else 10001,
                               "Please wait and consider throttling your request speed" if status == 429
                               else "Internal server error")
                if not url.path.startswith(PREFIX):
                    raise Fail(404, 7000, "No route for that URI")
                result, info = self.route(method, url.path[len(PREFIX):], query)
                self.state.save()
            payload = {"success": True, "errors": [], "messages": [], "result": result}
            if info is not None:
                payload["result_info"] = info
            self._send(200, payload)
        except Fail as exc:
            self._send(exc.status, {"success": False, "errors": [{"code": exc.code, "message": exc.message}],
                                    "messages": [], "result": None})

    do_GET = lambda self: self._handle("GET")  # noqa: E731
    do_POST = lambda self: self._handle("POST")  # noqa: E731
    do_PUT = lambda self: self._handle("PUT")  # noqa: E731
    do_PATCH = lambda self: self._handle("PATCH")  # noqa: E731
    do_DELETE = lambda self: self._handle("DELETE")  # noqa: E731

    # auth -------------------------------------------------------------------------------
    def token(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            raise Fail(400, 6003, "Invalid request headers")
        token = self.state.data["tokens"].get(auth[len("Bearer "):])
        if not token:
            raise Fail(403, 9109, "Invalid access token")
        return token

    def need(self, permission):
        if permission not in self.token()["permissions"]:
            raise Fail(403, 10000, "Authentication error")

    # routes -----------------------------------------------------------------------------
    def route(self, method, path, query):
        d = self.state.data
        if (method, path) == ("GET", "/user/tokens/verify"):
            t = self.token()
            return {"id": t["id"], "status": "active"}, None  # no expiry: the fields are absent
        if (method, path) == ("GET", "/zones"):
            self.need("zone:read")
            zones = [z for z in d["zones"] if not query.get("name") or z["name"] == query["name"]]
            return self.page(zones, query, 20)
        m = re.fullmatch(r"/zones/([0-9a-f]{32})/dns_records(?:/([0-9a-f]{32}))?", path)
        if m:
            zone = self.zone(m.group(1))
            return self.dns(method, zone, m.group(2), query)
        m = re.fullmatch(r"/accounts/([0-9a-f]{32})/cfd_tunnel(?:/([0-9a-f-]{36})(?:/(token|configurations|connections))?)?", path)
        if m:
            if m.group(1) not in [a["id"] for a in d["accounts"]]:
                raise Fail(403, 10000, "Authentication error")
            return self.tunnels(method, m.group(1), m.group(2), m.group(3), query)
        raise Fail(404, 7000, "No route for that URI")

    def page(self, items, query, default_per_page):
        per_page = max(1, min(int(float(query.get("per_page", default_per_page))), 5000))
        page = max(1, int(float(query.get("page", 1))))
        chunk = items[(page - 1) * per_page: page * per_page]
        total_pages = (len(items) + per_page - 1) // per_page
        return chunk, {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(items),
                       "total_pages": total_pages}

    def zone(self, zone_id):
        for z in self.state.data["zones"]:
            if z["id"] == zone_id:
                return z
        raise Fail(404, 7003, "Could not route to /zones/%s, perhaps your object identifier is invalid?" % zone_id)

    # dns ---------------------------------------------------------------------------------
    def dns(self, method, zone, record_id, query):
        d = self.state.data
        records = [r for r in d["records"] if r["zone_id"] == zone["id"]]
        if method == "GET" and not record_id:
            self.need("dns:read")
            name = query.get("name.exact") or query.get("name")
            out = [r for r in records if (not name or r["name"] == name)
                   and (not query.get("type") or r["type"] == query["type"])
                   and (not query.get("content") or r["content"] == query["content"])]
            return self.page(out, query, 100)
        if method == "GET":
            self.need("dns:read")
            return self.record(records, record_id), None
        self.need("dns:edit")
        if method == "DELETE":
            rec = self.record(records, record_id)
            d["records"].remove(rec)
            return {"id": rec["id"]}, None
        body = self._body()
        if method == "POST":
            rec = self.check_record(zone, body, records, None)
            rec.update(id=uuid.uuid4().hex, zone_id=zone["id"], zone_name=zone["name"], created_on=now(),
                       modified_on=now(), proxiable=rec["type"] in ADDRESS_TYPES, meta={}, settings={})
            if rec.get("comment"):
                rec["comment_modified_on"] = now()
            d["records"].append(rec)
            return rec, None
        current = self.record(records, record_id)
        merged = dict(current, **body) if method == "PATCH" else dict(body)
        rec = self.check_record(zone, merged, [r for r in records if r["id"] != record_id], current)
        current.pop("comment", None)
        current.update(rec, modified_on=now())
        return current, None

    def record(self, records, record_id):
        for r in records:
            if r["id"] == record_id:
                return r
        raise Fail(404, 81044, "Record does not exist.")

    def check_record(self, zone, body, others, current):
        rtype = body.get("type")
        if rtype not in RECORD_TYPES:
            raise Fail(400, 9000, "DNS record type is invalid.")
        name = (body.get("name") or "").rstrip(".").lower()
        if name == "@":
            name = zone["name"]
        if name and not name.endswith(zone["name"]):
            name = "%s.%s" % (name, zone["name"])
        if not name:
            raise Fail(400, 9005, "DNS record name is invalid.")
        if "ttl" not in body and current is None:
            raise Fail(400, 9021, "Invalid TTL. Must be between 60 and 86400, or 1 for automatic.")
        ttl = body.get("ttl", 1)
        if not (ttl == 1 or 60 <= int(ttl) <= 86400):
            raise Fail(400, 9021, "Invalid TTL. Must be between 60 and 86400, or 1 for automatic.")
        content = str(body.get("content") or "")
        if not content:
            raise Fail(400, 9006, "DNS record content is invalid.")
        same_name = [r for r in others if r["name"] == name]
        if any(r["type"] == rtype and r["content"] == content for r in same_name):
            raise Fail(400, 81058, "An identical record already exists.")
        if rtype == "CNAME" and any(r["type"] in ADDRESS_TYPES for r in same_name):
            raise Fail(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
        if rtype in ("A", "AAAA") and any(r["type"] == "CNAME" for r in same_name):
            raise Fail(400, 81054, "A CNAME record with that host already exists.")
        out = {"name": name, "type": rtype, "content": content, "ttl": int(ttl),
               "proxied": bool(body.get("proxied", False)) if rtype in ADDRESS_TYPES else False,
               "tags": body.get("tags") or []}
        if body.get("comment"):  # the schema's comment is a string: absent rather than null
            out["comment"] = body["comment"]
        return out

    # tunnels -----------------------------------------------------------------------------
    def tunnel(self, account_id, tunnel_id):
        for t in self.state.data["tunnels"]:
            if t["id"] == tunnel_id and t["account_tag"] == account_id:
                return t
        raise Fail(404, 1003, "Tunnel not found")

    def public(self, t):
        out = {k: v for k, v in t.items() if k != "secret"}
        out["status"] = "healthy" if t["connections"] else "inactive"
        return out

    def tunnels(self, method, account_id, tunnel_id, sub, query):
        d = self.state.data
        write = method != "GET"
        self.need("tunnel:edit" if write else "tunnel:read")
        if not tunnel_id:
            if method == "GET":
                deleted = str(query.get("is_deleted", "")).lower()
                out = [self.public(t) for t in d["tunnels"] if t["account_tag"] == account_id
                       and (not query.get("name") or t["name"] == query["name"])
                       and (deleted == "" or (deleted == "true") == bool(t["deleted_at"]))]
                return self.page(out, query, 20)
            body = self._body()
            name = body.get("name") or ""
            if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
                raise Fail(400, 1001, "Tunnel name is invalid")
            if any(t["name"] == name and t["account_tag"] == account_id and not t["deleted_at"] for t in d["tunnels"]):
                raise Fail(409, 1013, "You already have a tunnel with this name.")
            secret = body.get("tunnel_secret")
            if body.get("config_src", "local") == "local":
                try:
                    if not secret or len(base64.b64decode(secret, validate=True)) < 32:
                        raise ValueError
                except ValueError:
                    raise Fail(400, 1001, "tunnel_secret must be at least 32 bytes, base64 encoded")
            t = {"id": str(uuid.uuid4()), "account_tag": account_id, "name": name, "created_at": now(),
                 "deleted_at": None, "connections": [], "conns_active_at": None, "conns_inactive_at": now(),
                 "tun_type": "cfd_tunnel", "remote_config": body.get("config_src") == "cloudflare",
                 "config_src": body.get("config_src", "local"), "metadata": {}, "secret": secret}
            d["tunnels"].append(t)
            return self.public(t), None
        t = self.tunnel(account_id, tunnel_id)
        if sub == "token":
            payload = {"a": account_id, "t": t["id"], "s": t["secret"]}
            return base64.b64encode(json.dumps(payload).encode()).decode(), None
        if sub == "configurations":
            if method == "GET":
                return {"tunnel_id": t["id"], "account_id": account_id, "version": d["configs"].get(t["id"], {}).get("version", 0),
                        "config": d["configs"].get(t["id"], {}).get("config"), "source": t["config_src"],
                        "created_at": t["created_at"]}, None
            version = d["configs"].get(t["id"], {}).get("version", 0) + 1
            d["configs"][t["id"]] = {"version": version, "config": self._body().get("config")}
            return {"tunnel_id": t["id"], "account_id": account_id, "version": version,
                    "config": d["configs"][t["id"]]["config"], "source": t["config_src"], "created_at": now()}, None
        if sub == "connections":
            if method == "GET":
                return t["connections"], None
            t["connections"] = []
            t["conns_inactive_at"] = now()
            return None, None
        if method == "GET":
            return self.public(t), None
        if method == "PATCH":
            body = self._body()
            if "name" in body:
                t["name"] = body["name"]
            if "tunnel_secret" in body:
                t["secret"] = body["tunnel_secret"]
            return self.public(t), None
        if method == "DELETE":
            if t["connections"]:
                raise Fail(400, 1022, "Cannot delete tunnel because it has active connections. Clean up the "
                                      "connections first.")
            t["deleted_at"] = now()
            return self.public(t), None
        raise Fail(405, 10405, "Method not allowed")

    # lab knobs ------------------------------------------------------------------------------
    def lab(self, method, path, body):
        d = self.state.data
        if path == "/_lab/fail":
            self.state.failures.extend([int(body.get("status", 500))] * int(body.get("count", 1)))
            return {"queued": len(self.state.failures)}
        if path == "/_lab/connect":
            # What cloudflared does at start and every few seconds: present its credentials and
            # say where the edge can reach it. Wrong credentials: refused, as the real edge does.
            for t in d["tunnels"]:
                if t["id"] == body.get("tunnel_id") and not t["deleted_at"]:
                    if t["secret"] != body.get("secret") or body.get("account") != t["account_tag"]:
                        raise Fail(403, 1004, "Tunnel credentials are invalid")
                    conn = {"id": str(uuid.uuid4()), "colo_name": "icn01", "is_pending_reconnect": False,
                            "origin_ip": body.get("origin", ""), "opened_at": now(),
                            "client_id": str(uuid.uuid4()), "client_version": "2024.8.2-lab"}
                    t["connections"] = [conn]
                    t["conns_active_at"] = now()
                    CONNECTORS[t["id"]] = (body.get("origin", ""), time.monotonic())
                    self.state.save()
                    return conn
            raise Fail(404, 1003, "Tunnel not found")
        if path == "/_lab/disconnect":
            for t in d["tunnels"]:
                if t["id"] == body.get("tunnel_id") and t["secret"] == body.get("secret"):
                    t["connections"] = []
                    t["conns_inactive_at"] = now()
                    CONNECTORS.pop(t["id"], None)
                    self.state.save()
            return {}
        raise Fail(404, 7000, "No route for that URI")


# The edge -------------------------------------------------------------------------------
CONNECTORS = {}  # tunnel id -> (cloudflared's address on the lab network, last heartbeat)
HEARTBEAT_STALE = 15.0
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", "host",
               "content-length"}


class Edge(BaseHTTPRequestHandler):
    """`https://{public_domain}` as Cloudflare's edge serves it: Host -> DNS record -> tunnel ->
    the connected cloudflared, which routes by its ingress rules. Errors are Cloudflare's:
    1016 (no DNS record), 1033 (tunnel not connected), 502 (cloudflared cannot reach the origin)."""

    state: State = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as in _jsonhttp.JSONHandler: no 40 ms stall per keep-alive request

    def log_message(self, fmt, *args):
        pass

    def _plain(self, status, text, extra=None):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        with self.state.lock:
            records = [r for r in self.state.data["records"] if r["name"] == host and r["type"] == "CNAME"]
        target = records[0]["content"] if records and records[0].get("proxied") else ""
        if not target.endswith(".cfargotunnel.com"):
            self._plain(530, "error code: 1016\n")  # Origin DNS error
            return
        tunnel_id = target[:-len(".cfargotunnel.com")]
        origin, seen = CONNECTORS.get(tunnel_id, ("", 0.0))
        if not origin or time.monotonic() - seen > HEARTBEAT_STALE:
            self._plain(530, "error code: 1033\n")  # Argo Tunnel error: no healthy connector
            return
        if urlparse(self.path).path == "/cdn-cgi/trace":
            self._plain(200, "fl=lab\nh=%s\nip=127.0.0.1\nts=%.3f\nvisit_scheme=https\nuag=%s\ncolo=ICN\n"
                        "http=http/1.1\ntls=TLSv1.3\nwarp=off\n" % (host, time.time(), self.headers.get("User-Agent", "")))
            return
        self._forward(origin, host)

    def _forward(self, origin, host):
        import http.client
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        headers.update({"Host": host, "Cf-Connecting-Ip": self.client_address[0], "X-Forwarded-Proto": "https"})
        try:
            conn = http.client.HTTPConnection(origin, timeout=30)
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError:
            self._plain(530, "error code: 1033\n")
            return
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_HEADERS:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cf-Ray", uuid.uuid4().hex[:16] + "-ICN")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = lambda self: self._handle()  # noqa: E731


def seed(state, zone_name, tokens):
    d = state.data
    if not d["accounts"]:
        d["accounts"].append({"id": uuid.uuid4().hex, "name": "AXE Labs"})
    account = d["accounts"][0]
    if not any(z["name"] == zone_name for z in d["zones"]):
        d["zones"].append({"id": uuid.uuid4().hex, "name": zone_name, "status": "active", "paused": False,
                           "type": "full", "account": {"id": account["id"], "name": account["name"]},
                           "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
                           "original_name_servers": None, "original_registrar": None, "original_dnshost": None,
                           "development_mode": 0, "meta": {"phishing_detected": False, "cdn_only": False},
                           "owner": {"id": account["id"], "name": account["name"], "type": "organization"},
                           "permissions": [],
                           "created_on": now(), "modified_on": now(), "activated_on": now()})
    for token, permissions in tokens.items():
        d["tokens"].setdefault(token, {"id": uuid.uuid4().hex, "permissions": permissions})
        d["tokens"][token]["permissions"] = permissions
    state.save()


def main(argv=None):
    p = argparse.ArgumentParser(description="Cloudflare API stand-in")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--edge-port", type=int, default=8080)
    p.add_argument("--state", required=True)
    p.add_argument("--zone", default="axelabs.ai")
    p.add_argument("--tokens", required=True, help="JSON file: {token: [permissions]}")
    args = p.parse_args(argv)
    with open(args.tokens) as fh:
        tokens = json.load(fh)
    state = State(args.state)
    seed(state, args.zone, tokens)
    Handler.state = state
    Edge.state = state
    edge = ThreadingHTTPServer(("0.0.0.0", args.edge_port), Edge)
    threading.Thread(target=edge.serve_forever, daemon=True).start()
    httpd = ThreadingHTTPServer(("0.0.0.0", args.port), Handler)
    print("Listening on :%d (API) and :%d (edge)" % (args.port, args.edge_port), flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
