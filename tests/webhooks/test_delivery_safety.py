"""What keeps a delivery from going twice or to the wrong place: leases renewed before each request of a batch
(time is passed in as a clock, nothing sleeps), signatures made at the moment of sending, connections to the
address that was checked (over TLS the name is still what the certificate is checked against), IPv6 forms that
hide a private IPv4 address, and no test event for an inactive endpoint."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from marketplace.common import ConflictError, ValidationError, utcnow
from marketplace.extensions import db
from marketplace.webhooks import services, worker
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery
from marketplace.webhooks.services import Settings
from tests.factories import World
from tests.webhooks.support import SETTINGS, Receiver, _handler, documented_verifier, make_endpoint, serve

STRICT = Settings(**{**SETTINGS.__dict__, "allow_private": False})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve(Receiver())


@pytest.fixture
def sessions(app: Flask) -> Callable[[], Session]:
    return sessionmaker(bind=db.engine, expire_on_commit=False)


class Clock:
    """Moves `step` on at every reading; `hooks[n]` runs just before the n-th reading (1, 2, ...) is given."""

    def __init__(self, start: datetime, step: timedelta, hooks: dict[int, Callable[[datetime], None]] | None = None
                 ) -> None:
        self.now, self.step, self.hooks, self.readings = start, step, hooks or {}, 0

    def __call__(self) -> datetime:
        self.readings += 1
        self.now += self.step
        if self.readings in self.hooks:
            self.hooks[self.readings](self.now)
        return self.now


def _queued(session: Session, url: str, receiver: Receiver, count: int) -> list[int]:
    receiver.secret = make_endpoint(session, url).secret
    made = [d for n in range(count) for d in services.emit(session, "order.paid", {"order_id": n, "total": 1})]
    session.commit()
    return [d.id for d in made]


def _later() -> datetime:
    """A whole second after every delivery queued so far (signature timestamps are whole seconds)."""
    return (utcnow() + timedelta(seconds=1)).replace(microsecond=0)


def _rows(session: Session, ids: list[int]) -> list[WebhookDelivery]:
    session.expire_all()
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                                .order_by(WebhookDelivery.id)))


def _sent(receiver: Receiver) -> list[tuple[int, int]]:
    """(delivery id, X-PasarKube-Timestamp) of every request, in arrival order; every signature checked."""
    assert all(r.signature_ok for r in receiver.received)
    for r in receiver.received:
        assert r.headers["x-pasarkube-signature"].startswith(f"t={r.headers['x-pasarkube-timestamp']},")
    return [(int(r.headers["x-pasarkube-delivery"]), int(r.headers["x-pasarkube-timestamp"]))
            for r in receiver.received]


def test_a_delivery_whose_lease_ran_out_midway_in_a_batch_is_not_sent(session: Session, receiver: Receiver,
                                                                     sessions: Callable[[], Session]) -> None:
    first, second, third = _queued(session, receiver.url, receiver, 3)
    t0 = _later()
    # Each reading of the clock is 20 s later; the batch's lease (claimed at t0) is 30 s.
    clock = Clock(t0, timedelta(seconds=20))
    run = worker.deliver_due(sessions, t0, settings=SETTINGS, clock=clock)
    # The first is sent at t0+20 s (its lease renewed then); by t0+60 s the others' leases had run out.
    assert (run.claimed, run.succeeded, run.skipped, run.lost) == (3, 1, 2, 0)
    assert _sent(receiver) == [(first, int((t0 + timedelta(seconds=20)).timestamp()))]
    done, *left = _rows(session, [first, second, third])
    assert done.status == DeliveryStatus.SUCCEEDED and done.attempts == 1
    assert done.delivered_at == t0 + timedelta(seconds=40)  # recorded when the answer came
    # Handed back unsent: due again at once, and the attempt that did not happen is not counted.
    assert [(d.status, d.attempts, d.lock_token, d.locked_until) for d in left] == [
        (DeliveryStatus.PENDING, 0, None, None)] * 2

    # The next run sends them; each request is signed with the time it is sent, not the batch's start.
    t1 = t0 + timedelta(minutes=2)  # within the replay window the receiver checks against its own clock
    run = worker.deliver_due(sessions, t1, settings=SETTINGS, clock=Clock(t1, timedelta(seconds=7)))
    assert (run.claimed, run.succeeded, run.skipped) == (2, 2, 0)
    assert _sent(receiver)[1:] == [(second, int((t1 + timedelta(seconds=7)).timestamp())),
                                   (third, int((t1 + timedelta(seconds=21)).timestamp()))]
    assert all(d.status == DeliveryStatus.SUCCEEDED and d.attempts == 1 for d in _rows(session, [second, third]))


def test_a_delivery_another_worker_claimed_meanwhile_is_left_to_it(session: Session, receiver: Receiver,
                                                                  sessions: Callable[[], Session]) -> None:
    first, second, third = _queued(session, receiver.url, receiver, 3)
    t0 = _later()
    taken: list[worker.Claim] = []
    # While worker A sends the first one, its batch's lease runs out and worker B claims what is due.
    clock = Clock(t0, timedelta(seconds=20), hooks={
        3: lambda at: taken.extend(worker.claim(sessions, at, 10, SETTINGS))})
    run = worker.deliver_due(sessions, t0, settings=SETTINGS, clock=clock)
    assert (run.claimed, run.succeeded, run.skipped) == (3, 1, 2)
    assert [item.id for item in taken] == [second, third]
    assert [d for d, _ in _sent(receiver)] == [first]  # A sent neither of B's
    rows = _rows(session, [second, third])
    assert all(d.lock_token == taken[0].token for d in rows)  # and left B's lease alone

    for item in taken:  # B sends them: each arrives once in all
        code, error = worker.send(item, clock(), SETTINGS)
        assert worker.record(sessions, item, code, error, clock(), SETTINGS) == DeliveryStatus.SUCCEEDED
    assert sorted(d for d, _ in _sent(receiver)) == [first, second, third]


def test_the_connection_goes_to_the_address_that_was_checked(session: Session, receiver: Receiver,
                                                            sessions: Callable[[], Session]) -> None:
    """A name that answers with a vetted address, then (DNS rebinding) with another one: the request goes to
    the address that was checked, with the name in the Host header; the name is looked up once per attempt."""
    answers = [["127.0.0.1"], ["10.255.255.1"], ["10.255.255.1"]]
    asked: list[tuple[str, int]] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return answers.pop(0)

    name = "hooks.partner.test"
    _queued(session, f"http://{name}:{receiver.port}/hooks/pasarkube?k=1", receiver, 1)
    run = worker.deliver_due(sessions, utcnow(), settings=SETTINGS, resolve=rebinding)
    assert run.succeeded == 1
    (got,) = receiver.received
    assert got.headers["host"] == f"{name}:{receiver.port}" and got.path == "/hooks/pasarkube?k=1"
    assert asked == [(name, receiver.port)]


@pytest.mark.parametrize("address", [
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:8.8.8.8",  # IPv4-mapped: never (it is IPv4 in disguise)
    "::127.0.0.1", "::10.0.0.1", "::8.8.8.8",  # IPv4-compatible (deprecated)
    "64:ff9b::10.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::169.254.169.254",  # NAT64 of a private address
    "64:ff9b:1::8.8.8.8",  # NAT64 for local use
    "2002:a00:1::1", "2002:7f00:1::1", "2002:c0a8:101::1",  # 6to4 of 10.0.0.1, 127.0.0.1, 192.168.1.1
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo
    "fec0::1", "fec0:1::2",  # site-local
    "fc00::1", "fe80::1", "fe80::1%eth0", "::1", "::", "ff02::1", "2001:db8::1",
    "10.1.2.3", "100.64.0.1", "169.254.169.254", "127.0.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1",  # noqa: S104
    "not an address",
])
def test_addresses_that_lead_inside_are_refused(address: str) -> None:
    assert not services._is_public(address)
    with pytest.raises(ValidationError, match=r"private network|cannot be found"):
        services.check_url("https://partner.example/hook", STRICT, lambda host, port: [address])
    # A public address next to it does not help.
    with pytest.raises(ValidationError):
        services.check_host("partner.example", 443, STRICT, lambda host, port: ["93.184.216.34", address])


@pytest.mark.parametrize("address", [
    "93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
    "64:ff9b::8.8.8.8",  # NAT64 of a public address
])  # (6to4 of a public address is left out: newer Pythons count all of 2002::/16 as not global)
def test_public_addresses_pass(address: str) -> None:
    assert services._is_public(address)
    assert services.check_url("https://partner.example/hook", STRICT, lambda host, port: [address]) == (
        "https://partner.example/hook")


def test_the_worker_refuses_a_hidden_private_address_at_each_attempt(session: Session, receiver: Receiver,
                                                                    sessions: Callable[[], Session]) -> None:
    (delivery,) = _queued(session, receiver.url, receiver, 1)
    run = worker.deliver_due(sessions, utcnow(), settings=STRICT, resolve=lambda host, port: ["::127.0.0.1"])
    assert run.failed == 1 and receiver.received == []
    (row,) = _rows(session, [delivery])
    assert row.last_error == "refused: the host is not a public address"


# --- TLS: the connection goes to the checked address, the certificate is checked against the name ----------


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, Path]]:
    cert, key = _certificate(tmp_path, "hooks.partner.test")
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver, documented_verifier()))
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver, cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_https_goes_to_the_checked_address_and_checks_the_certificate_for_the_name(
        session: Session, world: World, tls_receiver: tuple[Receiver, Path],
        sessions: Callable[[], Session]) -> None:
    receiver, cert = tls_receiver
    trusted = ssl.create_default_context(cafile=str(cert))
    to_loopback: Callable[[str, int], list[str]] = lambda host, port: ["127.0.0.1"]  # noqa: E731
    _queued(session, f"https://hooks.partner.test:{receiver.port}/in", receiver, 1)
    run = worker.deliver_due(sessions, utcnow(), settings=SETTINGS, resolve=to_loopback, tls=trusted)
    assert run.succeeded == 1
    (got,) = receiver.received
    assert got.signature_ok and got.headers["host"] == f"hooks.partner.test:{receiver.port}"

    # The same address under another name: the certificate does not match, nothing is posted.
    endpoint = make_endpoint(session, f"https://other.partner.test:{receiver.port}/in")
    wrong = services.send_test(session, world.operator, endpoint.id).id
    session.commit()
    run = worker.deliver_due(sessions, utcnow(), settings=SETTINGS, resolve=to_loopback, tls=trusted)
    assert run.failed == 1 and len(receiver.received) == 1
    (row,) = _rows(session, [wrong])
    assert row.last_error and "certificate" in row.last_error.lower()


# --- "Send test event" -----------------------------------------------------------------------------------


def test_no_test_event_for_an_inactive_endpoint(session: Session, world: World, login_as: Callable[[str], FlaskClient],
                                                english: None) -> None:
    endpoint = make_endpoint(session, active=False)
    session.commit()
    with pytest.raises(ConflictError):
        services.send_test(session, world.operator, endpoint.id)
    response = login_as("operator").post(f"/admin/webhooks/{endpoint.id}/test", follow_redirects=True)
    assert response.status_code == 200
    assert "activate it before sending a test event" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(WebhookDelivery.id))) == 0
