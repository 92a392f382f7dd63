# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `secrets_manager` vault backend: Bitwarden Secrets Manager through the official `bitwarden-sdk`.

For operators whose vault is Bitwarden's own service (Vaultwarden does not implement Secrets Manager).
A machine account's access token logs in; the SDK encrypts and decrypts, the server only stores.
  - one project per customer, named after the customer id (created when a secret is first put there);
  - a secret's key is its env name (what `bws run` would inject), its note says which service owns it;
  - the access token comes from BWS_ACCESS_TOKEN or the OS keychain (item `axe.secrets-manager.token`,
    read with the `security` tool), never from a command line or a module option;
  - the SDK's state file lives under AXE_STATE_DIR, mode 600.
Settings: AXE_SM_API_URL, AXE_SM_IDENTITY_URL (Bitwarden's by default), AXE_SM_ORGANIZATION_ID,
AXE_SM_CA_FILE (a CA bundle for a private endpoint, such as the lab's), AXE_SM_STATE_FILE.

Values never appear in an error, a repr or a return value other than `get`'s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import re
import subprocess

from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

try:
    import bitwarden_sdk
    HAS_SDK = True
    SDK_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - the package is a declared requirement
    HAS_SDK = False
    SDK_IMPORT_ERROR = exc

KEYCHAIN_SERVICE = "axe.secrets-manager.token"
NOTE_PREFIX = "axe:"  # `axe:{customer}/{service}`, then MANAGED
MANAGED = " (managed by axe, axelabs.onboard; the key is the env name)"
DEFAULT_API = "https://api.bitwarden.com"
DEFAULT_IDENTITY = "https://identity.bitwarden.com"


class SecretsManagerError(ProductError):
    pass


def note_for(customer, service):
    return "%s%s/%s%s" % (NOTE_PREFIX, customer, service, MANAGED)


def owner_of(note):
    """(customer, service) from a note axe wrote, else None."""
    match = re.match(r"^%s([a-z][a-z0-9-]*)/([a-z][a-z0-9_-]*)" % re.escape(NOTE_PREFIX), note or "")
    return (match.group(1), match.group(2)) if match else None


def explain(error_text, where):
    """The SDK raises a plain Exception with the server's words: name the cause and the next step."""
    text = str(error_text)
    low = text.lower()
    if "expired" in low:
        return SecretsManagerError(
            "the Secrets Manager access token has expired (%s)" % where,
            next_step="make a new access token for the machine account in Bitwarden and store it (keychain item %s)"
                      % KEYCHAIN_SERVICE)
    if "invalid_client" in low or "access token is not in a valid format" in low or "invalid access token" in low \
            or "accesstokeninvalid" in low.replace(" ", ""):
        return SecretsManagerError(
            "the Secrets Manager access token was refused (%s): wrong, revoked or expired" % where,
            next_step="make a new access token for the machine account in Bitwarden, store it in the keychain "
                      "(security add-generic-password -U -a axe -s %s -w) or BWS_ACCESS_TOKEN, and run again" % KEYCHAIN_SERVICE)
    if "mac" in low or "decrypt" in low or "crypto" in low:
        return SecretsManagerError(
            "the organization's key could not be decrypted with the access token's key (%s): the token's key part "
            "is wrong" % where,
            next_step="copy the whole access token again (the part after ':' is its key), store it, and run again")
    if "404" in low or "not found" in low or "403" in low or "forbidden" in low or "unauthorized" in low \
            or "access" in low and "denied" in low:
        return SecretsManagerError(
            "the machine account may not do this (%s): %s" % (where, text.splitlines()[0][:200]),
            next_step="give the machine account read and write access to the customer's project (or to create "
                      "projects) in Bitwarden Secrets Manager, then run again")
    if "error sending request" in low or "connect" in low or "certificate" in low or "builder error" in low:
        return SecretsManagerError(
            "Bitwarden Secrets Manager does not answer (%s): %s" % (where, text.splitlines()[0][:200]),
            next_step="check AXE_SM_API_URL and AXE_SM_IDENTITY_URL (HTTPS only) and, for a private CA, AXE_SM_CA_FILE")
    return SecretsManagerError("Bitwarden Secrets Manager refused %s: %s" % (where, text.splitlines()[0][:200]),
                               next_step="check the machine account and the organization id (AXE_SM_ORGANIZATION_ID)")


def read_token(environ=None, security="security"):
    """The access token: BWS_ACCESS_TOKEN, else the private file axe hands a run (AXE_SM_TOKEN_FILE, so the
    token is in no run's environment), else the keychain item. None when none has one."""
    environ = os.environ if environ is None else environ
    token = (environ.get("BWS_ACCESS_TOKEN") or "").strip()
    if token:
        return token
    if environ.get("AXE_SM_TOKEN_FILE"):
        try:
            with open(environ["AXE_SM_TOKEN_FILE"]) as fh:
                token = fh.read().strip()
        except (IOError, OSError):
            token = ""
        if token:
            return token
    try:
        read = subprocess.run([security, "find-generic-password", "-s", KEYCHAIN_SERVICE, "-w"],
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return read.stdout.strip() if read.returncode == 0 and read.stdout.strip() else None


@contextlib.contextmanager
def _sdk_scope(ca_file):
    """While the SDK's client is made and logs in: the CA bundle AXE_SM_CA_FILE names is the one SSL_CERT_FILE
    names (the SDK builds its HTTP client then; Cloudflare's client and the checks from outside never see it), and
    files are created private (umask 077: the SDK's state file holds the session, and is never wider, even for an
    instant). Both are put back after."""
    before_ca = os.environ.get("SSL_CERT_FILE")
    before_umask = os.umask(0o077)
    if ca_file:
        os.environ["SSL_CERT_FILE"] = ca_file
    try:
        yield
    finally:
        os.umask(before_umask)
        if ca_file:
            if before_ca is None:
                os.environ.pop("SSL_CERT_FILE", None)
            else:
                os.environ["SSL_CERT_FILE"] = before_ca


class SecretsManagerBackend(object):
    """The same steps as BwServeBackend (status, get, exists, plan_put, put, delete, list), on the SDK."""

    name = "secrets_manager"

    def __init__(self, api_url=None, identity_url=None, organization_id=None, state_file=None, ca_file=None,
                 token=None, security="security"):
        self.api_url = (api_url or DEFAULT_API).rstrip("/")
        self.identity_url = (identity_url or DEFAULT_IDENTITY).rstrip("/")
        self.organization_id = organization_id
        self.state_file = state_file
        self.ca_file = ca_file
        self._token = token
        self._security = security
        self._client = None
        self._projects = None

    @classmethod
    def from_env(cls, environ=None):
        environ = os.environ if environ is None else environ
        state_dir = environ.get("AXE_STATE_DIR") or os.path.join(
            environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "axe")
        return cls(api_url=environ.get("AXE_SM_API_URL"), identity_url=environ.get("AXE_SM_IDENTITY_URL"),
                   organization_id=environ.get("AXE_SM_ORGANIZATION_ID"),
                   state_file=environ.get("AXE_SM_STATE_FILE") or os.path.join(state_dir, "secrets-manager.state"),
                   ca_file=environ.get("AXE_SM_CA_FILE"), security=environ.get("AXE_SECURITY") or "security")

    def __repr__(self):
        return "SecretsManagerBackend(%s, organization %s)" % (self.api_url, self.organization_id)

    # the SDK --------------------------------------------------------------------------------
    def _call(self, where, fn, *args):
        try:
            return fn(*args)
        except ProductError:
            raise
        except Exception as exc:  # the SDK raises plain Exceptions with the server's words
            raise explain(exc, where)

    def client(self):
        if self._client is not None:
            return self._client
        if not HAS_SDK:
            raise SecretsManagerError("the Python package bitwarden-sdk is missing on the controller",
                                      next_step="run scripts/setup.sh (it installs bitwarden-sdk==2.1.0)")
        if not self.organization_id:
            raise SecretsManagerError("no organization id for Bitwarden Secrets Manager",
                                      next_step="set AXE_SM_ORGANIZATION_ID to the organization's UUID")
        token = self._token or read_token(security=self._security)
        if not token:
            raise SecretsManagerError(
                "no Secrets Manager access token: BWS_ACCESS_TOKEN is unset and the keychain has no item %s"
                % KEYCHAIN_SERVICE,
                next_step="store the machine account's access token: security add-generic-password -U -a axe -s %s -w "
                          "(it prompts; never put the token on a command line)" % KEYCHAIN_SERVICE)
        if self.state_file:
            state_dir = os.path.dirname(self.state_file)
            if state_dir and not os.path.isdir(state_dir):
                os.makedirs(state_dir, mode=0o700)
        settings = bitwarden_sdk.client_settings_from_dict({
            "apiUrl": self.api_url, "identityUrl": self.identity_url, "deviceType": "SDK",
            "userAgent": "axelabs.onboard"})
        with _sdk_scope(self.ca_file):
            client = bitwarden_sdk.BitwardenClient(settings)
            self._call("login at %s" % self.identity_url, client.auth().login_access_token, token, self.state_file)
        if self.state_file and os.path.exists(self.state_file):
            os.chmod(self.state_file, 0o600)  # one written before this version, wider
        self._client = client
        return client

    def _project_id(self, customer, create=False):
        # Only a project found is remembered: one made meanwhile by another run is found on the next look.
        if self._projects is None or customer not in self._projects:
            found = self._call("list projects", self.client().projects().list, self.organization_id)
            self._projects = dict((p.name, str(p.id)) for p in (found.data.data or []))
        if customer not in self._projects and create:
            made = self._call("create project %s" % customer, self.client().projects().create,
                              self.organization_id, customer)
            self._projects[customer] = str(made.data.id)
        return self._projects.get(customer)

    def _identifiers(self):
        """The organization's secrets by id, key and projects; read afresh each time (another run may write)."""
        found = self._call("list secrets", self.client().secrets().list, self.organization_id)
        return list(found.data.data or [])

    def _in_project(self, customer, key=None):
        """The customer's secrets (all, or those keyed `key`), read whole: one list call, one get-by-ids."""
        project = self._project_id(customer)
        if project is None:
            return []
        ids = [str(s.id) for s in self._identifiers()
               if (key is None or s.key == key) and project in [str(p) for p in s.project_ids or []]]
        if not ids:
            return []
        found = self._call("read %s" % (key or "the secrets of %s" % customer), self.client().secrets().get_by_ids, ids)
        return list(found.data.data or [])

    def _find(self, customer, service, env):
        mine = [s for s in self._in_project(customer, env) if owner_of(s.note) == (customer, service)]
        if len(mine) > 1:
            raise SecretsManagerError("the project %s holds %d secrets %s for %s" % (customer, len(mine), env, service),
                                      next_step="delete the duplicates in Bitwarden Secrets Manager, keeping the right one")
        return mine[0] if mine else None

    # the interface -----------------------------------------------------------------------------
    def status(self):
        self.client()
        return {"status": "unlocked", "backend": self.name}

    def sync(self):
        """Nothing to do: every read asks the server (trap T19 cannot happen here)."""

    def get(self, customer, service, env):
        secret = self._find(customer, service, env)
        return secret.value if secret else None

    def get_many(self, customer, service, envs):
        return [self.get(customer, service, env) for env in envs]

    def exists(self, customer, service, env):
        return self._find(customer, service, env) is not None

    def plan_put(self, customer, service, env, value):
        secret = self._find(customer, service, env)
        if secret is None:
            return "create"
        return "unchanged" if secret.value == value else "update"

    def put(self, customer, service, env, value):
        secret = self._find(customer, service, env)
        if secret is not None and secret.value == value:
            return "unchanged"
        if secret is None:
            project = self._project_id(customer, create=True)
            self._call("create %s" % env, self.client().secrets().create, self.organization_id, env, value,
                       note_for(customer, service), [project])
            action = "create"
        else:
            self._call("update %s" % env, self.client().secrets().update, self.organization_id, str(secret.id), env,
                       value, secret.note, [str(secret.project_id)] if secret.project_id else None)
            action = "update"
        return action

    def delete(self, customer, service, env):
        secret = self._find(customer, service, env)
        if secret is None:
            return False
        self._call("delete %s" % env, self.client().secrets().delete, [str(secret.id)])
        return True

    def list(self, customer):
        """[(service, env)] of the customer's secrets, by name only."""
        out = []
        for secret in self._in_project(customer):
            owner = owner_of(secret.note)
            if owner and owner[0] == customer:
                out.append((owner[1], secret.key))
        return sorted(out)
