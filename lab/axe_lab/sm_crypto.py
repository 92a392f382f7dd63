"""Bitwarden's encryption for the lab's Secrets Manager, done the way the real service's clients do it.

Runs in the lab's tooling (the virtualenv has `cryptography`), never in the emulator container: the
emulator only stores and serves what is made here (a machine account's encrypted payload) and what
the SDK sends (secrets as EncStrings). So the real SDK decrypts real ciphertext, and a token with the
wrong key fails to decrypt exactly as against Bitwarden.

- An access token is `0.<client id>.<client secret>:<base64 of a 16-byte key>`.
- The key that protects the organization key: HMAC-SHA256 keyed with "bitwarden-accesstoken" over the
  16 bytes (HKDF-Extract), then HKDF-Expand (SHA-256) with info "sm-access-token" to 64 bytes: the first
  32 encrypt (AES-256-CBC), the last 32 authenticate (HMAC-SHA256).
- An EncString of type 2 is `2.<iv>|<ciphertext>|<mac>` (base64 parts), the MAC over iv + ciphertext.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def payload_key(token_key: bytes) -> bytes:
    if len(token_key) != 16:
        raise ValueError("an access token's key is 16 bytes")
    prk = hmac.new(b"bitwarden-accesstoken", token_key, hashlib.sha256).digest()
    okm, block = b"", b""
    for counter in (1, 2):
        block = hmac.new(prk, block + b"sm-access-token" + bytes([counter]), hashlib.sha256).digest()
        okm += block
    return okm


def encrypt(key: bytes, plaintext: bytes, iv: bytes | None = None) -> str:
    """An EncString (type 2) of `plaintext` under a 64-byte key (encryption half, MAC half)."""
    iv = iv or os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key[:32]), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = hmac.new(key[32:], iv + ciphertext, hashlib.sha256).digest()
    return "2." + "|".join(base64.b64encode(part).decode() for part in (iv, ciphertext, mac))


def decrypt(key: bytes, enc_string: str) -> bytes:
    """The plaintext of an EncString (type 2); ValueError when the MAC does not match (a wrong key)."""
    kind, _, parts = enc_string.partition(".")
    if kind != "2":
        raise ValueError(f"EncString type {kind} is not AES-256-CBC + HMAC-SHA256")
    iv, ciphertext, mac = (base64.b64decode(p) for p in parts.split("|"))
    if not hmac.compare_digest(mac, hmac.new(key[32:], iv + ciphertext, hashlib.sha256).digest()):
        raise ValueError("the MAC does not match: the wrong key")
    decryptor = Cipher(algorithms.AES(key[:32]), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def access_token(client_id: str, client_secret: str, token_key: bytes) -> str:
    return f"0.{client_id}.{client_secret}:{base64.b64encode(token_key).decode()}"


def encrypted_payload(token_key: bytes, organization_key: bytes) -> str:
    """What the identity server returns at login: the organization key, under the token's key."""
    body = json.dumps({"encryptionKey": base64.b64encode(organization_key).decode()}).encode()
    return encrypt(payload_key(token_key), body)
