"""grpc probes: one call of the gRPC health checking protocol (``grpc.health.v1.Health/Check``).

The call is made over HTTP/2 with the h2 library (sans-I/O, pure Python) on a socket from the
pod's network namespace; the two protobuf messages involved have one field each, so they are
encoded by hand rather than with grpcio and protobuf (tens of megabytes in the supervisor).
Failure messages follow the kubelet's grpc prober.
"""

from __future__ import annotations

import socket

import h2.config
import h2.connection
import h2.events

from podbay.runtime.lifecycle.handlers import USER_AGENT, Outcome, SocketFactory

STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
GRPC_CODES = {1: "Canceled", 2: "Unknown", 3: "InvalidArgument", 4: "DeadlineExceeded", 5: "NotFound",
              7: "PermissionDenied", 12: "Unimplemented", 13: "Internal", 14: "Unavailable", 16: "Unauthenticated"}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def request_message(service: str) -> bytes:
    """A length-prefixed HealthCheckRequest{service = 1}."""
    name = service.encode()
    body = b"\x0a" + _varint(len(name)) + name if name else b""
    return b"\x00" + len(body).to_bytes(4, "big") + body


def response_status(frame: bytes) -> int:
    """HealthCheckResponse.status (field 1, a varint) from a length-prefixed message; 0 when absent."""
    body = frame[5:5 + int.from_bytes(frame[1:5], "big")] if len(frame) >= 5 else b""
    position = 0
    while position < len(body):
        key = body[position]
        position += 1
        value, shift = 0, 0
        while position < len(body):
            byte = body[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if key == 0x08:
            return value
        if key & 0x07 != 0:
            break  # only varint fields are expected
    return 0


def check(sockets: SocketFactory, host: str, port: int, service: str, timeout: float) -> Outcome:
    address = f"{host}:{port}"
    try:
        sock = sockets(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    except OSError as err:
        return Outcome(False, f'failed to connect service "{address}": {err}')
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except OSError:
        sock.close()
        return Outcome(False, f'timeout: failed to connect service "{address}" within {timeout:g}s: '
                              "context deadline exceeded")
    with sock:
        try:
            return _call(sock, address, service)
        except TimeoutError:
            return Outcome(False, f"timeout: health rpc did not complete within {timeout:g}s")
        except (OSError, h2.exceptions.ProtocolError) as err:
            return Outcome(False, f"error: health rpc probe failed: {err}")


def _call(sock: socket.socket, address: str, service: str) -> Outcome:
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, [(":method", "POST"), (":scheme", "http"), (":authority", address),
                               (":path", "/grpc.health.v1.Health/Check"), ("content-type", "application/grpc"),
                               ("te", "trailers"), ("user-agent", USER_AGENT)])
    conn.send_data(stream, request_message(service), end_stream=True)
    sock.sendall(conn.data_to_send())
    body, headers = b"", {}
    ended = False
    while not ended:
        chunk = sock.recv(65536)
        if not chunk:
            break
        for event in conn.receive_data(chunk):
            if isinstance(event, h2.events.DataReceived):
                body += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                headers.update({str(k): str(v) for k, v in event.headers})
            elif isinstance(event, h2.events.StreamReset):
                return Outcome(False, f"error: health rpc probe failed: stream reset (code {event.error_code})")
            elif isinstance(event, h2.events.StreamEnded):
                ended = True
        sock.sendall(conn.data_to_send())
    code = int(headers.get("grpc-status", "2"))
    if code != 0:
        name = GRPC_CODES.get(code, str(code))
        return Outcome(False, f"error: health rpc probe failed: rpc error: code = {name} desc = "
                              f"{headers.get('grpc-message', '')}")
    status = response_status(body)
    if status != 1:
        return Outcome(False, f'service unhealthy (responded with "{STATUS_NAMES.get(status, status)}")')
    return Outcome(True)
