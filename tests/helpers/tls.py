"""Certificates made in the test with ``openssl`` and ``keytool`` (both ship on the box).

::

    ca = CertAuthority.create(tmp_path / "ca", "KDS test CA")
    broker = ca.issue("broker", ["127.0.0.1", "localhost"])   # PEM cert + key, SANs
    keystore = broker.pkcs12(password="changeit")             # for ActiveMQ's <sslContext>
    truststore = ca.truststore(password="changeit")           # for needClientAuth

Everything is a file under the given folder; nothing is cached between tests.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


def _run(*args: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}")


def _san(names: list[str]) -> str:
    parts = []
    for name in names:
        try:
            ipaddress.ip_address(name)
            parts.append(f"IP:{name}")
        except ValueError:
            parts.append(f"DNS:{name}")
    return ",".join(parts)


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key (PEM files) signed by a :class:`CertAuthority`."""

    cert: Path
    key: Path

    def pkcs12(self, password: str) -> Path:
        """The cert and key as a PKCS12 keystore (what ActiveMQ's ``keyStore`` reads)."""
        path = self.cert.with_suffix(".p12")
        _run(
            "openssl", "pkcs12", "-export", "-in", str(self.cert), "-inkey", str(self.key),
            "-name", self.cert.stem, "-out", str(path), "-passout", f"pass:{password}",
        )  # fmt: skip
        return path


@dataclass(frozen=True)
class CertAuthority:
    folder: Path
    cert: Path
    key: Path

    @classmethod
    def create(cls, folder: Path, name: str) -> CertAuthority:
        if shutil.which("openssl") is None:
            raise RuntimeError("openssl not found; apt-get install -y openssl")
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = folder / "ca.pem", folder / "ca.key"
        _run(
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        return cls(folder, cert, key)

    def issue(self, name: str, hosts: list[str]) -> Issued:
        """A leaf certificate for ``hosts`` (subjectAltName; IPs as IP entries)."""
        cert, key, csr = (self.folder / f"{name}{ext}" for ext in (".pem", ".key", ".csr"))
        ext = self.folder / f"{name}.ext"
        ext.write_text(
            f"subjectAltName={_san(hosts)}\n"
            "basicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\n"
        )
        _run(
            "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes",
            "-subj", f"/CN={hosts[0] if hosts else name}", "-keyout", str(key), "-out", str(csr),
        )  # fmt: skip
        _run(
            "openssl", "x509", "-req", "-in", str(csr), "-CA", str(self.cert),
            "-CAkey", str(self.key), "-CAcreateserial", "-days", "2",
            "-extfile", str(ext), "-out", str(cert),
        )  # fmt: skip
        return Issued(cert, key)

    def truststore(self, password: str) -> Path:
        """A PKCS12 truststore holding this CA (made with keytool, as Java wants it)."""
        if shutil.which("keytool") is None:
            raise RuntimeError("keytool not found; it ships with the JDK (default-jre-headless)")
        path = self.folder / "truststore.p12"
        path.unlink(missing_ok=True)
        _run(
            "keytool", "-importcert", "-noprompt", "-alias", "kds-ca", "-file", str(self.cert),
            "-keystore", str(path), "-storetype", "PKCS12", "-storepass", password,
        )  # fmt: skip
        return path
