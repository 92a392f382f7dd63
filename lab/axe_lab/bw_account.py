"""A Bitwarden account for the lab's vault server, made the way Bitwarden's clients make one at sign-up.

Runs in the lab's tooling (the virtualenv has `cryptography`), never in the server: the server only
stores what is made here and what the real CLI sends, as a Bitwarden server does. So the real `bw`
derives the same keys from the master password and decrypts real ciphertext, and a wrong master
password fails to unlock exactly as against Vaultwarden.

- master key: PBKDF2-SHA256(master password, salt = the email, trimmed and lowercased, iterations), 32 bytes
- stretched master key: HKDF-Expand(master key, "enc", 32) + HKDF-Expand(master key, "mac", 32)
- the server's password hash: base64 PBKDF2-SHA256(master key, master password, 1 iteration)
- user key: 64 random bytes, kept as an EncString (type 2) under the stretched master key
- key pair: RSA-2048; the private key (PKCS#8 DER) as an EncString under the user key, the public key
  as base64 SPKI DER
- an organization key: 64 random bytes, shared to the account as EncString type 4 (RSA-OAEP, SHA-1)
  under its public key; a collection's name is an EncString under the organization key
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .sm_crypto import decrypt, encrypt

# Bitwarden's default for a new account (PBKDF2-SHA256, 600,000 iterations since 2023).
KDF_ITERATIONS = 600_000


def _hkdf_expand(prk: bytes, info: bytes, length: int = 32) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def salt(email: str) -> str:
    return email.strip().lower()


def master_key(password: str, email: str, iterations: int = KDF_ITERATIONS) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt(email).encode(), iterations, 32)


def stretched(key: bytes) -> bytes:
    return _hkdf_expand(key, b"enc") + _hkdf_expand(key, b"mac")


def password_hash(key: bytes, password: str) -> str:
    """What the client sends as `password` at login: the server compares it, never sees the password."""
    return base64.b64encode(hashlib.pbkdf2_hmac("sha256", key, password.encode(), 1, 32)).decode()


def share_key(public_key_b64: str, key: bytes) -> str:
    """EncString type 4: `key` under an account's RSA public key (OAEP with SHA-1, as Bitwarden does)."""
    public = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    sealed = public.encrypt(key, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))
    return "4." + base64.b64encode(sealed).decode()


def new_account(email: str, password: str, name: str = "AXE Labs operator",
                iterations: int = KDF_ITERATIONS) -> tuple[dict, bytes]:
    """(the server's record of a new account, its user key). The record holds nothing the server could
    decrypt: the password only as its hash, every key encrypted."""
    mkey = master_key(password, email, iterations)
    user_key = os.urandom(64)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_der = private.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    record = {
        "id": str(uuid.uuid4()), "email": salt(email), "name": name,
        "kdf": 0, "kdfIterations": iterations,
        "passwordHash": password_hash(mkey, password),
        "key": encrypt(stretched(mkey), user_key),
        "privateKey": encrypt(user_key, private_der),
        "publicKey": base64.b64encode(public_der).decode(),
        "apiKey": {"clientId": "user." + str(uuid.uuid4()), "clientSecret": secrets.token_urlsafe(22)},
        "securityStamp": str(uuid.uuid4()),
    }
    return record, user_key


def new_organization(name: str, account: dict, collections: list[str]) -> dict:
    """An organization the account owns: its key shared to the account, and named collections."""
    org_key = os.urandom(64)
    org_id = str(uuid.uuid4())
    return {
        "id": org_id, "name": name,
        "members": {account["id"]: {"key": share_key(account["publicKey"], org_key), "type": 0, "status": 2}},
        "collections": [{"id": str(uuid.uuid4()), "organizationId": org_id, "name": encrypt(org_key, c.encode()),
                         "externalId": None} for c in collections],
    }


def unlocks(record: dict, password: str) -> bool:
    """Whether `password` decrypts the account's user key (the check a client's unlock makes)."""
    try:
        decrypt(stretched(master_key(password, record["email"], record["kdfIterations"])), record["key"])
        return True
    except ValueError:
        return False
