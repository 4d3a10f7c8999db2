"""The audit log's writer: one row in the caller's transaction, masked account numbers, no secrets, and a
guard that refuses every change or deletion of a row through the ORM."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy import event as sqla_event
from sqlalchemy.orm import Session

from marketplace.audit import models
from marketplace.audit import services as audit
from marketplace.audit.models import AuditEvent, AuditLogReadOnly
from marketplace.auth.models import User
from tests import factories
from tests.factories import World


def _count(session: Session) -> int:
    return session.scalar(select(func.count(AuditEvent.id))) or 0


def test_record_writes_one_row_with_the_actor_role_and_no_email(session: Session, world: World) -> None:
    event = audit.record(session, world.ketua_a, "product.price_changed", world.product_a,
                         price={"from": 15000, "to": 17000})
    session.commit()
    session.expire_all()
    row = session.get(AuditEvent, event.id)
    assert row is not None
    assert (row.actor_id, row.actor_role, row.actor_label) == (world.ketua_a.id, "ketua", f"ketua #{world.ketua_a.id}")
    assert (row.action, row.target_type, row.target_id, row.kube_id) == (
        "product.price_changed", "product", world.product_a.id, world.kube_a.id)
    assert json.loads(row.details) == {"price": {"from": 15000, "to": 17000}}
    assert row.occurred_at.utcoffset() is not None and row.occurred_at.utcoffset().total_seconds() == 0
    assert "@" not in row.actor_label + row.details
    assert row.ip_address is None  # no request, no address


@pytest.mark.parametrize("who, kube, role", [
    (None, None, "system"), ("operator", "kube_a", "operator"), ("anggota_a", "kube_a", "anggota"),
    ("facilitator_a", "kube_a", "facilitator"), ("ketua_a", "kube_b", "buyer"), ("buyer", None, "buyer"),
])
def test_the_actor_role_is_the_one_they_acted_in(session: Session, world: World, who: str | None,
                                                 kube: str | None, role: str) -> None:
    actor = getattr(world, who) if who else None
    kube_id = getattr(world, kube).id if kube else None
    event = audit.record(session, actor, "order.status_changed", ("order", 1), kube_id=kube_id)
    assert event.actor_role == role
    assert event.actor_label == (f"{role} #{actor.id}" if actor else "system")


def test_the_label_survives_the_deletion_of_the_actor(session: Session, world: World) -> None:
    helper = factories.make_user(session, "helper", is_operator=True)
    audit.record(session, helper, "user.roles_changed", world.buyer, is_facilitator={"from": False, "to": True})
    session.commit()
    helper_id = helper.id
    session.execute(delete(User).where(User.id == helper_id))  # what anonymising an account does at worst
    session.commit()
    session.expire_all()
    row = session.scalars(select(AuditEvent)).one()
    if session.get_bind().dialect.name == "postgresql":  # SQLite here runs without foreign keys enforced
        assert row.actor_id is None
    assert row.actor_label == f"operator #{helper_id}" and row.actor_role == "operator"


def test_account_numbers_are_masked_at_any_depth(session: Session, world: World) -> None:
    event = audit.record(session, world.ketua_a, "bank_account.changed", world.kube_a,
                         account_number={"from": "0123456789012", "to": "5555-6666-77"},
                         bank_account_number="987654321")
    details = json.loads(event.details)
    assert details == {"account_number": {"from": "****9012", "to": "****6677"},
                       "bank_account_number": "****4321"}
    assert "0123456789012" not in event.details and "5555666677" not in event.details


@pytest.mark.parametrize("number, masked", [("0123456789012", "****9012"), ("1234", "****"), ("", ""),
                                            (None, ""), ("12 34 56 78", "****5678")])
def test_mask_account(number: str | None, masked: str) -> None:
    assert audit.mask_account(number) == masked


@pytest.mark.parametrize("key", ["password", "new_password", "password_hash", "token", "api_token", "nik",
                                 "webhook_secret"])
def test_secrets_are_refused(session: Session, world: World, key: str) -> None:
    with pytest.raises(ValueError):
        audit.record(session, world.operator, "user.roles_changed", world.buyer, **{key: "x"})


def test_unknown_actions_and_targets_are_refused(session: Session, world: World) -> None:
    with pytest.raises(ValueError):
        audit.record(session, world.operator, "product.deleted", world.product_a)
    with pytest.raises(ValueError):
        audit.record(session, world.operator, "user.roles_changed", world.category)


def test_a_rolled_back_change_leaves_no_row(session: Session, world: World) -> None:
    world.product_a.price = 99_000
    audit.record(session, world.operator, "product.price_changed", world.product_a,
                 price={"from": 15000, "to": 99000})
    session.flush()
    session.rollback()
    assert _count(session) == 0
    session.expire_all()
    assert world.product_a.price == 15000


def test_a_new_target_gets_its_id_before_the_row(session: Session, world: World) -> None:
    user = User(email="new@test.pasarkube", name="New", password_hash="x")
    session.add(user)
    event = audit.record(session, world.operator, "user.roles_changed", user)
    assert event.target_id == user.id and user.id is not None


def test_the_client_address_comes_from_the_session(session: Session, world: World) -> None:
    session.info[audit.CLIENT_IP] = "203.0.113.7"
    try:
        event = audit.record(session, world.operator, "user.roles_changed", world.buyer)
    finally:
        session.info.pop(audit.CLIENT_IP)
    assert event.ip_address == "203.0.113.7"


# --- Never editable ------------------------------------------------------------------------------------


def _one_event(session: Session, world: World) -> AuditEvent:
    event = audit.record(session, world.operator, "user.roles_changed", world.buyer,
                         is_operator={"from": False, "to": True})
    session.commit()
    return event


def test_an_event_cannot_be_changed(session: Session, world: World) -> None:
    event = _one_event(session, world)
    event.action = "kube.verified"
    with pytest.raises(AuditLogReadOnly):
        session.flush()
    session.rollback()
    session.expire_all()
    assert session.scalars(select(AuditEvent.action)).one() == "user.roles_changed"


def test_an_event_cannot_be_deleted(session: Session, world: World) -> None:
    event = _one_event(session, world)
    session.delete(event)
    with pytest.raises(AuditLogReadOnly):
        session.commit()
    session.rollback()
    assert _count(session) == 1


def test_bulk_orm_updates_and_deletes_are_refused(session: Session, world: World) -> None:
    _one_event(session, world)
    with pytest.raises(AuditLogReadOnly):
        session.execute(update(AuditEvent).values(details="{}"))
    session.rollback()
    with pytest.raises(AuditLogReadOnly):
        session.execute(delete(AuditEvent))
    session.rollback()
    session.expire_all()
    row = session.scalars(select(AuditEvent)).one()
    assert json.loads(row.details) == {"is_operator": {"from": False, "to": True}}


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_mapper_guard_holds_without_the_flush_check(session: Session, world: World, change: str) -> None:
    """The second door: with the session-level check switched off, the mapper's own guard still refuses."""
    event = _one_event(session, world)
    sqla_event.remove(Session, "before_flush", models._refuse_edits)
    try:
        if change == "update":
            event.action = "kube.verified"
        else:
            session.delete(event)
        with pytest.raises(AuditLogReadOnly):
            session.flush()
    finally:
        sqla_event.listen(Session, "before_flush", models._refuse_edits)
        session.rollback()
    session.expire_all()
    assert session.scalars(select(AuditEvent.action)).one() == "user.roles_changed"


def test_loading_and_adding_events_still_works(session: Session, world: World) -> None:
    _one_event(session, world)
    loaded = session.scalars(select(AuditEvent)).one()
    assert loaded.actor is not None and loaded.actor.id == world.operator.id
    audit.record(session, None, "order.status_changed", ("order", 5))
    session.commit()
    assert _count(session) == 2
