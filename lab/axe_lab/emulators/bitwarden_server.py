#!/usr/bin/env python3
"""The lab's vault server: the Bitwarden server protocol that Vaultwarden implements, as far as the
real Bitwarden CLI (`bw login`, `bw unlock`, `bw sync`, `bw serve`) uses it, over HTTPS.

Like a Bitwarden server it never sees a plaintext or a key it could use: accounts, their keys and
organizations are made by the lab's tooling (axe_lab/bw_account.py) with Bitwarden's real key
derivation and encryption; the CLI encrypts every item and collection name before sending it, and
this server stores and returns those EncStrings as given. The master password reaches it only as
the client's hash; a wrong one fails login here and fails unlock in the CLI (the user key does not
decrypt), as against Vaultwarden.

Routes (identity under /identity, the API under /api; written from the public protocol and what the
CLI was seen to send):
  POST identity/accounts/prelogin[/password]   KDF settings for an email
  POST identity/connect/token                  grant_type password, client_credentials (API key), refresh_token
  GET  api/config, api/accounts/revision-date, api/accounts/profile, api/sync
  POST api/accounts/key-management/user-key-id, api/accounts/verify-password
  POST api/ciphers, api/ciphers/create (organization items, with collection ids)
  GET|PUT|DELETE api/ciphers/{id}; PUT api/ciphers/{id}/delete|restore; PUT|POST api/ciphers/{id}/collections
  POST api/organizations (what the web vault sends: the org key shared to the creator, the first collection)
  GET|POST api/organizations/{org}/collections[/details]; GET api/collections
  GET api/organizations/{org}/collections/{col}/details; PUT|POST api/organizations/{org}/collections/{col}
  GET api/organizations/{org}/users[/{member}]; POST .../users/invite; POST .../users/{member}/confirm
  GET api/users/{user}/public-key
Organizations, members and collection access follow Vaultwarden (src/api/core/organizations.rs): a member
has an id of its own (the organization user id), a type (0 Owner, 1 Admin, 2 User, 3 Manager), a status
(0 Invited, 1 Accepted, 2 Confirmed) and access to all collections or to the ones it is given; an invited
email with no account gets a placeholder user (no password, no keys), as Vaultwarden's invite makes one; with
no mail server (the lab has none) an invited existing user is accepted at once, and confirming shares the
organization key to them (`bw confirm org-member`).
Anything else is logged (--log) and answered 404, so a route a new CLI needs shows up in the log.

Lab knobs (never used by the product), with --lab-knobs: POST /_lab/server {"accountKeys": false}
answers as Vaultwarden 1.34 did, without the account's cryptographic state (trap T18).
Standard library only: it runs in the lab's containers.
"""
import argparse
import base64
import datetime
import json
import os
import secrets
import ssl
import sys
import threading
import time
import uuid
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _jsonhttp import JSONHandler, b64url, save_json  # noqa: E402

LOCK = threading.Lock()
ACCESS_SECONDS = 3600
ARGS = None
# Everything the server keeps, saved after each change: accounts and organizations as the lab's tooling
# made them, then what clients sent (ciphers, collections) and the tokens it issued.
STATE = {"accounts": {}, "organizations": {}, "ciphers": {}, "refreshTokens": {}, "accessTokens": {},
         "revision": {}, "server": {"accountKeys": True}}
SERVER_VERSION = "2025.6.0"  # the Bitwarden server API version Vaultwarden 1.34+ reports


def stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_date(text):
    return datetime.datetime.strptime(text.rstrip("Z")[:26].ljust(26, "0") if "." in text else text.rstrip("Z") + ".000000",
                                      "%Y-%m-%dT%H:%M:%S.%f")


def save():
    save_json(ARGS.state, STATE)


def log(line):
    if ARGS.log:
        with open(ARGS.log, "a") as fh:
            fh.write(line + "\n")


class Fail(Exception):
    def __init__(self, status, payload):
        super().__init__(status)
        self.status = status
        self.payload = payload


def error(status, message):
    return Fail(status, {"message": message, "validationErrors": None, "exceptionMessage": None,
                         "exceptionStackTrace": None, "innerExceptionMessage": None, "object": "error"})


def grant_error(description, message):
    return Fail(400, {"error": "invalid_grant", "error_description": description,
                      "ErrorModel": {"Message": message, "Object": "error"}})


def config_answer():
    return {"version": SERVER_VERSION, "gitHash": "axelab", "server": {"name": "axelab", "url": "https://vault.lab.invalid"},
            "environment": {"vault": "", "api": "", "identity": "", "notifications": "", "sso": ""},
            "featureStates": {}, "push": {"pushTechnology": 0}, "settings": {"disableUserRegistration": True},
            "object": "config"}


# ---- views ---------------------------------------------------------------------------------------
def kdf_settings(account):
    return {"KdfType": account["kdf"], "Iterations": account["kdfIterations"], "Memory": None, "Parallelism": None}


def account_keys(account):
    """The account's cryptographic state, as servers after Vaultwarden 1.34 send it (CLI 2026.3.0 and later require it)."""
    if not STATE["server"].get("accountKeys", True):
        return None
    return {"publicKeyEncryptionKeyPair": {"wrappedPrivateKey": account["privateKey"], "publicKey": account["publicKey"],
                                           "signedPublicKey": None, "object": "publicKeyEncryptionKeyPair"},
            "signatureKeyPair": None, "securityState": None, "object": "privateKeys"}


def member_id(account_id, member):
    """The organization user id (Vaultwarden's membership uuid); organizations the lab's tooling seeded
    before members had one use the account's id."""
    return member.get("id") or account_id


def full_access(member):
    """Vaultwarden's has_full_access: access to all collections (or Owner/Admin), confirmed."""
    return (member.get("accessAll", True) or member.get("type", 0) in (0, 1)) and member.get("status", 2) == 2


def organizations_of(account):
    out = []
    for org in STATE["organizations"].values():
        member = org["members"].get(account["id"])
        if not member or member.get("status", 2) != 2:  # the profile lists confirmed memberships
            continue
        out.append({
            "id": org["id"], "name": org["name"], "key": member["key"], "type": member["type"],
            "status": member["status"], "enabled": True, "object": "profileOrganization",
            "usePolicies": True, "useGroups": True, "useDirectory": False, "useEvents": False, "useTotp": True,
            "use2fa": True, "useApi": True, "useSso": False, "useKeyConnector": False, "useScim": False,
            "useCustomPermissions": False, "useResetPassword": False, "useSecretsManager": False,
            "usePasswordManager": True, "useActivateAutofillPolicy": False, "selfHost": True,
            "usersGetPremium": True, "seats": None, "maxCollections": None, "maxStorageGb": 1,
            "ssoBound": False, "identifier": None, "permissions": {}, "resetPasswordEnrolled": False,
            "userId": account["id"], "hasPublicAndPrivateKeys": bool(org.get("publicKey") and org.get("privateKey")),
            "providerId": None, "providerName": None,
            "providerType": None, "familySponsorshipFriendlyName": None, "familySponsorshipAvailable": False,
            "planProductType": 3, "productTierType": 3, "keyConnectorEnabled": False, "keyConnectorUrl": None,
            "familySponsorshipLastSyncDate": None, "familySponsorshipValidUntil": None,
            "familySponsorshipToDelete": None, "accessSecretsManager": False,
            "limitCollectionCreation": member["type"] not in (0, 1), "limitCollectionDeletion": True,
            "limitItemDeletion": False, "allowAdminAccessToAllCollectionItems": True,
            "userIsManagedByOrganization": False,
            "userIsClaimedByOrganization": False, "isMember": True, "isProviderUser": False,
            "organizationUserId": member_id(account["id"], member), "useRiskInsights": False,
            "useAdminSponsoredFamilies": False,
        })
    return out


def profile(account):
    return {
        "id": account["id"], "name": account["name"], "email": account["email"], "emailVerified": True,
        "premium": True, "premiumFromOrganization": False, "culture": "en-US", "twoFactorEnabled": False,
        "key": account["key"], "privateKey": account["privateKey"], "accountKeys": account_keys(account),
        "securityStamp": account["securityStamp"], "forcePasswordReset": False, "usesKeyConnector": False,
        "avatarColor": None, "creationDate": "2026-01-01T00:00:00.000000Z", "verifyDevices": False,
        "organizations": organizations_of(account), "providers": [], "providerOrganizations": [],
        "object": "profile",
    }


def collection_json(col):
    """A collection as Vaultwarden's Collection::to_json gives it."""
    return {"externalId": col.get("externalId"), "id": col["id"], "organizationId": col["organizationId"],
            "name": col["name"], "type": 0, "defaultUserCollectionEmail": None, "object": "collection"}


def access_of(account, org, col):
    """(readOnly, hidePasswords, manage) of a confirmed member for a collection, or None without access."""
    member = org["members"].get(account["id"])
    if not member or member.get("status", 2) != 2:
        return None
    if full_access(member):
        return False, False, member["type"] in (0, 1, 3)
    given = (col.get("users") or {}).get(account["id"])
    if given is None:
        return None
    return given["readOnly"], given["hidePasswords"], bool(given.get("manage"))


def collections_of(account, org_id=None):
    """The collections an account sees (its sync, GET /collections): all of an organization it has full access
    to, else the ones it was given."""
    out = []
    for org in STATE["organizations"].values():
        if account["id"] not in org["members"] or (org_id and org["id"] != org_id):
            continue
        for col in org["collections"]:
            access = access_of(account, org, col)
            if access is not None:
                out.append(dict(collection_json(col), readOnly=access[0], hidePasswords=access[1], manage=access[2],
                                object="collectionDetails"))
    return out


def cipher_view(cipher):
    return dict(cipher, edit=True, viewPassword=True, organizationUseTotp=True, permissions={"delete": True, "restore": True},
                object="cipherDetails")


def visible_ciphers(account):
    """The account's own items, and an organization's items it can reach: all of them with full access, else
    those in a collection it was given (a membership not yet confirmed reaches none)."""
    out = []
    for c in STATE["ciphers"].values():
        org = STATE["organizations"].get(c.get("organizationId")) if c.get("organizationId") else None
        if org is None:
            if not c.get("organizationId") and c["userId"] == account["id"]:
                out.append(c)
            continue
        member = org["members"].get(account["id"])
        if member and (full_access(member) or any(access_of(account, org, col) is not None for col in org["collections"]
                                                  if col["id"] in (c.get("collectionIds") or []))):
            out.append(c)
    return out


def user_decryption(account):
    return {"hasMasterPassword": True, "object": "userDecryptionOptions",
            "masterPasswordUnlock": {"kdf": kdf_settings(account), "masterKeyEncryptedUserKey": account["key"],
                                     "salt": account["email"]}}


# ---- tokens --------------------------------------------------------------------------------------
def issue(account, client_id, scope, refresh=None):
    now = int(time.time())
    claims = {"nbf": now, "exp": now + ACCESS_SECONDS, "iss": "https://vault.lab.invalid/identity",
              "sub": account["id"], "premium": True, "name": account["name"], "email": account["email"],
              "email_verified": True, "sstamp": account["securityStamp"], "device": str(uuid.uuid4()),
              "scope": scope.split(), "amr": ["Application"], "client_id": client_id}
    access = b64url({"alg": "RS256", "typ": "JWT"}) + "." + b64url(claims) + "." + \
        base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    STATE["accessTokens"][access] = {"account": account["id"], "exp": claims["exp"]}
    # Expired access tokens are forgotten, so the state file does not grow with every login.
    STATE["accessTokens"] = {k: v for k, v in STATE["accessTokens"].items() if v["exp"] > now}
    refresh = refresh or secrets.token_urlsafe(48)
    STATE["refreshTokens"][refresh] = account["id"]
    save()
    return access, refresh


def account_by_email(email, placeholders=False):
    """The account of an email; an invited email's placeholder user (no password yet) only when asked."""
    for account in STATE["accounts"].values():
        if account["email"] == (email or "").strip().lower() and (placeholders or not account.get("placeholder")):
            return account
    return None


def token_answer(account, client_id, scope, refresh=None, with_keys=True):
    access, refresh = issue(account, client_id, scope, refresh)
    answer = {"access_token": access, "expires_in": ACCESS_SECONDS, "token_type": "Bearer",
              "refresh_token": refresh, "scope": scope}
    if with_keys:
        answer.update({
            "Key": account["key"], "PrivateKey": account["privateKey"], "Kdf": account["kdf"],
            "KdfIterations": account["kdfIterations"], "KdfMemory": None, "KdfParallelism": None,
            "ResetMasterPassword": False, "ForcePasswordReset": False, "MasterPasswordPolicy": {"Object": "masterPasswordPolicy"},
            "UserDecryptionOptions": user_decryption(account), "unofficialServer": True,
        })
        keys = account_keys(account)
        if keys:
            answer["AccountKeys"] = keys
    return answer


# ---- the handler ---------------------------------------------------------------------------------
class Handler(JSONHandler):
    base = ""  # the path the server is mounted at (Vaultwarden mounts under DOMAIN's path, e.g. /vault)

    def _handle(self, method):
        # Read the whole body first, whatever the route: a body left unread on a kept-alive connection
        # would be taken for the start of the next request.
        length = int(self.headers.get("Content-Length") or 0)
        self._raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path.rstrip("/")
        status = 200
        try:
            if self.base and not (path == self.base or path.startswith(self.base + "/")):
                raise error(404, "Not found.")
            with LOCK:
                payload = self.route(method, path[len(self.base):], query)
            if payload is None:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._send(200, payload)
        except Fail as exc:
            status = exc.status
            self._send(exc.status, exc.payload)
        log("%s %s %d" % (method, url.path, status))

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def send_error(self, code, message=None, explain=None):
        log("%s %s %d (%s)" % (self.command, self.path, code, message))
        super().send_error(code, message, explain)

    def do_PATCH(self):
        self._handle("PATCH")

    def do_HEAD(self):
        self._handle("HEAD")

    def _body(self):
        raw = self._raw
        if (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            raise error(400, "The request body is not JSON.")

    def _account(self):
        auth = self.headers.get("Authorization") or ""
        token = STATE["accessTokens"].get(auth[7:]) if auth.startswith("Bearer ") else None
        if token is None or token["exp"] < time.time():
            raise Fail(401, {"message": "Unauthorized", "object": "error"})
        return STATE["accounts"][token["account"]]

    # routes -----------------------------------------------------------------------------------------
    def route(self, method, path, query):
        if path.startswith("/_lab/") and ARGS.lab_knobs:
            return self.lab(method, path)
        if path.startswith("/identity"):
            return self.identity(method, path[len("/identity"):])
        if path.startswith("/api"):
            return self.api(method, path[len("/api"):], query)
        if (method, path) == ("GET", "/alive"):
            return stamp()
        raise error(404, "Not found.")

    def identity(self, method, path):
        if method == "POST" and path in ("/accounts/prelogin", "/accounts/prelogin/password"):
            account = account_by_email(self._body().get("email"))
            # An unknown email gets the defaults, so prelogin does not tell who has an account.
            kdf = kdf_settings(account) if account else {"KdfType": 0, "Iterations": 600000, "Memory": None, "Parallelism": None}
            return {"kdf": kdf["KdfType"], "kdfIterations": kdf["Iterations"], "kdfMemory": None,
                    "kdfParallelism": None, "KdfSettings": kdf, "Salt": account["email"] if account else None}
        if (method, path) == ("POST", "/connect/token"):
            return self.token(self._body())
        raise error(404, "Not found.")

    def token(self, form):
        grant = form.get("grant_type")
        if grant == "password":
            account = account_by_email(form.get("username"))
            if account is None or not form.get("password") or \
                    not secrets.compare_digest(account["passwordHash"], form.get("password")):
                raise grant_error("invalid_username_or_password", "Username or password is incorrect. Try again.")
            return token_answer(account, form.get("client_id") or "cli", form.get("scope") or "api offline_access")
        if grant == "client_credentials":
            client_id = form.get("client_id") or ""
            account = next((a for a in STATE["accounts"].values() if (a.get("apiKey") or {}).get("clientId") == client_id), None)
            if account is None or not secrets.compare_digest(account["apiKey"]["clientSecret"], form.get("client_secret") or ""):
                raise Fail(400, {"error": "invalid_client", "error_description": "invalid_client",
                                 "ErrorModel": {"Message": "Invalid client credentials.", "Object": "error"}})
            return token_answer(account, client_id, form.get("scope") or "api")
        if grant == "refresh_token":
            user = STATE["refreshTokens"].get(form.get("refresh_token") or "")
            if user is None or user not in STATE["accounts"]:
                raise Fail(400, {"error": "invalid_grant", "error_description": "invalid_grant"})
            return token_answer(STATE["accounts"][user], form.get("client_id") or "cli", "api offline_access",
                                refresh=form["refresh_token"], with_keys=False)
        raise Fail(400, {"error": "unsupported_grant_type"})

    def api(self, method, path, query):
        if (method, path) == ("GET", "/config"):
            return config_answer()
        account = self._account()
        if (method, path) == ("GET", "/accounts/revision-date"):
            return STATE["revision"].get(account["id"], 0)
        if (method, path) == ("GET", "/accounts/profile"):
            return profile(account)
        if (method, path) == ("POST", "/accounts/key-management/user-key-id"):
            # The CLI (2026.x) names its user key once; the sync says it back, so it is not posted again.
            account["userKeyId"] = self._body().get("userKeyId")
            save()
            return None
        if (method, path) == ("POST", "/accounts/verify-password"):
            # A CLI logged in with the API key has no local hash to check an unlock against: it asks here.
            if not secrets.compare_digest(account["passwordHash"], self._body().get("masterPasswordHash") or ""):
                raise error(400, "Invalid password.")
            return {"object": "masterPasswordPolicy"}
        if (method, path) == ("GET", "/sync"):
            return {"profile": profile(account), "folders": [], "collections": collections_of(account),
                    "ciphers": [cipher_view(c) for c in visible_ciphers(account)], "policies": [], "sends": [],
                    "domains": None, "userDecryption": {"masterPasswordUnlock": user_decryption(account)["masterPasswordUnlock"],
                                                        "userKeyId": account.get("userKeyId")},
                    "object": "sync"}
        if path == "/collections" and method == "GET":
            return {"data": collections_of(account), "continuationToken": None, "object": "list"}
        if (method, path) == ("POST", "/organizations"):
            return self.create_organization(account, self._body())
        if path.startswith("/organizations/"):
            return self.organization(method, path.split("/")[2:], account, query)
        if method == "GET" and path.startswith("/users/") and path.endswith("/public-key"):
            user = STATE["accounts"].get(path.split("/")[2])
            if user is None:
                raise error(404, "User doesn't exist")
            if not user.get("publicKey"):
                raise error(404, "User has no public_key")
            return {"userId": user["id"], "publicKey": user["publicKey"], "object": "userKey"}
        if path == "/ciphers" and method == "POST":
            return self.create_cipher(account, self._body(), None)
        if path == "/ciphers/create" and method == "POST":
            body = self._body()
            return self.create_cipher(account, body.get("cipher") or {}, body.get("collectionIds") or [])
        if path.startswith("/ciphers/"):
            return self.cipher(method, path.split("/")[2:], account)
        raise error(404, "Not found.")

    def create_organization(self, account, body):
        """POST /api/organizations as the web vault sends it: the creator is its Owner, confirmed, with access to
        all collections; the organization key comes shared to the creator (`key`), the first collection's name
        encrypted under it (`collectionName`), the organization's own key pair optional (`keys`)."""
        for field in ("name", "billingEmail", "collectionName", "key"):
            if not isinstance(body.get(field), str) or not body.get(field):
                raise error(400, "The %s%s field is required." % (field[0].upper(), field[1:]))
        if "planType" not in body:
            raise error(400, "The PlanType field is required.")
        keys = body.get("keys") or {}
        org_id = str(uuid.uuid4())
        org = {"id": org_id, "name": body["name"], "billingEmail": body["billingEmail"],
               "publicKey": keys.get("publicKey"), "privateKey": keys.get("encryptedPrivateKey"),
               "members": {account["id"]: {"id": str(uuid.uuid4()), "key": body["key"], "type": 0, "status": 2,
                                           "accessAll": True, "invitedByEmail": None}},
               "collections": [{"id": str(uuid.uuid4()), "organizationId": org_id, "name": body["collectionName"],
                                "externalId": None, "users": {}}]}
        STATE["organizations"][org_id] = org
        self._touch(org_id)
        return self.organization_json(org)

    @staticmethod
    def organization_json(org):
        """Vaultwarden's Organization::to_json, the fields a client reads."""
        return {"id": org["id"], "name": org["name"], "businessName": org["name"], "billingEmail": org.get("billingEmail"),
                "seats": None, "maxCollections": None, "maxStorageGb": 32767, "use2fa": True, "useCustomPermissions": True,
                "useDirectory": False, "useEvents": False, "useGroups": False, "useTotp": True, "usePolicies": True,
                "useScim": False, "useSso": False, "useKeyConnector": False, "usePasswordManager": True,
                "useSecretsManager": False, "selfHost": True, "useApi": True,
                "hasPublicAndPrivateKeys": bool(org.get("publicKey") and org.get("privateKey")),
                "useResetPassword": False, "allowAdminAccessToAllCollectionItems": True,
                "limitCollectionCreation": True, "limitCollectionDeletion": True, "limitItemDeletion": False,
                "planType": 6, "usersGetPremium": True, "object": "organization"}

    @staticmethod
    def member_json(org, account_id, member, include_collections=False):
        """Vaultwarden's Membership::to_json_user_details."""
        user = STATE["accounts"].get(account_id) or {}
        collections = []
        if include_collections and not (member.get("accessAll", True) or member.get("type", 0) in (0, 1)):
            for col in org["collections"]:
                given = (col.get("users") or {}).get(account_id)
                if given is not None:
                    collections.append({"id": col["id"], "readOnly": given["readOnly"],
                                        "hidePasswords": given["hidePasswords"], "manage": bool(given.get("manage"))})
        return {"id": member_id(account_id, member), "userId": account_id,
                "name": user.get("name") if member.get("status", 2) >= 1 else None, "email": user.get("email"),
                "externalId": None, "avatarColor": None, "groups": [], "collections": collections,
                "status": member.get("status", 2), "type": member.get("type", 0),
                "accessAll": bool(member.get("accessAll", True)), "twoFactorEnabled": False,
                "resetPasswordEnrolled": False, "hasMasterPassword": bool(user.get("passwordHash")),
                "permissions": None, "ssoBound": False, "managedByOrganization": False,
                "claimedByOrganization": False, "usesKeyConnector": False, "accessSecretsManager": False,
                "object": "organizationUserUserDetails"}

    @staticmethod
    def member_by_id(org, wanted):
        for account_id, member in org["members"].items():
            if member_id(account_id, member) == wanted:
                return account_id, member
        raise error(400, "The specified user isn't a member of the organization")

    def collection_users(self, org, body):
        """A collection request's `users` ({id: organization user id, readOnly, hidePasswords, manage}), checked as
        Vaultwarden does; members with access to all collections are skipped (they need no entry)."""
        if body.get("groups"):
            raise error(400, "Invalid group")
        users = {}
        for entry in body.get("users") or []:
            try:
                account_id, member = self.member_by_id(org, entry.get("id"))
            except Fail:
                raise error(400, "Invalid member")
            if member.get("accessAll", True) or member.get("type", 0) in (0, 1):
                continue
            users[account_id] = {"readOnly": bool(entry.get("readOnly")), "hidePasswords": bool(entry.get("hidePasswords")),
                                 "manage": bool(entry.get("manage"))}
        return users

    def access_details(self, org, col, account):
        """A collection with who has access (Vaultwarden's collectionAccessDetails): the members given it by id,
        then (in the list) the confirmed members with access to all."""
        access = access_of(account, org, col) or (True, True, False)
        users = [{"id": member_id(aid, org["members"][aid]), "readOnly": u["readOnly"], "hidePasswords": u["hidePasswords"],
                  "manage": bool(u.get("manage"))} for aid, u in (col.get("users") or {}).items() if aid in org["members"]]
        return dict(collection_json(col), readOnly=access[0], hidePasswords=access[1], manage=access[2],
                    assigned=access_of(account, org, col) is not None, users=users, groups=[],
                    object="collectionAccessDetails")

    def organization(self, method, parts, account, query=None):
        org = STATE["organizations"].get(parts[0])
        member = org["members"].get(account["id"]) if org else None
        if org is None or member is None or member.get("status", 2) != 2:
            raise error(404, "Organization not found.")
        admin = member.get("type", 0) in (0, 1)
        manager = admin or member.get("type") == 3
        rest = parts[1:]
        if method == "GET" and rest == []:
            if not admin:
                raise error(400, "You need to be Admin or Owner to call this endpoint")
            return self.organization_json(org)
        if rest in (["collections"], ["collections", "details"]):
            if method == "GET":
                if rest == ["collections"]:
                    if not full_access(member):
                        raise error(404, "Resource not found.")
                    data = [collection_json(c) for c in org["collections"]]
                else:
                    data = []
                    manage_all = [{"id": member_id(aid, m), "readOnly": False, "hidePasswords": False, "manage": True}
                                  for aid, m in org["members"].items() if full_access(m)]
                    for col in org["collections"]:
                        if full_access(member) or access_of(account, org, col) is not None:
                            details = self.access_details(org, col, account)
                            details["users"] += manage_all
                            data.append(dict(details, unmanaged=False))
                return {"data": data, "continuationToken": None, "object": "list"}
            if method == "POST" and rest == ["collections"]:
                if not manager:
                    raise error(400, "You don't have permission to create collections")
                body = self._body()
                if not body.get("name"):
                    raise error(400, "The Name field is required.")
                users = self.collection_users(org, body)
                col = {"id": str(uuid.uuid4()), "organizationId": org["id"], "name": body["name"],
                       "externalId": body.get("externalId") or None, "users": users}
                org["collections"].append(col)
                self._touch(org["id"])
                return self.access_details(org, col, account) | {"object": "collectionDetails"}
        if len(rest) >= 2 and rest[0] == "collections":
            col = next((c for c in org["collections"] if c["id"] == rest[1]), None)
            if col is None:
                raise error(400, "Collection not found")
            if method == "GET" and rest[2:] == ["details"]:
                if not manager:
                    raise error(400, "You need to be a Manager, Admin or Owner to call this endpoint")
                return self.access_details(org, col, account)
            if method in ("PUT", "POST") and rest[2:] == []:
                if not manager:
                    raise error(400, "You need to be a Manager, Admin or Owner to call this endpoint")
                body = self._body()
                if not body.get("name"):
                    raise error(400, "The Name field is required.")
                users = self.collection_users(org, body)
                col.update(name=body["name"], externalId=(body.get("externalId") or "").strip() or None, users=users)
                self._touch(org["id"])
                return self.access_details(org, col, account) | {"object": "collectionDetails"}
        if rest and rest[0] == "users":
            return self.organization_users(method, rest[1:], org, account, member, query or {})
        raise error(404, "Not found.")

    def organization_users(self, method, rest, org, account, member, query):
        admin = member.get("type", 0) in (0, 1)
        include = str(query.get("includeCollections", "")).lower() == "true"
        if method == "GET" and rest == []:
            if not full_access(member):
                raise error(404, "Resource not found.")
            return {"data": [self.member_json(org, aid, m, include) for aid, m in org["members"].items()],
                    "continuationToken": None, "object": "list"}
        if not admin:
            raise error(400, "You need to be Admin or Owner to call this endpoint")
        if method == "POST" and rest == ["invite"]:
            return self.invite(org, account, member, self._body())
        if method == "GET" and len(rest) == 1:
            account_id, found = self.member_by_id(org, rest[0])
            wants = include or str(query.get("includeGroups", "")).lower() == "true"
            return self.member_json(org, account_id, found, wants)
        if method == "POST" and len(rest) == 2 and rest[1] == "confirm":
            account_id, found = self.member_by_id(org, rest[0])
            key = self._body().get("key") or ""
            if not key:
                raise error(400, "Key or UserId is not set, unable to process request")
            if found.get("type") != 2 and member.get("type") != 0:
                raise error(400, "Only Owners can confirm Managers, Admins or Owners")
            if found.get("status") != 1:
                raise error(400, "User in invalid state")
            found.update(status=2, key=key)
            self._touch(org["id"], account_id)
            return None
        raise error(404, "Not found.")

    def invite(self, org, account, member, body):
        """POST .../users/invite as Vaultwarden's send_invite: emails, type, collections (for members without
        access to all), groups (none here). No mail server: an existing user is accepted at once; an email with
        no account gets a placeholder user, invited."""
        emails = body.get("emails")
        if not isinstance(emails, list) or not emails or "type" not in body or not isinstance(body.get("groups", []), list):
            raise error(400, "The Emails, Groups and Type fields are required.")
        try:
            new_type = int(body["type"])
        except (TypeError, ValueError):
            raise error(400, "Invalid type")
        if new_type not in (0, 1, 2, 3, 4):
            raise error(400, "Invalid type")
        new_type = 3 if new_type == 4 else new_type
        if new_type != 2 and member.get("type") != 0:
            raise error(400, "Only Owners can invite Managers, Admins or Owners")
        if body.get("groups"):
            raise error(400, "Invalid group")
        known = {c["id"] for c in org["collections"]}
        for col in body.get("collections") or []:
            if col.get("id") not in known:
                raise error(400, "Invalid collection")
        access_all = new_type in (0, 1)
        for email in emails:
            user = account_by_email(email, placeholders=True)
            status = 0
            if user is None:
                user = {"id": str(uuid.uuid4()), "email": str(email).strip().lower(), "name": None,
                        "passwordHash": "", "placeholder": True}
                STATE["accounts"][user["id"]] = user
            elif user["id"] in org["members"]:
                raise error(400, "User already in organization: %s" % email)
            elif user.get("passwordHash"):
                status = 1  # no mail server: an existing user is accepted at once
            org["members"][user["id"]] = {"id": str(uuid.uuid4()), "key": None, "type": new_type, "status": status,
                                          "accessAll": access_all, "invitedByEmail": account["email"]}
            if not access_all:
                for col in body.get("collections") or []:
                    target = next(c for c in org["collections"] if c["id"] == col["id"])
                    target.setdefault("users", {})[user["id"]] = {
                        "readOnly": bool(col.get("readOnly")), "hidePasswords": bool(col.get("hidePasswords")),
                        "manage": bool(col.get("manage"))}
        self._touch(org["id"])
        return None

    def _touch(self, org_id=None, user_id=None):
        """A change: the revision date of every account that sees it moves (what `bw sync` checks)."""
        now_ms = int(time.time() * 1000)
        for account in STATE["accounts"].values():
            if (org_id and account["id"] in STATE["organizations"][org_id]["members"]) or account["id"] == user_id:
                STATE["revision"][account["id"]] = now_ms
        save()

    def _check_collections(self, account, org_id, collection_ids):
        org = STATE["organizations"].get(org_id)
        if org is None or account["id"] not in org["members"]:
            raise error(400, "Organization not found.")
        if not collection_ids:
            raise error(400, "You must select at least one collection.")
        known = {c["id"] for c in org["collections"]}
        if set(collection_ids) - known:
            raise error(400, "Collection not found.")

    def create_cipher(self, account, body, collection_ids):
        org_id = body.get("organizationId")
        if org_id:
            self._check_collections(account, org_id, collection_ids)
        elif collection_ids:
            raise error(400, "A personal item cannot be in a collection.")
        if not body.get("name"):
            raise error(400, "The Name field is required.")
        now = stamp()
        cipher = dict(self._fields(body), id=str(uuid.uuid4()), organizationId=org_id,
                      userId=None if org_id else account["id"], collectionIds=list(collection_ids or []),
                      creationDate=now, revisionDate=now, deletedDate=None, archivedDate=None)
        STATE["ciphers"][cipher["id"]] = cipher
        self._touch(org_id, account["id"])
        return cipher_view(cipher)

    @staticmethod
    def _fields(body):
        keep = ("type", "name", "notes", "login", "card", "identity", "secureNote", "sshKey", "fields",
                "passwordHistory", "favorite", "reprompt", "key", "folderId")
        out = {k: body.get(k) for k in keep}
        out["favorite"] = bool(out["favorite"])
        out["reprompt"] = out["reprompt"] or 0
        out["data"] = None
        out["attachments"] = None  # what a server answers for an item without attachments (the CLI sends {})
        return out

    def cipher(self, method, parts, account):
        cipher = STATE["ciphers"].get(parts[0])
        if cipher is None or cipher not in visible_ciphers(account):
            raise error(404, "Cipher doesn't exist")
        action = parts[1] if len(parts) > 1 else ""
        if method == "GET" and action in ("", "details", "full-details"):
            return cipher_view(cipher)
        if method in ("PUT", "POST") and action == "":
            body = self._body()
            known = body.get("lastKnownRevisionDate")
            # As Bitwarden's server: the client's copy is stale when its date is over a second older.
            if known and parse_date(cipher["revisionDate"]) - parse_date(known) > datetime.timedelta(seconds=1):
                raise error(400, "The client copy of this cipher is out of date. Resync the client and try again.")
            cipher.update(self._fields(body), revisionDate=stamp())
            self._touch(cipher.get("organizationId"), account["id"])
            return cipher_view(cipher)
        if method in ("PUT", "POST") and action in ("collections", "collections_v2", "collections-admin"):
            ids = self._body().get("collectionIds") or []
            self._check_collections(account, cipher["organizationId"], ids)
            cipher.update(collectionIds=ids, revisionDate=stamp())
            self._touch(cipher.get("organizationId"), account["id"])
            return cipher_view(cipher) if action != "collections_v2" else {"cipher": cipher_view(cipher), "unavailable": False,
                                                                           "object": "optionalCipherDetails"}
        if method == "PUT" and action in ("delete", "delete-admin"):
            cipher.update(deletedDate=stamp(), revisionDate=stamp())
            self._touch(cipher.get("organizationId"), account["id"])
            return None
        if method == "PUT" and action in ("restore", "restore-admin"):
            cipher.update(deletedDate=None, revisionDate=stamp())
            self._touch(cipher.get("organizationId"), account["id"])
            return cipher_view(cipher)
        if method in ("DELETE", "POST") and action in ("", "delete", "delete-admin"):
            del STATE["ciphers"][cipher["id"]]
            self._touch(cipher.get("organizationId"), account["id"])
            return None
        raise error(404, "Not found.")

    # lab knobs (never used by the product) -------------------------------------------------------------
    def lab(self, method, path):
        if (method, path) == ("POST", "/_lab/server"):
            body = self._body()
            if "accountKeys" in body:
                STATE["server"]["accountKeys"] = bool(body["accountKeys"])
            save()
            return dict(STATE["server"])
        raise error(404, "Not found.")


class TLSServer(ThreadingHTTPServer):
    """TLS per connection, its handshake in the connection's own thread: a client that is slow to say hello
    holds up no one else (wrapping the listening socket would handshake in the accepting thread)."""
    daemon_threads = True
    context = None

    def finish_request(self, request, client_address):
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log("TLS handshake from %s failed: %s" % (client_address[0], exc))
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        import traceback
        log("error serving %s: %s" % (client_address[0], traceback.format_exc().strip().splitlines()[-1]))


def configure(state, accounts=None, log=None, lab_knobs=False):
    """Where the server keeps its state and logs requests, and the accounts the lab's tooling made (a file
    of {accounts, organizations}); loads what is there."""
    global ARGS
    ARGS = argparse.Namespace(state=state, log=log, lab_knobs=lab_knobs)
    if os.path.exists(state):
        with open(state) as fh:
            STATE.update(json.load(fh))
    if accounts:
        with open(accounts) as fh:
            add_accounts(json.load(fh))
    save()


def add_accounts(made):
    """Accounts and organizations made by the lab's tooling; ones already here are kept as they are. An account
    made anew for an email the server holds replaces it (as deleting an account and signing up again would)."""
    for account in made.get("accounts", []):
        for old in [a for a in STATE["accounts"].values() if a["email"] == account["email"] and a["id"] != account["id"]]:
            del STATE["accounts"][old["id"]]
            if old.get("placeholder"):
                # Signing up after an invite: the invited memberships (and their collections) are the new account's.
                for org in STATE["organizations"].values():
                    if old["id"] in org["members"]:
                        org["members"][account["id"]] = org["members"].pop(old["id"])
                    for col in org["collections"]:
                        if old["id"] in (col.get("users") or {}):
                            col["users"][account["id"]] = col["users"].pop(old["id"])
        STATE["accounts"].setdefault(account["id"], account)
    for org in made.get("organizations", []):
        STATE["organizations"].setdefault(org["id"], org)
    save()


def main(argv=None):
    p = argparse.ArgumentParser(description="Bitwarden-protocol server for the lab (HTTPS)")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--state", required=True)
    p.add_argument("--accounts", required=True, help="accounts and organizations made by the lab's tooling")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--log", help="append each request's method, path and status here")
    p.add_argument("--lab-knobs", action="store_true")
    args = p.parse_args(argv)
    configure(args.state, args.accounts, args.log, args.lab_knobs)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    TLSServer.context = context
    TLSServer(("0.0.0.0", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
