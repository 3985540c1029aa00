"""A corporate network on 127.0.0.1 for the proxy and TLS tests: a CONNECT proxy that maps
every host name to one local port (so a remote-looking name resolves through the proxy only,
and no traffic leaves the machine), and a certificate authority made on the spot."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.target import accepting


@dataclass(frozen=True)
class Certs:
    """PEM files: the CA to trust, and a server certificate and key it signed."""

    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """What a TLS server on 127.0.0.1 presents."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certs(folder: Path, names: tuple[str, ...] = ("localhost", "hooks.example.test")
               ) -> Certs:
    """A throwaway CA and a server certificate for `names` and 127.0.0.1."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ofevents test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    paths = Certs(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


@dataclass
class Proxy:
    """The running proxy: its URL, and the request line of every connection it was asked for."""

    url: str
    asked: list[str] = field(default_factory=list)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def running_proxy(upstream_port: int) -> Iterator[Proxy]:
    """An HTTP proxy on 127.0.0.1: `CONNECT any-host:any-port` opens a tunnel to
    127.0.0.1:`upstream_port`; an absolute-form request (`POST http://any-host/x`) is sent
    there in origin-form. It records each first request line."""
    state = Proxy("")

    def serve(client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                client.close()
                return
            head += chunk
        line, _, rest = head.partition(b"\r\n")
        state.asked.append(line.decode("latin-1"))
        method, target, version = line.split(b" ", 2)
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
        if method == b"CONNECT":
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest.partition(b"\r\n\r\n")[2]:
                upstream.sendall(rest.partition(b"\r\n\r\n")[2])
        else:
            path = b"/" + target.split(b"://", 1)[-1].partition(b"/")[2]
            upstream.sendall(b" ".join((method, path, version)) + b"\r\n" + rest)
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join(5)
        client.close()
        upstream.close()

    with accepting(serve) as port:
        state.url = f"http://127.0.0.1:{port}"
        yield state
