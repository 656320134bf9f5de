"""The pooled http.client transport under the egress guard and the Bandwidth client, against raw
socket servers on loopback that count connections and misbehave on purpose."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest
import trustme

from adapter.http_transport import Transport, TransportError, TransportTimeout, origin_of
from tests.raw_http_server import Handler, RawServer


def ok(body: bytes = b"hello") -> Handler:
    def handler(conn: socket.socket, number: int, received: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        return True
    return handler


@pytest.fixture
def servers() -> Iterator[list[RawServer]]:
    made: list[RawServer] = []
    yield made
    for server in made:
        server.close()


def serve(servers: list[RawServer], handler: Handler) -> RawServer:
    server = RawServer(handler)
    servers.append(server)
    return server


def fetch(transport: Transport, url: str, body: bytes | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    exchange = transport.send("POST" if body else "GET", url, body=body, headers={}, timeout=timeout)
    chunks, complete = [], False
    try:
        while chunk := exchange.read(4):
            chunks.append(chunk)
        complete = True
    finally:
        exchange.finish(complete=complete)
    return exchange.status, b"".join(chunks)


def test_a_kept_alive_connection_carries_the_next_requests(servers):
    server = serve(servers, ok())
    transport = Transport()
    for n in range(5):
        assert fetch(transport, f"{server.url}/x{n}", b"body") == (200, b"hello")
    assert server.connections == 1
    assert [r.split(b" ")[1] for r in server.requests] == [f"/x{n}".encode() for n in range(5)]
    assert server.requests[0].endswith(b"\r\n\r\nbody")


def test_a_connection_the_server_closed_while_idle_is_replaced_not_used(servers):
    def close_after_answer(conn: socket.socket, number: int, body: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        return False  # closes without saying Connection: close, as a keep-alive timeout does

    server = serve(servers, close_after_answer)
    transport = Transport()
    assert fetch(transport, server.url + "/a") == (200, b"ok")
    threading.Event().wait(0.1)  # the FIN arrives
    assert fetch(transport, server.url + "/b") == (200, b"ok")
    assert server.connections == 2 and len(server.requests) == 2


def test_a_reused_connection_lost_before_the_answer_is_retried_once_on_a_new_one(servers):
    def drop_second_request(conn: socket.socket, number: int, body: bytes) -> bool:
        if number == 2:
            return False  # read the request, close without answering: the keep-alive race
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        return True

    server = serve(servers, drop_second_request)
    transport = Transport()
    assert fetch(transport, server.url + "/a") == (200, b"ok")
    assert fetch(transport, server.url + "/b") == (200, b"ok")  # lost on the old connection, sent again
    assert server.connections == 2
    assert [r.split(b" ")[1] for r in server.requests] == [b"/a", b"/b", b"/b"]


def test_a_fresh_connection_lost_before_the_answer_is_an_error_not_a_retry(servers):
    server = serve(servers, lambda conn, number, body: False)
    with pytest.raises(TransportError, match="connection lost"):
        fetch(Transport(), server.url + "/a")
    assert len(server.requests) == 1


def test_a_body_not_read_to_its_end_closes_the_connection(servers):
    server = serve(servers, ok(b"x" * 1000))
    transport = Transport()
    exchange = transport.send("GET", server.url + "/big", body=None, headers={}, timeout=5)
    assert exchange.read(10) == b"x" * 10
    exchange.finish(complete=False)
    assert fetch(transport, server.url + "/next") == (200, b"x" * 1000)
    assert server.connections == 2  # the half-read connection was not given back


def test_chunked_answers_are_decoded_and_the_connection_kept(servers):
    def chunked(conn: socket.socket, number: int, body: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        return True

    server = serve(servers, chunked)
    transport = Transport()
    assert fetch(transport, server.url + "/a") == (200, b"abcde")
    assert fetch(transport, server.url + "/b") == (200, b"abcde")
    assert server.connections == 1


def test_on_connect_refusal_sends_no_byte(servers):
    server = serve(servers, ok())

    def refuse(sock: socket.socket, host: str) -> None:
        raise PermissionError(f"not {host} {sock.getpeername()[0]}")

    with pytest.raises(PermissionError, match=r"not 127\.0\.0\.1 127\.0\.0\.1"):
        fetch(Transport(on_connect=refuse), server.url + "/a")
    threading.Event().wait(0.1)
    assert server.requests == []


def test_timeouts_and_refused_connections_are_told_apart(servers):
    server = serve(servers, lambda conn, number, body: threading.Event().wait(2) and False)
    with pytest.raises(TransportTimeout):
        fetch(Transport(), server.url + "/slow", timeout=0.3)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(TransportError, match="cannot connect") as refused:
        fetch(Transport(), f"http://127.0.0.1:{port}/")
    assert not isinstance(refused.value, TransportTimeout)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "/relative", "http:///nohost", "http://h:99999/"])
def test_urls_it_cannot_send_to_are_errors(url):
    with pytest.raises(TransportError):
        Transport().send("GET", url, body=None, headers={}, timeout=1)


def test_the_timeout_bounds_the_whole_exchange_not_each_read(servers):
    """A peer that sends a byte every 0.1 s never lets one read wait 0.5 s, yet cannot hold the
    caller past the timeout: headers or body, chunked or not."""
    def trickle(payload: bytes) -> Handler:
        def handler(conn: socket.socket, number: int, body: bytes) -> bool:
            for byte in payload:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return False
                threading.Event().wait(0.1)
            return False
        return handler

    slow_headers = serve(servers, trickle(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: abcdefghij\r\n" * 20 + b"\r\n"))
    slow_body = serve(servers, trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100))
    slow_chunks = serve(servers, trickle(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                         + b"1\r\nx\r\n" * 50 + b"0\r\n\r\n"))
    for server in (slow_headers, slow_body, slow_chunks):
        started = time.monotonic()
        with pytest.raises(TransportTimeout):
            fetch(Transport(), server.url + "/", timeout=0.5)
        assert time.monotonic() - started < 2.0


def test_https_with_keep_alive_and_deadlines(servers):
    """TLS (the Bandwidth API is https): verified against a CA, kept-alive connections reused, the
    deadline applies to reads on the TLS socket too."""
    ca = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    class TlsServer(RawServer):
        def _serve(self, conn: socket.socket) -> None:
            try:
                tls_conn = server_context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                return
            super()._serve(tls_conn)

    def slow_second(conn: socket.socket, number: int, body: bytes) -> bool:
        if number == 3:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            threading.Event().wait(2)
            return False
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        return True

    server = TlsServer(slow_second)
    servers.append(server)
    url = f"https://127.0.0.1:{server.port}"
    transport = Transport(ssl_context=client_context)
    assert fetch(transport, url + "/a") == (200, b"hello")
    assert fetch(transport, url + "/b", b"body") == (200, b"hello")
    assert server.connections == 1
    started = time.monotonic()
    with pytest.raises(TransportTimeout):
        fetch(transport, url + "/c", timeout=0.5)
    assert time.monotonic() - started < 1.5
    with pytest.raises(TransportError):  # an untrusted certificate is refused
        fetch(Transport(), url + "/d")


def test_non_ascii_paths_are_percent_encoded_and_names_idna_encoded():
    origin, target = origin_of("http://bücher.example/caf\u00e9 menu?q=\u00e9t\u00e9&x=%41")
    assert origin == ("http", "xn--bcher-kva.example", 80)
    assert target == "/caf%C3%A9%20menu?q=%C3%A9t%C3%A9&x=%41"
    assert origin_of("https://h.example:8443/a/b?c=d")[1] == "/a/b?c=d"
