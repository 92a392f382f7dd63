# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the product talks to Cloudflare: one client on the official `cloudflare` SDK.

- Base URL: the SDK's own setting (`base_url`, or CLOUDFLARE_BASE_URL); the token likewise
  (`api_token`, or CLOUDFLARE_API_TOKEN). The token comes from the vault (trap T09), never argv.
- Retries: the SDK retries 429 and 5xx (and timeouts) with exponential backoff; we give it
  MAX_RETRIES attempts and, when they are spent, say so.
- Errors: every API error becomes a ProductError that names Cloudflare's code and the fix; a 403
  names the token permission the call needed.
- The account comes from the zone (zones carry their account), so one setting, the zone name,
  locates everything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import traceback

from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

try:
    import cloudflare
    HAS_CLOUDFLARE = True
    CLOUDFLARE_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - the controller's virtualenv has it
    HAS_CLOUDFLARE = False
    CLOUDFLARE_IMPORT_ERROR = traceback.format_exc()

MAX_RETRIES = 6
# Page sizes of the two lists the product reads (Cloudflare allows up to 50 zones and 5,000,000 records a page): a
# zone looked up by name and the records at one name each fit one page.
ZONES_PER_PAGE = 50
RECORDS_PER_PAGE = 100
OWNER_COMMENT = "managed by axe (axelabs.onboard)"
TUNNEL_DOMAIN = "cfargotunnel.com"

# Cloudflare error codes the product explains.
CODE_HINTS = {
    81053: "an A, AAAA or CNAME record already holds that name",
    81054: "a CNAME already holds that name",
    81058: "an identical record already exists",
    1013: "a tunnel with that name already exists",
    1022: "the tunnel still has connections",
    9109: "the API token is not valid",
}


class CloudflareError(ProductError):
    pass


def tunnel_target(tunnel_id):
    return "%s.%s" % (tunnel_id, TUNNEL_DOMAIN)


def _codes(exc):
    body = getattr(exc, "body", None)
    errors = (body or {}).get("errors") if isinstance(body, dict) else None
    return [(e.get("code"), e.get("message")) for e in (errors or []) if isinstance(e, dict)]


class CloudflareClient(object):
    """One Cloudflare account, located through one zone. Methods return plain dicts."""

    def __init__(self, api_token, zone_name, base_url=None, max_retries=MAX_RETRIES):
        if not HAS_CLOUDFLARE:
            raise CloudflareError("the Python package cloudflare is missing on the controller",
                                  next_step="install axe with scripts/setup.sh (it pins cloudflare)")
        if not api_token:
            raise CloudflareError("no Cloudflare API token", trap="T09",
                                  next_step="store it in the vault: axe secret push CLOUDFLARE_API_TOKEN --service cloudflare "
                                            "--customer operator --apply "
                                            "(the token needs Zone:Read, DNS:Edit and Cloudflare Tunnel:Edit)")
        kwargs = dict(api_token=api_token, max_retries=max_retries)
        if base_url:
            kwargs["base_url"] = base_url
        self.sdk = cloudflare.Cloudflare(**kwargs)
        self.zone_name = zone_name
        self._zone = None

    # errors -----------------------------------------------------------------------------
    def call(self, what, needs, fn, *args, **kwargs):
        """Run one SDK call; turn its failures into errors an operator can act on."""
        try:
            return fn(*args, **kwargs)
        except cloudflare.APIConnectionError as exc:
            raise CloudflareError("cannot reach the Cloudflare API (%s): %s" % (self.sdk.base_url, exc),
                                  next_step="check the network, or CLOUDFLARE_BASE_URL")
        except cloudflare.APIStatusError as exc:
            codes = _codes(exc)
            text = "; ".join("%s %s" % (c, m) for c, m in codes) or str(exc)
            status = exc.status_code
            if status == 403 or any(c == 10000 for c, dummy in codes):
                raise CloudflareError("%s: the API token lacks the permission %s (Cloudflare %s)" % (what, needs, text),
                                      trap="T09", next_step="give the token %s in the Cloudflare dashboard "
                                      "(API Tokens), store it in the vault again, and rerun" % needs)
            if any(c == 9109 for c, dummy in codes) or status == 401:
                raise CloudflareError("%s: the API token is not valid (Cloudflare %s)" % (what, text), trap="T09",
                                      next_step="create a new token and store it in the vault")
            if status == 429 or status >= 500:
                raise CloudflareError("%s: Cloudflare kept answering %d after %d retries (%s)"
                                      % (what, status, MAX_RETRIES, text),
                                      next_step="wait a minute and run again; nothing half-done is left behind")
            hint = "; ".join(CODE_HINTS[c] for c, dummy in codes if c in CODE_HINTS)
            raise CloudflareError("%s failed: Cloudflare %s%s" % (what, text, " (%s)" % hint if hint else ""),
                                  next_step="see the message; the run stopped before changing anything else")

    def listed(self, what, needs, fn, per_page, **params):
        """Every item of a paginated list. The SDK's own iteration asks for the page after any non-empty one, so a
        lookup that fits one page costs a second, empty round trip; a page shorter than `per_page` is the last."""
        page = self.call(what, needs, fn, per_page=per_page, **params)
        items = list(page.result or [])
        while len(page.result or []) >= per_page:
            page = self.call(what, needs, page.get_next_page)
            items.extend(page.result or [])
        return items

    # lookups ----------------------------------------------------------------------------
    def verify(self):
        result = self.call("token verify", "(any)", self.sdk.user.tokens.verify)
        return {"id": result.id, "status": result.status}

    def zone(self):
        if self._zone is None:
            zones = self.listed("zone lookup", "Zone:Read", self.sdk.zones.list, ZONES_PER_PAGE, name=self.zone_name)
            if not zones:
                raise CloudflareError("the zone %s is not in this Cloudflare account" % self.zone_name,
                                      next_step="check AXE_CLOUDFLARE_ZONE and that the token covers that zone")
            z = zones[0]
            self._zone = {"id": z.id, "name": z.name, "account_id": z.account.id}
        return self._zone

    # tunnels ----------------------------------------------------------------------------
    def _tunnel_api(self, what, needs, method, path="", **kwargs):
        """A Cloudflare Tunnel endpoint through the SDK client's own request methods (its auth, retries and errors),
        the JSON envelope's result as plain data. Not through sdk.zero_trust.tunnels: importing the typed zero_trust
        namespace builds the models of the whole Zero Trust API, about 0.7 s in every Python that touches it, for the
        four endpoints onboarding needs."""
        z = self.zone()
        call = getattr(self.sdk, method)
        envelope = self.call(what, needs, call, "/accounts/%s/cfd_tunnel%s" % (z["account_id"], path), cast_to=object,
                             **kwargs)
        return (envelope or {}).get("result") if isinstance(envelope, dict) else None

    def tunnels_named(self, name):
        found = self._tunnel_api("tunnel lookup", "Cloudflare Tunnel:Read", "get",
                                 options={"params": {"name": name, "is_deleted": "false"}}) or []
        return [{"id": t["id"], "name": t["name"], "connections": len(t.get("connections") or [])}
                for t in found if t.get("name") == name and not t.get("deleted_at")]

    def create_tunnel(self, name, secret_b64):
        t = self._tunnel_api("tunnel create", "Cloudflare Tunnel:Edit", "post",
                             body={"name": name, "config_src": "local", "tunnel_secret": secret_b64})
        return {"id": t["id"], "name": t["name"]}

    def rotate_tunnel_secret(self, tunnel_id, secret_b64):
        self._tunnel_api("tunnel secret rotation", "Cloudflare Tunnel:Edit", "patch", "/%s" % tunnel_id,
                         body={"tunnel_secret": secret_b64})

    def delete_tunnel(self, tunnel_id):
        self._tunnel_api("tunnel connection cleanup", "Cloudflare Tunnel:Edit", "delete", "/%s/connections" % tunnel_id)
        self._tunnel_api("tunnel delete", "Cloudflare Tunnel:Edit", "delete", "/%s" % tunnel_id)

    # dns --------------------------------------------------------------------------------
    def records_at(self, name):
        z = self.zone()
        found = self.listed("DNS record lookup", "DNS:Read", self.sdk.dns.records.list, RECORDS_PER_PAGE,
                            zone_id=z["id"], name={"exact": name})
        return [{"id": r.id, "type": r.type, "name": r.name, "content": r.content,
                 "proxied": bool(getattr(r, "proxied", False)), "comment": r.comment} for r in found]

    def create_cname(self, name, target, comment):
        z = self.zone()
        r = self.call("DNS record create", "DNS:Edit", self.sdk.dns.records.create, zone_id=z["id"], name=name,
                      type="CNAME", content=target, ttl=1, proxied=True, comment=comment)
        return r.id

    def update_cname(self, record_id, name, target, comment):
        z = self.zone()
        self.call("DNS record update", "DNS:Edit", self.sdk.dns.records.update, record_id, zone_id=z["id"],
                  name=name, type="CNAME", content=target, ttl=1, proxied=True, comment=comment)

    def delete_record(self, record_id):
        z = self.zone()
        self.call("DNS record delete", "DNS:Edit", self.sdk.dns.records.delete, record_id, zone_id=z["id"])


def describe(record):
    owner = owner_of(record.get("comment"))
    return "%s %s (id %s%s)" % (record["type"], record["content"], record["id"],
                                ", axe's for customer %s" % owner if owner else "")


def owner_mark(customer):
    """The comment on the records the product makes for a customer: it names the customer, so a record another
    customer's run made is never taken for this one's."""
    return "%s for customer %s" % (OWNER_COMMENT, customer)


def owner_of(comment):
    """Who a record's comment says owns it: a customer id; "" for the product's older mark, which named only the
    DNS name (ours for that name); None when the product did not make it."""
    comment = comment or ""
    if not comment.startswith(OWNER_COMMENT):
        return None
    found = re.match(re.escape(OWNER_COMMENT) + r" for customer ([a-z][a-z0-9-]{1,30})$", comment)
    return found.group(1) if found else ""


def token_permissions(client):
    """Verify the token, find the zone, and prove each Read permission onboarding needs (T09).
    Returns (zone, {permission: bool}); raises ProductError when the token or the zone fails."""
    client.verify()
    zone = client.zone()
    permissions = {"Zone:Read": True}
    for permission, check in (("DNS:Read", lambda: client.records_at(zone["name"])),
                              ("Cloudflare Tunnel:Read", lambda: client.tunnels_named("axe-preflight"))):
        try:
            check()
            permissions[permission] = True
        except CloudflareError as exc:
            if exc.trap != "T09":
                raise
            permissions[permission] = False
    return zone, permissions


def missing_permissions_error(missing):
    return CloudflareError("T09: the Cloudflare API token lacks %s (and so their Edit)" % ", ".join(missing), trap="T09",
                           next_step="add %s to the token in the Cloudflare dashboard, store it in the vault again "
                                     "(axe secret push CLOUDFLARE_API_TOKEN --service cloudflare --customer operator "
                                     "--apply), and rerun" % " and ".join(missing))


def plan_dns(records, name, target, customer, replace):
    """What ensuring `name` CNAME `target` for `customer` takes, given the records at `name` (pure; trap T02/T03).

    Only A, AAAA and CNAME conflict with a CNAME; TXT, MX and the rest coexist and are never touched. A record is
    this customer's when its comment is the customer's owner mark (or the older mark, which named only the DNS
    name); one marked for another customer is as foreign as one the product never made.
    Returns (actions, blocking): actions are ('create'|'update'|'delete', record or None) in order;
    blocking lists conflicting records the customer does not own, when `replace` is false.
    """
    address = [r for r in records if r["type"] in ("A", "AAAA", "CNAME")]
    ours = [r for r in address if r["type"] == "CNAME" and owner_of(r.get("comment")) in (customer, "")]
    exact = [r for r in address if r["type"] == "CNAME" and r["content"] == target and r.get("proxied", True)
             and owner_of(r.get("comment")) in (customer, "", None)]
    if exact and len(address) == 1:
        record = exact[0]
        if record.get("comment") == owner_mark(customer):
            return [], []
        return [("update", record)], []  # right target, not yet marked as this customer's: adopt it
    foreign = [r for r in address if r not in ours]
    if foreign and not replace:
        return [], foreign
    actions = [("delete", r) for r in foreign]
    keep = ours[0] if ours else None
    actions += [("delete", r) for r in ours[1:]]
    actions.append(("update", keep) if keep else ("create", None))
    return actions, []
