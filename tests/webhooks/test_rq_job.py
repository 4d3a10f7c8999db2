"""With MARKETPLACE_REDIS_URL, a commit that emitted events queues an RQ job that sends them (real Redis)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery
from tests import factories
from tests.conftest import make_app
from tests.webhooks.support import Receiver, make_endpoint, serve

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_or_skip() -> None:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except RedisDown:
        pytest.skip("no Redis on 127.0.0.1:6379")
    finally:
        connection.close()


@pytest.fixture
def rq_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    _redis_or_skip()
    app = make_app(database_url, tmp_path)
    queue_name = f"test-webhooks-{secrets.token_hex(4)}"
    app.config["WEBHOOKS"] = {**app.config["WEBHOOKS"], "REDIS_URL": REDIS_URL, "QUEUE": queue_name}
    from marketplace.webhooks import jobs

    jobs.init_app(app)
    with app.app_context():
        yield app
        jobs.queue(app).delete(delete_jobs=True)
        jobs.queue(app).connection.close()
        db.session.rollback()
        from tests.conftest import _empty_all_tables

        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve(Receiver())


def test_a_commit_with_events_queues_a_job_that_sends_them(rq_app: Flask, receiver: Receiver) -> None:
    from rq import SimpleWorker

    from marketplace.webhooks import jobs

    session = db.session
    world = factories.build_world(session)  # type: ignore[arg-type]
    receiver.secret = make_endpoint(session, receiver.url, events=("order.placed",)).secret  # type: ignore[arg-type]
    session.commit()
    queue = jobs.queue(rq_app)
    assert queue.count == 0  # making the world emitted nothing

    orders.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual")  # type: ignore[arg-type]
    session.rollback()
    assert queue.count == 0  # rolled back: no events, no job

    orders.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual")  # type: ignore[arg-type]
    session.commit()
    assert queue.count == 1

    worker = SimpleWorker([queue], connection=queue.connection)
    worker.work(burst=True)
    session.expire_all()
    assert list(session.scalars(select(WebhookDelivery.status))) == [DeliveryStatus.SUCCEEDED]
    assert len(receiver.received) == 1 and receiver.received[0].signature_ok
    worker.connection.close()
