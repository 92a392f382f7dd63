"""A test CA and a server certificate for the lab's HTTPS emulators (the Secrets Manager SDK speaks
HTTPS only). Made once per lab in its state dir; clients trust the CA through a CA file setting
(`AXE_SM_CA_FILE`), never by turning verification off."""
from __future__ import annotations

import datetime
import http.client
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .files import atomic_write


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "axelab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def ensure(directory: Path, names: list[str]) -> dict[str, Path]:
    """ca.pem, server.pem and server.key in `directory` (made when missing); their paths."""
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    if all(p.is_file() for p in paths.values()):
        return paths
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("axelab test CA")).issuer_name(_name("axelab test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=825))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))] + [x509.DNSName(n) for n in names]
    cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    atomic_write(paths["key"], key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode(), mode=0o600)
    atomic_write(paths["cert"], cert.public_bytes(serialization.Encoding.PEM).decode(), mode=0o644)
    atomic_write(paths["ca"], ca.public_bytes(serialization.Encoding.PEM).decode(), mode=0o644)
    os.chmod(directory, 0o755)
    return paths


def request(base: str, ca_file: Path, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None, timeout: float = 2) -> tuple[int, bytes]:
    """(status, body) of one request to a lab HTTPS emulator at `base` (https://host:port), trusting only
    `ca_file`. Raises OSError, ssl.SSLError or http.client.HTTPException when nothing answers over that TLS."""
    host, _, port = base.removeprefix("https://").partition(":")
    conn = http.client.HTTPSConnection(host, int(port), context=ssl.create_default_context(cafile=str(ca_file)),
                                       timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def answers(base: str | None, ca_file: Path, path: str, want: int | None = None) -> bool:
    """Whether an HTTPS emulator answers at `path` (with status `want`, or any status) over TLS `ca_file` vouches for."""
    if not base:
        return False
    try:
        status, _ = request(base, ca_file, "GET", path)
    except (OSError, ssl.SSLError, http.client.HTTPException):
        return False
    return want is None or status == want
