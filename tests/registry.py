"""A real registry for the tests: Debian's docker-registry (the CNCF distribution server) on 127.0.0.1,
our own push code for the images the tests build, and a token service for ``auth: token``.

Images are pushed to an open server; the same storage folder is then served again with whatever auth
or TLS a test needs (the distribution server reads its storage, not its history).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REGISTRY_BINARY = shutil.which("docker-registry") or shutil.which("registry") or ""
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
LAYER_TYPES = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
               "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
               "none": "application/vnd.oci.image.layer.v1.tar"}


@contextlib.contextmanager
def inside(netns: str) -> Iterator[None]:
    """This thread in the tests' network namespace, where podbay runs: a server or a child started
    here listens on that namespace's loopback, and our own requests go there too."""
    if not netns:
        yield
        return
    from podbay.runtime.syscalls import CLONE_NEWNET, setns  # noqa: PLC0415

    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        setns(target, CLONE_NEWNET)
        yield
    finally:
        setns(home, CLONE_NEWNET)
        os.close(home)
        os.close(target)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def compress(tar: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(tar, mtime=0, compresslevel=1)
    if how == "zstd":
        import zstandard  # noqa: PLC0415

        return zstandard.ZstdCompressor().compress(tar)
    return tar


@dataclass
class Registry:
    """One docker-registry process serving ``storage`` on 127.0.0.1:``port``."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    scheme: str = "http"

    @property
    def storage(self) -> Path:
        return self.folder / "storage"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / f"registry-{self.port}.log"

    def start(self, auth: dict[str, Any] | None = None, tls: tuple[Path, Path] | None = None) -> Registry:
        self.storage.mkdir(parents=True, exist_ok=True)
        http: dict[str, Any] = {"addr": self.host, "secret": "podbay-tests"}
        if tls:
            http["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
            self.scheme = "https"
        config = {"version": 0.1, "log": {"level": "info", "accesslog": {"disabled": False}},
                  "storage": {"filesystem": {"rootdirectory": str(self.storage)}, "delete": {"enabled": True}},
                  "http": http}
        if auth:
            config["auth"] = auth
        path = self.folder / f"config-{self.port}.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([REGISTRY_BINARY, "serve", str(path)], stdout=log, stderr=log,
                                            start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"docker-registry exited: {self.log.read_text()[-2000:]}") from None
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not listen within 20 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, sig)
            self.process.wait(timeout=20)
        self.process = None

    def blob_file(self, digest: str) -> Path:
        hexa = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexa[:2] / hexa / "data"

    def requests_for(self, path_part: str) -> int:
        """How many GET requests the access log shows for URLs containing ``path_part``."""
        return sum(1 for line in self.log.read_text(errors="replace").splitlines()
                   if '"GET ' in line and path_part in line)

    # --- pushing (to an open server) -----------------------------------------------------

    def _url(self, path: str) -> str:
        return f"http://{self.host}/v2/{path}"

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = digest_of(data)
        head = urllib.request.Request(self._url(f"{repository}/blobs/{digest}"), method="HEAD")
        try:
            with urllib.request.urlopen(head, timeout=30):
                return digest
        except urllib.error.HTTPError:
            pass
        start = urllib.request.Request(self._url(f"{repository}/blobs/uploads/"), method="POST", data=b"")
        with urllib.request.urlopen(start, timeout=30) as response:
            location = response.headers["Location"]
        location = urllib.parse.urljoin(self._url(""), location)
        separator = "&" if "?" in location else "?"
        put = urllib.request.Request(f"{location}{separator}digest={digest}", method="PUT", data=data,
                                     headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(put, timeout=60):
            return digest

    def push_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str:
        put = urllib.request.Request(self._url(f"{repository}/manifests/{reference}"), method="PUT", data=data,
                                     headers={"Content-Type": media_type})
        with urllib.request.urlopen(put, timeout=30):
            return digest_of(data)

    def push_image(self, repository: str, tag: str, layers: list[bytes], *, how: str = "gzip",
                   architecture: str = "", cmd: list[str] | None = None, docker: bool = False) -> tuple[str, str]:
        """Push an image of these layer tars (an OCI manifest, or with ``docker`` a Docker schema 2 one);
        returns (manifest digest, config digest)."""
        blobs = [compress(tar, how) for tar in layers]
        config = {"architecture": architecture or host_architecture(), "os": "linux", "created": "2026-11-25T00:00:00Z",
                  "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": cmd or ["sh"]},
                  "rootfs": {"type": "layers", "diff_ids": [digest_of(t) for t in layers]}}
        config_bytes = json.dumps(config).encode()
        self.push_blob(repository, config_bytes)
        for blob in blobs:
            self.push_blob(repository, blob)
        manifest_type, config_type = (DOCKER_MANIFEST, "application/vnd.docker.container.image.v1+json") if docker \
            else (OCI_MANIFEST, "application/vnd.oci.image.config.v1+json")
        layer_type = "application/vnd.docker.image.rootfs.diff.tar.gzip" if docker else LAYER_TYPES[how]
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": digest_of(config_bytes), "size": len(config_bytes)},
            "layers": [{"mediaType": layer_type, "digest": digest_of(b), "size": len(b)} for b in blobs],
        }).encode()
        return self.push_manifest(repository, tag, manifest, manifest_type), digest_of(config_bytes)

    def push_index(self, repository: str, tag: str, entries: list[tuple[str, str, str]]) -> str:
        """An OCI index of already pushed manifests: (digest, architecture, variant)."""
        manifests = []
        for digest, architecture, variant in entries:
            size = len(self.manifest_bytes(repository, digest))
            platform = {"os": "linux", "architecture": architecture} | ({"variant": variant} if variant else {})
            manifests.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "platform": platform})
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}).encode()
        return self.push_manifest(repository, tag, index, OCI_INDEX)

    def manifest_bytes(self, repository: str, reference: str) -> bytes:
        get = urllib.request.Request(self._url(f"{repository}/manifests/{reference}"),
                                     headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}, {DOCKER_MANIFEST}"})
        with urllib.request.urlopen(get, timeout=30) as response:
            return bytes(response.read())


def host_architecture() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def htpasswd_auth(folder: Path, user: str, password: str) -> dict[str, Any]:
    path = folder / "htpasswd"
    subprocess.run(["htpasswd", "-Bbc", str(path), user, password], check=True, capture_output=True)
    return {"htpasswd": {"realm": "podbay-tests", "path": str(path)}}


# --- a token service for `auth: token` -----------------------------------------------------------


def make_certificate(folder: Path, common_name: str, *, ip: str = "") -> tuple[Path, Path]:
    """A self-signed certificate and its key (PEM), for token signing or for TLS on ``ip``."""
    import datetime  # noqa: PLC0415
    import ipaddress  # noqa: PLC0415

    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                                        critical=False)
    cert = builder.sign(key, hashes.SHA256())
    cert_path, key_path = folder / f"{common_name}.crt", folder / f"{common_name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """The realm of ``auth: token``: checks basic credentials (when it has users) and answers a JWT
    signed with RS256, its certificate in ``x5c`` so that the registry can check it against its bundle."""

    def __init__(self, folder: Path, users: dict[str, str] | None = None) -> None:
        from cryptography import x509  # noqa: PLC0415
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

        self.cert, self.key_path = make_certificate(folder, "podbay-token-signer")
        self.key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        certificate = x509.load_pem_x509_certificate(self.cert.read_bytes())
        self.x5c = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
        self.users = users or {}
        self.requests: list[dict[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def registry_auth(self) -> dict[str, Any]:
        return {"token": {"realm": self.realm, "service": "podbay-test-registry", "issuer": "podbay-test-issuer",
                          "rootcertbundle": str(self.cert)}}

    def token(self, scope: str) -> str:
        from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import padding  # noqa: PLC0415

        access = []
        if scope:
            kind, name, actions = scope.split(":", 2)
            access = [{"type": kind, "name": name, "actions": actions.split(",")}]
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": "podbay-test-issuer", "sub": "tester", "aud": "podbay-test-registry", "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
        signature = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]
        return f"{signing_input.decode()}.{_b64(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))
                service.requests.append(query | {"authorization": self.headers.get("Authorization", "")})
                if service.users and not self._authorised():
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": service.token(query.get("scope", "")), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self) -> bool:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return False
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                return service.users.get(user) == password

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SlowProxy:
    """A TCP proxy to a registry that sends its answers at ``rate`` bytes a second, remembers the
    requests' lines and Range headers, and calls ``on_bytes(total)`` as answers flow (to kill the registry
    mid-blob). It is also an HTTP proxy for plain http: the registry answers absolute-form requests."""

    def __init__(self, upstream_port: int, rate: int = 4 << 20) -> None:
        self.upstream_port, self.rate = upstream_port, rate
        self.ranges: list[str] = []
        self.request_lines: list[str] = []  # "GET http://host/v2/..." when it is used as an HTTP proxy
        self.sent = 0
        self.on_bytes: Any = None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
        try:
            while data := upstream.recv(65536):
                for start in range(0, len(data), 16384):
                    client.sendall(data[start:start + 16384])
                    self.sent += min(16384, len(data) - start)
                    time.sleep(16384 / self.rate)
                    if self.on_bytes is not None:
                        self.on_bytes(self.sent)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while data := client.recv(65536):
                for line in data.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("range:"):
                        self.ranges.append(line.split(":", 1)[1].strip())
                    elif line.startswith(("GET ", "HEAD ")):
                        self.request_lines.append(line)
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()
