# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer's Vaultwarden organization from the customer's Mac mini: the real Bitwarden CLI with the
customer-side session (`axe vault session`), and the two calls the CLI cannot make.

What the CLI does (each a `bw` run with BW_SESSION in its environment, never on its command line):
`bw status`, `bw sync`, `bw list organizations`, `bw list org-collections`, `bw get org-collection` (who has
access), `bw list org-members`, `bw create org-collection`, `bw edit org-collection`, `bw confirm org-member`.

What it cannot do, and how it is done instead (the gap, named):
- Create an organization, and invite members. Both are the web vault's (Admin Console). They are made here as
  the web vault makes them, against the same server: `POST {api}/organizations` and
  `POST {api}/organizations/{id}/users/invite`.
- Authentication for those two calls: the access token the logged-in CLI itself holds. After `bw sync` (which
  refreshes it when it is near expiry) the CLI keeps it in its data file (`data.json` in its appdata
  directory: BITWARDENCLI_APPDATA_DIR, else ~/Library/Application Support/Bitwarden CLI on macOS, else
  ~/.config/Bitwarden CLI), in the clear, readable by the Mac mini's user only - seen on @bitwarden/cli 2025.7.0,
  the runbook's pin, under `user_<id>_token_accessToken`. So no new secret exists: no password, no API key, no
  token on a command line, in a task's output, a log or customers.yaml (the module hides the session and the
  token from every result). The token stays on the Mac mini; it is as powerful as the session already is.
  Reading another program's data file is the part a future CLI may break: a CLI that encrypts it, or moves
  the key, makes this fail with the file named, and nothing half-done (the organization is the first call).
- The organization key: made, shared to ai@'s public key (EncString type 4, RSA-OAEP with SHA-1) and used to
  encrypt the first collection's name (EncString type 2, AES-256-CBC + HMAC-SHA256) and the organization's own
  key pair's private key, by node's crypto (the runtime the Bitwarden CLI runs on, so it is there wherever bw
  is; the host's Python has no cryptography library). The key is made in that process and leaves it only
  wrapped. ai@'s public key is read from the server (`GET {api}/users/{id}/public-key`, what `bw confirm` reads
  for others); the web vault derives it from the private key it holds - a server that lied about it would get
  an organization ai@ cannot open, which the `bw sync` right after shows (the organization would not decrypt).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import ssl

from ansible.module_utils.six.moves.urllib.request import HTTPSHandler, ProxyHandler, Request, build_opener
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

SESSION_FILE = "~/.bw-session"
KEYCHAIN_SERVICE = "axe.vault.session"
BW_DIRS = ["/opt/homebrew/bin", "/usr/local/bin"]  # trap T07: Homebrew's, absent from a non-login SSH PATH
NODE_CANDIDATES = ["/opt/homebrew/opt/node/bin/node", "/usr/local/opt/node/bin/node", "/opt/homebrew/bin/node",
                   "/usr/local/bin/node"]
SESSION_NEXT = "axe vault session %s --apply (then customer IT runs the helper it shows), and run this again"

# The organization key, made and used in one node process (stdin: {publicKey, collectionName}; stdout: the
# EncStrings). Not a secret: the script; the key never leaves it unwrapped.
NODE_NEW_ORG = r"""
const c = require('crypto'); let s = '';
process.stdin.on('data', d => s += d).on('end', () => {
  const i = JSON.parse(s); const k = c.randomBytes(64);
  const enc = p => { const iv = c.randomBytes(16); const ci = c.createCipheriv('aes-256-cbc', k.subarray(0, 32), iv);
    const ct = Buffer.concat([ci.update(p), ci.final()]);
    const mac = c.createHmac('sha256', k.subarray(32)).update(Buffer.concat([iv, ct])).digest();
    return '2.' + [iv, ct, mac].map(b => b.toString('base64')).join('|'); };
  const pub = c.createPublicKey({key: Buffer.from(i.publicKey, 'base64'), format: 'der', type: 'spki'});
  const wrapped = c.publicEncrypt({key: pub, padding: c.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1'}, k);
  const kp = c.generateKeyPairSync('rsa', {modulusLength: 2048, publicExponent: 65537});
  process.stdout.write(JSON.stringify({key: '4.' + wrapped.toString('base64'),
    collectionName: enc(Buffer.from(i.collectionName, 'utf8')),
    keys: {publicKey: kp.publicKey.export({format: 'der', type: 'spki'}).toString('base64'),
           encryptedPrivateKey: enc(kp.privateKey.export({format: 'der', type: 'pkcs8'}))}}));
});
"""


def appdata_dir(environ=None, home=None):
    """Where the Bitwarden CLI keeps its data file, as the CLI itself decides."""
    environ = os.environ if environ is None else environ
    home = home or os.path.expanduser("~")
    if environ.get("BITWARDENCLI_APPDATA_DIR"):
        return environ["BITWARDENCLI_APPDATA_DIR"]
    mac = os.path.join(home, "Library", "Application Support", "Bitwarden CLI")
    if os.path.isdir(mac):
        return mac
    return os.path.join(environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "Bitwarden CLI")


def cli_credentials(data, user_id):
    """(api base URL, access token) of the logged-in account from the CLI's data file (parsed)."""
    token = data.get("user_%s_token_accessToken" % user_id)
    if not isinstance(token, str) or token.count(".") != 2:
        raise ProductError("the Bitwarden CLI's data file holds no readable access token for the logged-in account",
                           next_step="this CLI keeps its token differently: create the organization in the web vault "
                                     "(Admin Console), then run this again for the collections and members")
    env = data.get("user_%s_environment_environment" % user_id) or data.get("global_environment_environment") or {}
    urls = env.get("urls") or {}
    api = urls.get("api") or ((urls.get("base") or "").rstrip("/") + "/api" if urls.get("base") else None)
    if not api:
        raise ProductError("the Bitwarden CLI's data file names no server", next_step="bw config server URL")
    return api.rstrip("/"), token


HICCUP_TRIES = 3  # how often a command the CLI ended without its answer is asked again


class OrgClient(object):
    """The CLI and the two web-vault calls, for one customer-side session."""

    def __init__(self, run_command, bw, session, customer, appdata=None, ca_file=None, node=None, timeout=60,
                 hide=None):
        self.run_command = run_command  # AnsibleModule.run_command
        self.bw_path = bw
        self.session = session
        self.customer = customer
        self.appdata_given = appdata
        self.appdata = appdata or appdata_dir()
        self.hide = hide or (lambda value: None)  # AnsibleModule.no_log_values.add: the token never in a result
        self.ca_file = ca_file
        self.node = node
        self.timeout = timeout

    # the CLI -------------------------------------------------------------------------------------------
    def bw(self, *args, **kwargs):
        env = {"BW_SESSION": self.session, "BW_NOINTERACTION": "true"}
        if self.appdata_given:
            env["BITWARDENCLI_APPDATA_DIR"] = self.appdata_given
        rc, out, err = self.run_command([self.bw_path] + list(args), environ_update=env, data=kwargs.get("data"),
                                        binary_data=True)
        if rc != 0:
            what = (err or out or "").strip().splitlines()
            raise ProductError("bw %s failed: %s" % (" ".join(args[:2]), what[-1] if what else "exit %d" % rc),
                               next_step=kwargs.get("next_step") or "run bw %s on the Mac mini to see why" % args[0])
        return out

    def _answered(self, *args, **kwargs):
        """The output of a command that always prints (a listing, a status, what it made), asked again while the
        CLI printed nothing (T26): 2025.7.0 was seen to exit 0 with no output and nothing done on a busy machine, and an
        empty listing read as "no organization" would make a second one."""
        expect = kwargs.pop("expect", None)
        for dummy in range(HICCUP_TRIES):
            out = self.bw(*args, **kwargs)
            if out.strip() and (expect is None or expect in out):
                return out
        raise ProductError("bw %s exited 0 without its answer %d times" % (" ".join(args[:2]), HICCUP_TRIES),
                           next_step="run bw %s on the Mac mini to see why, then this again" % " ".join(args[:2]))

    def bw_json(self, *args, **kwargs):
        out = self._answered(*args, **kwargs)
        try:
            return json.loads(out)
        except ValueError:
            raise ProductError("bw %s answered something that is not JSON: %s" % (" ".join(args[:2]), out.strip()[:200]))

    def status(self):
        return self.bw_json("status", next_step=SESSION_NEXT % self.customer) or {}

    def sync(self):
        self._answered("sync", expect="Syncing complete")

    def organizations(self):
        return self.bw_json("list", "organizations") or []

    def collections(self, org_id):
        """[{id, name, users}]: the names as the CLI decrypts them, who has access from `bw get org-collection`."""
        out = []
        for col in self.bw_json("list", "org-collections", "--organizationid", org_id) or []:
            got = self.bw_json("get", "org-collection", col["id"], "--organizationid", org_id) or {}
            out.append({"id": col["id"], "name": col["name"], "users": got.get("users") or []})
        return out

    def members(self, org_id):
        return [{"id": m["id"], "email": (m.get("email") or "").lower(), "type": m.get("type"), "status": m.get("status")}
                for m in self.bw_json("list", "org-members", "--organizationid", org_id) or []]

    def _encoded(self, org_id, name, users):
        body = {"organizationId": org_id, "name": name, "externalId": None, "groups": [], "users": users}
        return base64.b64encode(json.dumps(body).encode("utf-8")).decode("ascii")

    def create_collection(self, org_id, name, users):
        """The new collection's id. A create that printed nothing is looked for before it is made again (a second
        collection of one name would be the CLI's hiccup made permanent)."""
        for dummy in range(HICCUP_TRIES):
            out = self.bw("create", "org-collection", "--organizationid", org_id, self._encoded(org_id, name, users))
            if out.strip():
                return json.loads(out)["id"]
            made = [c for c in self.bw_json("list", "org-collections", "--organizationid", org_id) if c.get("name") == name]
            if made:
                return made[0]["id"]
        raise ProductError("bw create org-collection %s exited 0 without making it %d times" % (name, HICCUP_TRIES),
                           next_step="run bw create org-collection on the Mac mini to see why, then this again")

    def edit_collection(self, org_id, col_id, name, users):
        self.bw_json("edit", "org-collection", col_id, "--organizationid", org_id, self._encoded(org_id, name, users))

    def confirm(self, org_id, member_id):
        self.bw("confirm", "org-member", member_id, "--organizationid", org_id)

    # the web vault's two calls ---------------------------------------------------------------------------
    def credentials(self, user_id):
        path = os.path.join(self.appdata, "data.json")
        try:
            with open(path) as fh:
                data = json.load(fh)
        except (IOError, OSError, ValueError) as exc:
            raise ProductError("cannot read the Bitwarden CLI's data file %s: %s" % (path, exc),
                               next_step="run bw sync on the Mac mini as this user; BITWARDENCLI_APPDATA_DIR if the CLI "
                                         "keeps its data elsewhere")
        api, token = cli_credentials(data, user_id)
        self.hide(token)
        return api, token

    def _api(self, api, token, method, path, body=None):
        request = Request(api + path, data=json.dumps(body).encode("utf-8") if body is not None else None,
                          method=method, headers={"Authorization": "Bearer " + token, "Accept": "application/json",
                                                  "Content-Type": "application/json; charset=utf-8",
                                                  "Bitwarden-Client-Name": "cli"})
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(cafile=self.ca_file)
        opener = build_opener(ProxyHandler({}), HTTPSHandler(context=context))
        try:
            response = opener.open(request, timeout=self.timeout)
            raw = response.read()
        except HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("message") or detail
            except (ValueError, AttributeError):
                pass
            raise ProductError("the vault answered %s %s with HTTP %d: %s" % (method, path, exc.code, str(detail)[:300]),
                               next_step="run bw sync on the Mac mini (a stale token), then this again")
        except URLError as exc:
            raise ProductError("cannot reach the vault at %s: %s" % (api, exc.reason),
                               next_step="the server bw is configured with must answer from the Mac mini (ca_file for a "
                                         "private CA, as NODE_EXTRA_CA_CERTS is for bw)")
        return json.loads(raw) if raw.strip() else None

    def create_organization(self, user_id, name, billing_email, first_collection):
        """The organization, as the web vault creates it; returns its id. ai@ is its Owner (the server makes the
        creator one, with access to all collections)."""
        api, token = self.credentials(user_id)
        public = (self._api(api, token, "GET", "/users/%s/public-key" % user_id) or {}).get("publicKey")
        if not public:
            raise ProductError("the vault has no public key for the logged-in account")
        rc, out, err = self.run_command([self.node, "-e", NODE_NEW_ORG],
                                        data=json.dumps({"publicKey": public, "collectionName": first_collection}),
                                        binary_data=True)
        if rc != 0:
            raise ProductError("making the organization key with %s failed: %s" % (self.node, (err or out).strip()[-300:]))
        made = json.loads(out)
        body = {"name": name, "billingEmail": billing_email, "collectionName": made["collectionName"], "key": made["key"],
                "keys": made["keys"], "planType": 0, "initiationPath": "axe vault org"}
        return self._api(api, token, "POST", "/organizations", body)["id"]

    def invite(self, user_id, org_id, emails, member_type, collections):
        api, token = self.credentials(user_id)
        body = {"emails": list(emails), "type": member_type, "accessAll": member_type in (0, 1), "groups": [],
                "collections": list(collections), "permissions": {}}
        self._api(api, token, "POST", "/organizations/%s/users/invite" % org_id, body)
