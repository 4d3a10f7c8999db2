"""Optional: with MARKETPLACE_REDIS_URL set, a commit that emitted webhook events also queues an RQ job that sends
them at once (`rq worker pasarkube-webhooks`), instead of waiting for the next poll of `flask webhooks deliver`.

The polling worker stays the one that is required: it sends the retries and everything queued while Redis was
down. The job only claims due deliveries like any worker does, so a job and a poller never send one delivery
at the same time. A Redis outage never fails the request that emitted the events.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from marketplace.extensions import db
from marketplace.webhooks.services import EMITTED_KEY, Settings
from marketplace.webhooks.worker import deliver_due

log = logging.getLogger(__name__)
_app: Flask | None = None
_listening = False


def deliver_job() -> int:
    """The RQ job: send what is due now (in the app of the worker's process). Returns how many were claimed."""
    global _app
    if has_app_context():
        return _deliver(current_app)
    if _app is None:
        from marketplace import create_app

        _app = create_app()
    with _app.app_context():
        return _deliver(_app)


def _deliver(app: Flask) -> int:
    config = app.config["WEBHOOKS"]
    sessions = sessionmaker(bind=db.engine, expire_on_commit=False)
    return deliver_due(sessions, limit=config["BATCH"], settings=Settings.from_config(config)).claimed


def queue(app: Flask) -> Any:
    from redis import Redis
    from rq import Queue

    config = app.config["WEBHOOKS"]
    connection = Redis.from_url(config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
    return Queue(config["QUEUE"], connection=connection)


def _after_commit(session: Session) -> None:
    if not session.info.pop(EMITTED_KEY, False) or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["WEBHOOKS"].get("REDIS_URL"):
        return
    try:
        queue(app).enqueue("marketplace.webhooks.jobs.deliver_job", job_timeout=app.config["WEBHOOKS"]["LEASE_SECONDS"],
                           result_ttl=0, failure_ttl=3600)
    except Exception:  # the poller sends them anyway; the request has committed
        log.warning("webhooks: could not queue the delivery job; the polling worker will send the events",
                    exc_info=True)


def _after_rollback(session: Session, previous_transaction: object) -> None:
    session.info.pop(EMITTED_KEY, None)


def init_app(app: Flask) -> None:
    """Listen for commits once per process (the listener reads the app that is current when it runs)."""
    global _listening
    if not app.config["WEBHOOKS"].get("REDIS_URL") or _listening:
        return
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
    _listening = True
