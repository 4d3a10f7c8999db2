"""Erasure and refusals leave an audit row without personal data; refunds already with the card provider do not
hold an erasure up."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditEvent
from marketplace.common import ConflictError
from marketplace.payments.models import Refund
from marketplace.privacy import services
from marketplace.privacy.models import ErasureStatus
from tests import factories
from tests.factories import World
from tests.privacy.support import ADDRESS, PHONE, delivered_order


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_erasure_is_logged_with_the_request_number_only(session: Session, world: World) -> None:
    buyer = world.buyer
    uid, email, name = buyer.id, buyer.email, buyer.name
    delivered_order(session, world)
    request = services.request_erasure(session, buyer, factories.PASSWORD)
    session.commit()
    services.carry_out_request(session, world.operator, request.id)
    session.commit()
    [event] = _events(session, "user.erased")
    assert (event.actor_id, event.target_type, event.target_id) == (world.operator.id, "user", uid)
    assert json.loads(event.details) == {"request_id": request.id}
    for personal in (email, name, PHONE, ADDRESS):
        assert personal not in event.details and personal not in event.actor_label


def test_erasure_without_a_request_on_the_site_is_logged_too(session: Session, world: World) -> None:
    services.erase_user(session, world.operator, world.anggota_a.id)  # asked in writing
    session.commit()
    [event] = _events(session, "user.erased")
    [request_id] = json.loads(event.details).values()
    assert event.target_id == world.anggota_a.id and isinstance(request_id, int)


def test_a_refusal_is_logged_without_its_reason(session: Session, world: World) -> None:
    request = services.request_erasure(session, world.buyer, factories.PASSWORD)
    services.refuse_request(session, world.operator, request.id, "Pesanan Anda atas nama Budi masih diproses.")
    session.commit()
    [event] = _events(session, "erasure.refused")
    assert (event.actor_id, event.target_type, event.target_id) == (world.operator.id, "user", world.buyer.id)
    assert json.loads(event.details) == {"request_id": request.id}
    assert not _events(session, "user.erased")


def _card_refund(session: Session, world: World, status: str, external_id: str | None) -> None:
    order = delivered_order(session, world, review=False, message=False)
    session.add(Refund(checkout_id=order.checkout_id, order_id=None, provider="stripe", amount=5000,
                       status=status, external_id=external_id))
    session.commit()


@pytest.mark.parametrize("status", ["processing", "pending"])
def test_a_refund_the_card_provider_has_under_way_does_not_block(session: Session, world: World,
                                                                  status: str) -> None:
    """Stripe may keep a refund "pending" for days (or for ever, when the bank never settles): it is Stripe's to
    finish, nothing is left for the platform to send, so the user's right to erasure does not wait on it."""
    _card_refund(session, world, status, "re_3Pq8Z2LkdIwHu7ix0abc")
    assert services.erasure_blockers(session, [world.buyer.id])[world.buyer.id] == []
    services.erase_user(session, world.operator, world.buyer.id)
    session.commit()
    assert session.get(type(world.buyer), world.buyer.id).is_disabled  # type: ignore[union-attr]


@pytest.mark.parametrize("status, external_id", [("requested", None), ("processing", None)])
def test_a_card_refund_not_yet_with_the_provider_still_blocks(session: Session, world: World, status: str,
                                                              external_id: str | None) -> None:
    """Status "requested": the platform still has to send it to Stripe (`flask payments settle` retries it)."""
    _card_refund(session, world, status, external_id)
    with pytest.raises(ConflictError) as refused:
        services.erase_user(session, world.operator, world.buyer.id)
    assert "refund" in refused.value.message
    session.rollback()
    assert not _events(session, "user.erased")


def test_a_bank_transfer_refund_still_blocks(session: Session, world: World) -> None:
    """An operator's bank transfer: the platform still owes the money, whatever reference it carries."""
    order = delivered_order(session, world, review=False, message=False)
    session.add(Refund(checkout_id=order.checkout_id, order_id=None, provider="manual", amount=5000,
                       status="pending", external_id="TRF-0001"))
    request = services.request_erasure(session, world.buyer, factories.PASSWORD)
    session.commit()
    with pytest.raises(ConflictError):
        services.carry_out_request(session, world.operator, request.id)
    session.rollback()
    assert request.status == ErasureStatus.REQUESTED
