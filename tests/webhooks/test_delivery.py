"""The delivery worker against a real HTTP receiver on a loopback port: signatures, retries with the backoff
schedule (time is passed in, nothing sleeps for it), dead deliveries, redirects, timeouts, leases, and two
workers at once on the same deliveries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from marketplace.common import utcnow
from marketplace.extensions import db
from marketplace.webhooks import services, worker
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery
from marketplace.webhooks.services import Settings
from tests.webhooks.support import SETTINGS, Receiver, documented_verifier, make_endpoint, serve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve(Receiver())


@pytest.fixture
def sessions(app: Flask) -> Callable[[], Session]:
    return sessionmaker(bind=db.engine, expire_on_commit=False)


def _queued(session: Session, receiver: Receiver, count: int = 1, **endpoint: object) -> list[WebhookDelivery]:
    """`count` order.paid events for one endpoint at the receiver (emitted as the services do), committed."""
    found = make_endpoint(session, receiver.url, **endpoint)  # type: ignore[arg-type]
    receiver.secret = found.secret
    made = [d for n in range(count) for d in services.emit(session, "order.paid", {"order_id": n, "total": 15_000})]
    session.commit()
    return made


def _reload(session: Session, delivery: WebhookDelivery) -> WebhookDelivery:
    session.expire_all()
    found = session.get(WebhookDelivery, delivery.id)
    assert found is not None
    return found


def test_delivery_is_signed_and_the_documented_snippet_verifies_it(session: Session, receiver: Receiver,
                                                                   sessions: Callable[[], Session]) -> None:
    (delivery,) = _queued(session, receiver)
    now = utcnow()
    run = worker.deliver_due(sessions, now, settings=SETTINGS)
    assert (run.claimed, run.succeeded) == (1, 1)
    (got,) = receiver.received
    assert got.signature_ok
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-pasarkube-event"] == "order.paid"
    assert got.headers["x-pasarkube-delivery"] == str(delivery.id)
    assert got.headers["x-pasarkube-timestamp"] == str(int(now.timestamp()))
    body = json.loads(got.body)
    assert body["type"] == "order.paid" and body["id"] == delivery.event_id
    assert body["data"] == {"order_id": 0, "total": 15_000}
    done = _reload(session, delivery)
    assert done.status == DeliveryStatus.SUCCEEDED and done.attempts == 1 and done.last_status_code == 200
    assert done.delivered_at == now
    assert done.lock_token is None and done.locked_until is None
    # Nothing is due any more.
    assert worker.deliver_due(sessions, now + timedelta(days=1), settings=SETTINGS).claimed == 0

    # The snippet refuses a changed body, another secret, a bad header and a replayed (old) request.
    verify = documented_verifier()
    header, raw = got.headers["x-pasarkube-signature"], got.body
    stamp = int(got.headers["x-pasarkube-timestamp"])
    assert verify(receiver.secret, header, raw, now=stamp + 10)
    assert not verify(receiver.secret, header, raw.replace(b"15000", b"1"), now=stamp)
    assert not verify("whsec_other", header, raw, now=stamp)
    assert not verify(receiver.secret, "v1=abc", raw, now=stamp)
    assert not verify(receiver.secret, header, raw, now=stamp + 301)


def test_retries_follow_the_backoff_schedule_then_succeed(session: Session, receiver: Receiver,
                                                          sessions: Callable[[], Session]) -> None:
    receiver.script = [500, 503]
    (delivery,) = _queued(session, receiver)
    t0 = utcnow()
    run = worker.deliver_due(sessions, t0, settings=SETTINGS)
    assert (run.claimed, run.failed) == (1, 1)
    first = _reload(session, delivery)
    assert first.status == DeliveryStatus.FAILED and first.attempts == 1 and first.last_status_code == 500
    assert first.last_error and "500" in first.last_error
    # 30 s plus up to 10 % jitter.
    assert t0 + timedelta(seconds=30) <= first.next_attempt_at <= t0 + timedelta(seconds=33)
    assert worker.deliver_due(sessions, t0 + timedelta(seconds=29), settings=SETTINGS).claimed == 0

    t1 = first.next_attempt_at
    assert worker.deliver_due(sessions, t1, settings=SETTINGS).failed == 1
    second = _reload(session, delivery)
    assert second.attempts == 2 and second.last_status_code == 503
    assert t1 + timedelta(seconds=120) <= second.next_attempt_at <= t1 + timedelta(seconds=132)

    run = worker.deliver_due(sessions, second.next_attempt_at, settings=SETTINGS)
    assert run.succeeded == 1
    done = _reload(session, delivery)
    assert done.status == DeliveryStatus.SUCCEEDED and done.attempts == 3 and done.last_error is None
    assert len(receiver.received) == 3 and all(r.signature_ok for r in receiver.received)
    assert {r.headers["x-pasarkube-delivery"] for r in receiver.received} == {str(delivery.id)}


def test_dead_after_the_last_attempt_and_retry_now(session: Session, world: object, receiver: Receiver,
                                                   sessions: Callable[[], Session]) -> None:
    receiver.default = 500
    (delivery,) = _queued(session, receiver)
    now = utcnow()
    statuses = []
    for _ in range(SETTINGS.max_attempts):
        worker.deliver_due(sessions, now, settings=SETTINGS)
        current = _reload(session, delivery)
        statuses.append(current.status)
        now = current.next_attempt_at
    assert statuses == [DeliveryStatus.FAILED, DeliveryStatus.FAILED, DeliveryStatus.DEAD]
    assert worker.deliver_due(sessions, now + timedelta(days=30), settings=SETTINGS).claimed == 0
    assert len(receiver.received) == 3

    # An operator's "retry now": one more attempt (dead again if it fails, delivered when it works).
    operator = world.operator  # type: ignore[attr-defined]
    later = now + timedelta(days=30)
    services.retry_now(session, operator, delivery.id, now=later)
    session.commit()
    assert _reload(session, delivery).status == DeliveryStatus.PENDING
    assert worker.deliver_due(sessions, later, settings=SETTINGS).dead == 1
    receiver.default = 204
    services.retry_now(session, operator, delivery.id, now=later)
    session.commit()
    assert worker.deliver_due(sessions, later, settings=SETTINGS).succeeded == 1
    done = _reload(session, delivery)
    assert done.status == DeliveryStatus.SUCCEEDED and done.attempts == 5 and done.last_status_code == 204


def test_a_redirect_is_a_failure_and_is_not_followed(session: Session, receiver: Receiver,
                                                     sessions: Callable[[], Session]) -> None:
    receiver.script = [("redirect", "/elsewhere")]
    (delivery,) = _queued(session, receiver)
    run = worker.deliver_due(sessions, utcnow(), settings=SETTINGS)
    assert run.failed == 1
    failed = _reload(session, delivery)
    assert failed.status == DeliveryStatus.FAILED and failed.last_status_code == 302
    assert failed.last_error and "not followed" in failed.last_error
    assert [r.path for r in receiver.received] == ["/hooks/pasarkube"]  # /elsewhere was never asked


def test_a_slow_receiver_times_out(session: Session, receiver: Receiver, sessions: Callable[[], Session]) -> None:
    receiver.script = [("sleep", 1.5, 200)]
    (delivery,) = _queued(session, receiver)
    started = time.monotonic()
    run = worker.deliver_due(sessions, utcnow(), settings=Settings(**{**SETTINGS.__dict__, "timeout_seconds": 1}))
    assert time.monotonic() - started < 5
    assert run.failed == 1
    failed = _reload(session, delivery)
    assert failed.status == DeliveryStatus.FAILED and failed.last_status_code is None
    assert failed.last_error and "timed out" in failed.last_error.lower()


def test_refused_connection_and_private_address_fail(session: Session, receiver: Receiver,
                                                     sessions: Callable[[], Session]) -> None:
    (delivery,) = _queued(session, receiver)
    # Nothing listens on port 9 of this computer.
    endpoint = delivery.endpoint
    endpoint.url = "http://127.0.0.1:9/hook"
    session.commit()
    worker.deliver_due(sessions, utcnow(), settings=SETTINGS)
    failed = _reload(session, delivery)
    assert failed.status == DeliveryStatus.FAILED and failed.last_status_code is None and failed.last_error
    # The address is checked again at each attempt: loopback is refused when private addresses are not allowed.
    strict = Settings(**{**SETTINGS.__dict__, "allow_private": False})
    worker.deliver_due(sessions, failed.next_attempt_at, settings=strict)
    refused = _reload(session, delivery)
    assert refused.attempts == 2 and refused.last_error == "refused: the host is not a public address"
    assert receiver.received == []


def test_a_dead_workers_lease_runs_out_and_another_worker_delivers(session: Session, receiver: Receiver,
                                                                  sessions: Callable[[], Session]) -> None:
    (delivery,) = _queued(session, receiver)
    now = utcnow()
    # A worker claims the delivery and dies before it records anything.
    (lost,) = worker.claim(sessions, now, 10, SETTINGS)
    assert worker.deliver_due(sessions, now + timedelta(seconds=SETTINGS.lease_seconds - 1),
                              settings=SETTINGS).claimed == 0
    later = now + timedelta(seconds=SETTINGS.lease_seconds)
    run = worker.deliver_due(sessions, later, settings=SETTINGS)
    assert (run.claimed, run.succeeded) == (1, 1)
    # The first worker comes back to life: its result is not recorded (the delivery is no longer its own).
    assert worker.record(sessions, lost, 500, "HTTP 500", later, SETTINGS) is None
    done = _reload(session, delivery)
    assert done.status == DeliveryStatus.SUCCEEDED and done.attempts == 2 and done.last_status_code == 200


def test_deliveries_of_an_inactive_endpoint_wait(session: Session, receiver: Receiver,
                                                 sessions: Callable[[], Session]) -> None:
    (delivery,) = _queued(session, receiver)
    delivery.endpoint.is_active = False
    session.commit()
    assert worker.deliver_due(sessions, utcnow(), settings=SETTINGS).claimed == 0
    delivery.endpoint.is_active = True
    session.commit()
    assert worker.deliver_due(sessions, utcnow(), settings=SETTINGS).succeeded == 1


def _race(sessions: Callable[[], Session], now: datetime, workers: int) -> list[worker.Run]:
    start = threading.Barrier(workers)
    runs: list[worker.Run] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            runs.append(worker.deliver_due(sessions, now, limit=4, settings=SETTINGS))
        except BaseException as error:  # reported by the test
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return runs


def test_two_workers_never_send_the_same_delivery_twice_at_once(session: Session, receiver: Receiver,
                                                                sessions: Callable[[], Session]) -> None:
    receiver.delay = 0.05
    made = [str(d.id) for d in _queued(session, receiver, count=12)]
    session.close()  # the test's own connection holds nothing while the workers run
    now = utcnow()
    total = 0
    for _ in range(4):  # each worker claims 4 at a time: a few rounds send all 12
        runs = _race(sessions, now, workers=2)
        claimed = [i for run in runs for i in run.ids]
        assert len(claimed) == len(set(claimed))  # never the same delivery to both workers
        total += len(claimed)
    assert total == 12
    sent = [r.headers["x-pasarkube-delivery"] for r in receiver.received]
    assert sorted(sent) == sorted(made)  # each exactly once
    assert receiver.overlaps == []
    assert all(r.signature_ok for r in receiver.received)
    statuses = set(session.scalars(select(WebhookDelivery.status)))
    assert statuses == {DeliveryStatus.SUCCEEDED}


def test_backoff_steps_and_jitter() -> None:
    import random

    settings = Settings(backoff=(30, 120, 600, 3600, 21600))
    rng = random.Random(7)
    for attempts, step in [(1, 30), (2, 120), (3, 600), (4, 3600), (5, 21600), (9, 21600)]:
        wait = worker.backoff(attempts, settings, rng).total_seconds()
        assert step <= wait <= step * 1.1
    waits = {worker.backoff(1, settings, rng).total_seconds() for _ in range(20)}
    assert len(waits) > 1  # jitter spreads retries


def test_an_unsubscribed_endpoint_gets_nothing(session: Session, receiver: Receiver) -> None:
    make_endpoint(session, receiver.url, events=("contract.created",))
    assert services.emit(session, "order.paid", {"order_id": 1}) == []
    with pytest.raises(ValueError):
        services.emit(session, "order.unknown", {})
