# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vault, behind one interface: get, put, delete and list a customer's secrets by env name.

Backends fill the same steps (status, sync, find, write); `backend()` picks one by name.
  bw_serve  Vaultwarden through the Bitwarden CLI's local REST API (`bw serve`, the Vault
            Management API). A secret is a login item named `axe/{customer}/{service}/{ENV}` in
            the operator organization's collection for the customer, the value in its password.
  secrets_manager
            Bitwarden Secrets Manager through the official `bitwarden-sdk` (module_utils/vault_sm.py):
            a project per customer, a secret keyed by its env name.

Values never appear in an error, a repr or a return value other than `get`'s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.six.moves.urllib.request import Request, build_opener, ProxyHandler

from ansible_collections.axelabs.onboard.plugins.module_utils.schemas import CUSTOMER_ID, ENV_NAME, SERVICE_NAME, unsafe_form
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
from ansible_collections.axelabs.onboard.plugins.module_utils.vault_sm import SecretsManagerBackend

DEFAULT_URL = "http://127.0.0.1:8087"
# How long a read waits for bw serve's listing to show this client's own writes (see BwServeBackend._items).
SETTLE_SECONDS = 3.0
SETTLE_INTERVAL = 0.1
DEFAULT_ORGANIZATION = "AXE Labs"
MANAGED_NOTE = "managed by axe (axelabs.onboard); do not rename"


def item_name(customer, service, env):
    """axe/{customer}/{service}/{ENV}; each part one path segment of the names the product allows."""
    for what, value, pattern in (("customer", customer, CUSTOMER_ID), ("service", service, SERVICE_NAME), ("env name", env, ENV_NAME)):
        if not re.match(pattern, value or ""):
            raise ProductError("%r is not a %s the vault holds (%s)" % (value, what, unsafe_form(pattern)),
                               next_step="give a %s as customers.yaml and the service roles name it" % what)
    return "axe/%s/%s/%s" % (customer, service, env)


class VaultError(ProductError):
    pass


def new_item(organization_id, collection_id, customer, service, env, value):
    """The Vault Management API body (item.template) for a new secret: a login item."""
    return {
        "organizationId": organization_id, "collectionIds": [collection_id], "folderId": None,
        "type": 1, "name": item_name(customer, service, env), "notes": MANAGED_NOTE,
        "favorite": False, "reprompt": 0, "fields": [],
        "login": {"uris": [], "username": env, "password": value, "totp": None},
    }


class BwServeBackend(object):
    """Vault Management API client. Syncs once before its first read and again before any read
    that follows one of its own writes (trap T19: a bw cache that has not synced misses items).

    A read that follows its own write also waits, bounded, until the listing shows that write: the real
    CLI 2026.x answers POST /sync before its item list has caught up (measured: a new item missing from the
    list for up to 0.3 s after "Syncing complete."), so a secret written and then read at once would not be
    found. The pinned CLI (2025.7.0) was not seen to lag; there the first listing agrees and nothing waits.

    And a secret the listing lacks is looked for once more, after a forced sync, before the client says it
    is missing: the real CLI can skip a sync it judges unneeded and clears its decrypted cache while another
    of its tasks may fill it again from the state it is about to replace, so another client's write a moment
    ago can be missed (seen once in the suite, with 2025.7.0). Once per run: the next miss is believed."""

    name = "bw_serve"

    def __init__(self, url=DEFAULT_URL, organization=DEFAULT_ORGANIZATION, timeout=15):
        self.url = (url or DEFAULT_URL).rstrip("/")
        self.organization = organization or DEFAULT_ORGANIZATION
        self.timeout = timeout
        # bw serve listens on loopback; never send its traffic through a proxy.
        self._opener = build_opener(ProxyHandler({}))
        self._synced = False
        self._org_id = None
        self._collections = {}
        self._expected = {}  # item name -> the value this client wrote, or None for one it deleted
        self._forced = False  # whether this client has made its one forced sync

    # transport --------------------------------------------------------------------------
    def _call(self, method, path, body=None, query=None):
        url = self.url + path + ("?" + urlencode(query) if query else "")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            response = self._opener.open(request, timeout=self.timeout)
            payload = json.loads(response.read().decode("utf-8") or "{}")
        except HTTPError as exc:
            try:
                payload = json.loads(exc.read().decode("utf-8") or "{}")
            except ValueError:
                payload = {"success": False, "message": "HTTP %d" % exc.code}
        except URLError as exc:
            raise VaultError("the vault (bw serve) at %s does not answer: %s" % (self.url, exc.reason),
                             trap="T17", next_step="start it with your session: "
                             "`export BW_SESSION=$(bw unlock --raw); bw serve --hostname 127.0.0.1 --port 8087`, "
                             "or set AXE_VAULT_URL")
        except ValueError:
            raise VaultError("the vault at %s answered something that is not JSON" % self.url,
                             next_step="check AXE_VAULT_URL points at `bw serve`")
        if not payload.get("success", False):
            message = payload.get("message") or "unknown error"
            if "locked" in message.lower():
                raise VaultError("the vault is locked (%s)" % self.url, trap="T17",
                                 next_step="unlock it: `export BW_SESSION=$(bw unlock --raw)` and restart bw serve, "
                                           "or let axe start it (it finds BW_SESSION or the Keychain item axe.vault.session)")
            if "not logged in" in message.lower():
                raise VaultError("the vault CLI is not logged in (%s)" % self.url,
                                 next_step="`bw login` on this machine, then unlock and restart bw serve")
            raise VaultError("the vault refused %s %s: %s" % (method, path, message),
                             next_step="check the vault (bw serve) and run again")
        return payload.get("data")

    # steps ------------------------------------------------------------------------------
    def status(self):
        data = self._call("GET", "/status") or {}
        template = data.get("template") or {}
        state = template.get("status")
        if state == "locked":
            raise VaultError("the vault is locked (%s)" % self.url, trap="T17",
                             next_step="export BW_SESSION=$(bw unlock --raw) and restart bw serve with it")
        if state == "unauthenticated":
            raise VaultError("the vault CLI is not logged in (%s)" % self.url, next_step="run `bw login`")
        return template

    def sync(self):
        self._call("POST", "/sync")
        self._synced = True

    def _fresh(self):
        if not self._synced:
            self.sync()

    def _list(self, path, query=None):
        data = self._call("GET", path, query=query) or {}
        return data.get("data") or []

    def organization_id(self):
        if self._org_id is None:
            self._fresh()
            found = [o for o in self._list("/list/object/organizations", {"search": self.organization})
                     if o.get("name") == self.organization]
            if not found:
                raise VaultError("the vault has no organization named %r" % self.organization,
                                 next_step="create it in the vault, or set AXE_VAULT_ORGANIZATION to yours")
            self._org_id = found[0]["id"]
        return self._org_id

    def collection_id(self, customer, create=False):
        name = "customer/%s" % customer
        if name not in self._collections:
            org = self.organization_id()
            found = [c for c in self._list("/list/object/org-collections", {"organizationId": org, "search": name})
                     if c.get("name") == name]
            if found:
                self._collections[name] = found[0]["id"]
            elif create:
                body = {"organizationId": org, "name": name, "externalId": None, "groups": []}
                made = self._call("POST", "/object/org-collection", body, query={"organizationId": org})
                self._collections[name] = made["id"]
                self._synced = False
            else:
                return None
        return self._collections[name]

    def _items(self, search):
        """The organization's items whose name holds `search` (bw's own search), read after the sync a read needs
        (T19), and again while they contradict a write of this client, for at most SETTLE_SECONDS: after that
        the listing is the truth (another client may have changed the item since)."""
        self._fresh()
        org = self.organization_id()
        deadline = time.time() + SETTLE_SECONDS
        while True:
            items = self._list("/list/object/items", {"search": search, "organizationId": org})
            if self._shows_own_writes(items, search) or time.time() >= deadline:
                return items
            time.sleep(SETTLE_INTERVAL)

    def _shows_own_writes(self, items, search):
        by_name = _by_name(items)
        for name, value in self._expected.items():
            if search.lower() not in name.lower():
                continue
            found = by_name.get(name) or []
            if value is None and found:
                return False
            if value is not None and [((i.get("login") or {}).get("password")) for i in found] != [value]:
                return False
        return True

    def _confirm_missing(self):
        """Whether a name the listing lacks should be looked for again: once per run, after a forced sync."""
        if self._forced:
            return False
        self._call("POST", "/sync", query={"force": "true"})
        self._forced = True
        return True

    def _find(self, customer, service, env):
        name = item_name(customer, service, env)
        items = [i for i in self._items(name) if i.get("name") == name]
        if not items and self._confirm_missing():
            items = [i for i in self._items(name) if i.get("name") == name]
        if len(items) > 1:
            raise VaultError("the vault holds %d items named %s" % (len(items), name),
                             next_step="delete the duplicates in the vault, keeping the right one")
        return items[0] if items else None

    # the interface ------------------------------------------------------------------------
    def get(self, customer, service, env):
        item = self._find(customer, service, env)
        return ((item.get("login") or {}).get("password")) if item else None

    def get_many(self, customer, service, envs):
        """[value or None] for each env, from one listing of the service's items (a file of N secrets is one call to
        bw serve, not N)."""
        names = [item_name(customer, service, env) for env in envs]  # each part checked before any call
        if not names:
            return []
        prefix = "axe/%s/%s/" % (customer, service)
        by_name = _by_name(self._items(prefix))
        if any(name not in by_name for name in names) and self._confirm_missing():
            by_name = _by_name(self._items(prefix))
        out = []
        for name in names:
            items = by_name.get(name) or []
            if len(items) > 1:
                raise VaultError("the vault holds %d items named %s" % (len(items), name),
                                 next_step="delete the duplicates in the vault, keeping the right one")
            out.append(((items[0].get("login") or {}).get("password")) if items else None)
        return out

    def exists(self, customer, service, env):
        return self._find(customer, service, env) is not None

    def plan_put(self, customer, service, env, value):
        """'create', 'update' or 'unchanged': what put() would do (compares without revealing)."""
        item = self._find(customer, service, env)
        if item is None:
            return "create"
        return "unchanged" if (item.get("login") or {}).get("password") == value else "update"

    def put(self, customer, service, env, value):
        item = self._find(customer, service, env)
        if item is not None and (item.get("login") or {}).get("password") == value:
            return "unchanged"
        if item is None:
            body = new_item(self.organization_id(), self.collection_id(customer, create=True),
                            customer, service, env, value)
            self._call("POST", "/object/item", body)
            action = "create"
        else:
            item = dict(item)
            item["login"] = dict(item.get("login") or {}, password=value)
            self._call("PUT", "/object/item/%s" % item["id"], item)
            action = "update"
        self._synced = False  # the next read syncs first (T19)
        self._expected[item_name(customer, service, env)] = value
        return action

    def delete(self, customer, service, env):
        item = self._find(customer, service, env)
        if item is None:
            return False
        self._call("DELETE", "/object/item/%s" % item["id"])
        self._synced = False
        self._expected[item_name(customer, service, env)] = None
        return True

    def list(self, customer):
        """[(service, env)] of the customer's secrets, by name only."""
        prefix = "axe/%s/" % customer
        out = []
        for item in self._items(prefix):
            name = item.get("name") or ""
            if name.startswith(prefix) and name.count("/") == 3:
                dummy, dummy2, service, env = name.split("/")
                out.append((service, env))
        return sorted(out)


def _by_name(items):
    """{item name: [items so named]}: a name held twice is the caller's error to name."""
    by_name = {}
    for item in items:
        by_name.setdefault(item.get("name") or "", []).append(item)
    return by_name


BACKENDS = {"bw_serve": BwServeBackend, "secrets_manager": SecretsManagerBackend}


def backend(name="bw_serve", url=None, organization=None):
    """The backend `name` (AXE_VAULT_BACKEND). `url` and `organization` are bw serve's; Secrets Manager
    reads its own settings (AXE_SM_*, module_utils/vault_sm.py)."""
    if name not in BACKENDS:
        raise VaultError("unknown vault backend %r (known: %s)" % (name, ", ".join(sorted(BACKENDS))),
                         next_step="set AXE_VAULT_BACKEND to one of them")
    if name == "secrets_manager":
        return SecretsManagerBackend.from_env()
    return BACKENDS[name](url=url, organization=organization)
