"""A client of the OCI distribution API (``/v2/``) for one repository: manifests and blobs, with auth.

- Auth as docker and podman do it: a request is first sent with what we have; a ``401`` carries
  ``WWW-Authenticate``. ``Basic`` is answered with the stored credentials; ``Bearer realm=,service=,scope=``
  by asking the realm for a token (with the credentials as basic auth when there are any, anonymously
  otherwise) and sending it as ``Authorization: Bearer``. Tokens are kept per scope for the client's life.
- The ``Authorization`` header never follows a redirect (blob storage often lives on another host).
- TLS is verified against the system's CAs plus ``certs.d/<host[:port]>/*.crt`` (podman's
  ``/etc/containers/certs.d`` and the user's, and docker's ``/etc/docker/certs.d``), with a client
  certificate pair (``*.cert`` + ``*.key``) there when present. Plain http only for a registry marked
  ``insecure`` or with ``--tls-verify=false``.
- Proxies come from the environment (``https_proxy``, ``http_proxy``, ``no_proxy``), as urllib reads them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.client import HTTPMessage, HTTPResponse
from pathlib import Path
from typing import IO, Any

from podbay.runtime.images.auth import Credentials
from podbay.runtime.images.reference import Reference

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
TIMEOUT = 30.0
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"|(\w+)=([^,\s]+)')


class RegistryError(Exception):
    """``status`` 0 when the registry could not be reached at all."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def endpoint(domain: str) -> str:
    """The host that serves a registry's API (docker.io's is registry-1.docker.io)."""
    return "registry-1.docker.io" if domain in ("docker.io", "index.docker.io") else domain


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="https://auth",service="reg",scope="repository:x:pull"`` -> ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for match in _CHALLENGE.finditer(rest):
        key = match[1] or match[3]
        params[key.lower()] = match[2] if match[1] else match[4]
    return scheme.lower(), params


def certs_dirs(host: str) -> list[Path]:
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [home / "containers" / "certs.d" / host, Path("/etc/containers/certs.d") / host,
            Path("/etc/docker/certs.d") / host]


def tls_context(host: str, verify: bool) -> ssl.SSLContext:
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context()
    for folder in certs_dirs(host):
        if not folder.is_dir():
            continue
        for cert in sorted(folder.glob("*.crt")):
            context.load_verify_locations(cafile=str(cert))
        for cert in sorted(folder.glob("*.cert")):
            key = cert.with_suffix(".key")
            if key.is_file():
                context.load_cert_chain(str(cert), str(key))
    return context


class _NoAuthOnRedirect(urllib.request.HTTPRedirectHandler):
    """Authorization is added as an unredirected header, so urllib drops it here already; this keeps
    303/307 semantics plain: always a GET of the new location with our Range header."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,  # noqa: PLR0917
                         headers: HTTPMessage, newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and req.has_header("Range"):
            new.add_header("Range", req.get_header("Range") or "")
        return new


class Client:
    def __init__(self, reference: Reference, credentials: Credentials | None, *, tls_verify: bool = True,
                 insecure: bool = False) -> None:
        self.reference = reference
        self.host = endpoint(reference.domain)
        self.credentials = credentials
        self.insecure = insecure or not tls_verify
        self.scheme = "https"
        self.tokens: dict[str, str] = {}  # scope -> bearer token
        self.challenge: tuple[str, dict[str, str]] | None = None
        self.lock = threading.Lock()
        context = tls_context(self.host, verify=not self.insecure)
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoAuthOnRedirect())

    # --- requests ------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}/v2/{path}"

    def open(self, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> HTTPResponse:
        """A response with status < 400 (redirects followed, auth negotiated), or RegistryError."""
        for attempt in range(4):
            request = urllib.request.Request(self.url(path), headers=headers or {}, method=method)
            authorization = self._authorization()
            if authorization:
                request.add_unredirected_header("Authorization", authorization)
            try:
                return self.opener.open(request, timeout=TIMEOUT)  # type: ignore[no-any-return]
            except urllib.error.HTTPError as err:
                if err.code == 401 and attempt < 3 and self._answer(err.headers.get("WWW-Authenticate", "")):
                    err.close()
                    continue
                raise self._http_error(err) from err
            except (urllib.error.URLError, OSError) as err:
                if self._fall_back_to_http(err):
                    continue
                raise RegistryError(f"cannot reach {self.host}: {_reason(err)}") from err
        raise RegistryError(f"{self.host}: authentication failed: the registry kept answering 401", 401)

    def _fall_back_to_http(self, err: Exception) -> bool:
        """An insecure registry may speak plain http (podman tries https first, then http)."""
        if self.scheme == "https" and self.insecure:
            self.scheme = "http"
            return True
        if self.scheme == "https" and isinstance(getattr(err, "reason", None), ssl.SSLError):
            raise RegistryError(f"{self.host}: TLS failed ({_reason(err)}): trust its CA in "
                                f"/etc/containers/certs.d/{self.host}/ca.crt, or, for a local test registry, "
                                "use --tls-verify=false or mark it insecure in registries.conf") from err
        return False

    def _http_error(self, err: urllib.error.HTTPError) -> RegistryError:
        detail = ""
        try:
            body = json.loads(err.read() or b"{}")
            errors = body.get("errors") or []
            detail = "; ".join(f"{e.get('code', '')}: {e.get('message', '')}" for e in errors if isinstance(e, dict))
        except (ValueError, OSError, AttributeError):
            pass
        what = {401: "unauthorized: check your credentials (podbay login " + self.reference.domain + ")",
                403: "denied", 404: "not found"}.get(err.code, err.reason)
        return RegistryError(f"{self.host}: {err.code} {what}" + (f" ({detail})" if detail else ""), err.code)

    # --- auth ----------------------------------------------------------------------------

    def _scope(self) -> str:
        return f"repository:{self.reference.path}:pull"

    def _authorization(self) -> str:
        with self.lock:
            if self.challenge is None:
                return ""
            scheme, _ = self.challenge
            if scheme == "basic" and self.credentials:
                pair = f"{self.credentials.username}:{self.credentials.password}".encode()
                return "Basic " + base64.b64encode(pair).decode()
            token = self.tokens.get(self._scope())
            return f"Bearer {token}" if scheme == "bearer" and token else ""

    def _answer(self, header: str) -> bool:
        """Prepare to answer a 401's challenge; False when there is nothing new to answer it with."""
        scheme, params = parse_challenge(header)
        with self.lock:
            already = self.challenge is not None and self.challenge[0] == scheme
            self.challenge = (scheme, params)
            if scheme == "basic":
                return self.credentials is not None and not already
            if scheme != "bearer" or not params.get("realm"):
                return False
            if already and self._scope() in self.tokens:
                return False  # the token we sent was refused
            self.tokens[self._scope()] = self._fetch_token(params)
            return True

    def _fetch_token(self, params: dict[str, str]) -> str:
        query = {"scope": params.get("scope") or self._scope()}
        if params.get("service"):
            query["service"] = params["service"]
        url = params["realm"] + ("&" if "?" in params["realm"] else "?") + urllib.parse.urlencode(query)
        request = urllib.request.Request(url)
        if self.credentials:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            request.add_unredirected_header("Authorization", "Basic " + base64.b64encode(pair).decode())
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as err:
            raise RegistryError(f"the token service {params['realm']} refused: {err.code} {err.reason}"
                                + (" (check your credentials)" if err.code in (401, 403) else ""), err.code) from err
        except (urllib.error.URLError, OSError, ValueError) as err:
            raise RegistryError(f"the token service {params['realm']}: {_reason(err)}") from err
        token = answer.get("token") or answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"the token service {params['realm']} answered without a token")
        return token

    # --- the API ---------------------------------------------------------------------------

    def check(self) -> None:
        """``GET /v2/``: reachable, and the credentials accepted (``podbay login``)."""
        with self.open("") as response:
            response.read()

    def manifest(self, identifier: str) -> tuple[bytes, str, str]:
        """The manifest's bytes, media type (an index or an image manifest) and the digest the registry
        says it has (``Docker-Content-Digest``, empty when it says none)."""
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        with self.open(f"{self.reference.path}/manifests/{identifier}", headers) as response:
            media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
            return response.read(), media_type, response.headers.get("Docker-Content-Digest") or ""

    def blob(self, digest: str, offset: int = 0) -> tuple[HTTPResponse, bool]:
        """A blob's response from ``offset``; True when the server honoured the range (206)."""
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        response = self.open(f"{self.reference.path}/blobs/{digest}", headers)
        resumed = response.status == 206 and (response.headers.get("Content-Range") or "").startswith(
            f"bytes {offset}-")
        return response, resumed


def _reason(err: Exception) -> str:
    reason: Any = getattr(err, "reason", None) or err
    return str(reason)


ProgressCallback = Callable[[str, int, int], None]  # (digest, bytes so far, total)
