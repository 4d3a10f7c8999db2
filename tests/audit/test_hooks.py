"""Each sensitive action, done through its real service, leaves exactly one audit row with the right fields;
a refused one leaves none."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditEvent
from marketplace.auth import services as accounts
from marketplace.catalog import services as catalog
from marketplace.catalog.models import KubeMember, KubeStatus, MemberRole, ProductStatus
from marketplace.common import ConflictError, DomainError, PermissionDenied, ValidationError
from marketplace.ledger import services as ledger
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.services import Delivery
from marketplace.payments import services as payments
from marketplace.payments.models import Refund
from tests import factories
from tests.factories import World


def _events(session: Session, action: str | None = None) -> list[AuditEvent]:
    session.expire_all()
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(session.scalars(stmt))


def _only(session: Session, action: str) -> tuple[AuditEvent, dict[str, Any]]:
    """The one and only audit row of the log (checks that nothing else was recorded)."""
    rows = _events(session)
    assert [r.action for r in rows] == [action]
    return rows[0], json.loads(rows[0].details)


def _refused(session: Session, error: type[DomainError], call: Any) -> None:
    """The service refuses; the view's rollback then leaves no audit row."""
    with pytest.raises(error):
        call()
    session.rollback()
    assert _events(session) == []


# --- KUBEs -----------------------------------------------------------------------------------------------


def test_verifying_a_kube(session: Session, world: World) -> None:
    world.kube_a.status = KubeStatus.DRAFT
    factories.add_households(session, world.kube_a, 3)
    session.commit()
    catalog.verify_kube(session, world.facilitator_a, world.kube_a.id)
    session.commit()
    row, details = _only(session, "kube.verified")
    assert (row.actor_id, row.actor_role, row.target_type, row.target_id, row.kube_id) == (
        world.facilitator_a.id, "facilitator", "kube", world.kube_a.id, world.kube_a.id)
    assert details == {"status": {"from": "draft", "to": "verified"}}


def test_a_refused_verification_leaves_no_row(session: Session, world: World) -> None:
    world.kube_a.status = KubeStatus.DRAFT
    session.commit()
    _refused(session, ValidationError, lambda: catalog.verify_kube(session, world.facilitator_a, world.kube_a.id))
    _refused(session, DomainError, lambda: catalog.verify_kube(session, world.facilitator_b, world.kube_a.id))


def test_suspending_and_reactivating(session: Session, world: World) -> None:
    catalog.suspend_kube(session, world.operator, world.kube_a.id)
    session.commit()
    row, details = _only(session, "kube.suspended")
    assert row.actor_role == "operator" and details == {"status": {"from": "active", "to": "suspended"}}
    catalog.activate_kube(session, world.facilitator_a, world.kube_a.id)
    session.commit()
    rows = _events(session)
    assert [r.action for r in rows] == ["kube.suspended", "kube.reactivated"]
    assert json.loads(rows[1].details) == {"status": {"from": "suspended", "to": "active"}}


def test_opening_a_verified_shop(session: Session, world: World) -> None:
    world.kube_a.status = KubeStatus.VERIFIED
    session.commit()
    catalog.activate_kube(session, world.ketua_a, world.kube_a.id)
    session.commit()
    row, _ = _only(session, "kube.activated")
    assert row.actor_role == "ketua"


def test_changing_the_bank_account_masks_the_numbers(session: Session, world: World) -> None:
    catalog.update_bank_account(session, world.ketua_a, world.kube_a.id, bank_name="BNI",
                                account_number="5555 6666 77", account_holder="KUBE Kelapa A group")
    session.commit()
    row, details = _only(session, "bank_account.changed")
    assert row.actor_role == "ketua" and row.kube_id == world.kube_a.id
    assert details == {"bank_name": {"from": "BRI", "to": "BNI"},
                       "account_number": {"from": "****9012", "to": "****6677"}}
    assert "0123456789012" not in row.details and "5555666677" not in row.details


def test_saving_the_same_bank_account_records_nothing(session: Session, world: World) -> None:
    catalog.update_bank_account(session, world.ketua_a, world.kube_a.id, bank_name="BRI",
                                account_number="0123456789012", account_holder="KUBE Kelapa A group")
    session.commit()
    assert _events(session) == []
    _refused(session, ValidationError, lambda: catalog.update_bank_account(
        session, world.ketua_a, world.kube_a.id, bank_name="BNI", account_number="12", account_holder="X"))
    _refused(session, PermissionDenied, lambda: catalog.update_bank_account(
        session, world.anggota_a, world.kube_a.id, bank_name="BNI", account_number="5555666677", account_holder="X"))


# --- Members and facilitators --------------------------------------------------------------------------


def test_member_added_role_changed_and_removed(session: Session, world: World) -> None:
    newcomer = factories.make_user(session, "newcomer")
    session.commit()
    member = catalog.add_member(session, world.ketua_a, world.kube_a.id, email=newcomer.email, role="anggota")
    session.commit()
    row, details = _only(session, "kube_member.added")
    assert (row.target_type, row.target_id, row.kube_id, row.actor_role) == (
        "user", newcomer.id, world.kube_a.id, "ketua")
    assert details == {"role": "anggota"}
    catalog.change_member_role(session, world.ketua_a, member.id, "bendahara")
    session.commit()
    changed = _events(session, "kube_member.role_changed")
    assert len(changed) == 1 and json.loads(changed[0].details) == {"role": {"from": "anggota", "to": "bendahara"}}
    catalog.change_member_role(session, world.ketua_a, member.id, "bendahara")  # no change, no row
    session.commit()
    assert len(_events(session, "kube_member.role_changed")) == 1
    catalog.remove_member(session, world.ketua_a, member.id)
    session.commit()
    removed = _events(session, "kube_member.removed")
    assert len(removed) == 1 and json.loads(removed[0].details) == {"role": "bendahara"}
    assert len(_events(session)) == 3


def test_handing_over_the_chair_records_both_members(session: Session, world: World) -> None:
    member_id = session.scalars(select(KubeMember.id).where(KubeMember.user_id == world.anggota_a.id)).one()
    catalog.change_member_role(session, world.ketua_a, member_id, "ketua")
    session.commit()
    rows = _events(session)
    assert {(r.target_id, r.details) for r in rows} == {
        (world.ketua_a.id, json.dumps({"role": {"from": "ketua", "to": "anggota"}})),
        (world.anggota_a.id, json.dumps({"role": {"from": "anggota", "to": "ketua"}})),
    }
    assert {r.actor_role for r in rows} == {"ketua"}  # the role they acted in, not the one they end with


def test_a_refused_member_change_leaves_no_row(session: Session, world: World) -> None:
    member_id = session.scalars(select(KubeMember.id).where(KubeMember.user_id == world.anggota_a.id)).one()
    _refused(session, PermissionDenied, lambda: catalog.change_member_role(session, world.ketua_b, member_id,
                                                                           "sekretaris"))
    ketua_id = session.scalars(select(KubeMember.id).where(KubeMember.user_id == world.ketua_a.id)).one()
    _refused(session, ValidationError, lambda: catalog.change_member_role(session, world.ketua_a, ketua_id,
                                                                          "anggota"))


def test_assigning_and_unassigning_a_facilitator(session: Session, world: World) -> None:
    catalog.assign_facilitator(session, world.operator, world.kube_b.id, world.facilitator_a.id)
    catalog.assign_facilitator(session, world.operator, world.kube_b.id, world.facilitator_a.id)  # again: no row
    session.commit()
    row, _ = _only(session, "facilitator.assigned")
    assert (row.target_type, row.target_id, row.kube_id, row.actor_role) == (
        "user", world.facilitator_a.id, world.kube_b.id, "operator")
    catalog.unassign_facilitator(session, world.operator, world.kube_b.id, world.facilitator_a.id)
    catalog.unassign_facilitator(session, world.operator, world.kube_b.id, world.facilitator_a.id)
    session.commit()
    assert len(_events(session, "facilitator.unassigned")) == 1
    _refused_after = len(_events(session))
    with pytest.raises(PermissionDenied):
        catalog.assign_facilitator(session, world.facilitator_b, world.kube_a.id, world.facilitator_b.id)
    session.rollback()
    assert len(_events(session)) == _refused_after


# --- Products --------------------------------------------------------------------------------------------


def test_approving_and_sending_back(session: Session, world: World) -> None:
    pending = factories.make_product(session, world.kube_a, world.category, status=ProductStatus.PENDING_REVIEW)
    other = factories.make_product(session, world.kube_a, world.category, status=ProductStatus.PENDING_REVIEW)
    session.commit()
    catalog.approve_product(session, world.facilitator_a, pending.id)
    session.commit()
    row, details = _only(session, "product.approved")
    assert (row.target_type, row.target_id, row.kube_id, row.actor_role) == (
        "product", pending.id, world.kube_a.id, "facilitator")
    assert details == {"status": {"from": "pending_review", "to": "published"}}
    catalog.reject_product(session, world.operator, other.id, "Foto buram")
    session.commit()
    rejected = _events(session, "product.rejected")
    assert len(rejected) == 1 and json.loads(rejected[0].details)["note"] == "Foto buram"
    _refused_count = len(_events(session))
    with pytest.raises(ConflictError):  # approved already
        catalog.approve_product(session, world.facilitator_a, pending.id)
    session.rollback()
    assert len(_events(session)) == _refused_count


def test_a_price_change_is_recorded_only_when_the_price_changes(session: Session, world: World) -> None:
    catalog.update_product(session, world.anggota_a, world.product_a.id, {"price": "15000", "stock": "4"})
    session.commit()
    assert _events(session) == []
    catalog.update_product(session, world.anggota_a, world.product_a.id, {"price": "17.500"})
    session.commit()
    row, details = _only(session, "product.price_changed")
    assert (row.actor_id, row.actor_role, row.target_id, row.kube_id) == (
        world.anggota_a.id, "anggota", world.product_a.id, world.kube_a.id)
    assert details == {"price": {"from": 15000, "to": 17500}}
    with pytest.raises(DomainError):
        catalog.update_product(session, world.ketua_b, world.product_a.id, {"price": "1"})
    session.rollback()
    assert len(_events(session)) == 1


def test_a_refused_edit_that_changes_the_price_leaves_no_row(session: Session, world: World) -> None:
    """The price is set, then another field is refused: the view rolls back, the audit row goes with it."""
    with pytest.raises(ValidationError):
        catalog.update_product(session, world.anggota_a, world.product_a.id, {"price": "20000", "unit": "ton"})
    session.rollback()
    assert _events(session) == []


# --- Roles -----------------------------------------------------------------------------------------------


def test_role_changes(session: Session, world: World) -> None:
    accounts.set_user_roles(session, world.operator, world.buyer.id, is_operator=False, is_facilitator=True,
                            is_disabled=False, is_ministry=False)
    session.commit()
    row, details = _only(session, "user.roles_changed")
    assert (row.target_type, row.target_id, row.kube_id, row.actor_role) == ("user", world.buyer.id, None, "operator")
    assert details == {"is_facilitator": {"from": False, "to": True}}
    accounts.set_user_roles(session, world.operator, world.buyer.id, is_operator=False, is_facilitator=True,
                            is_disabled=False, is_ministry=False)  # unchanged
    session.commit()
    assert len(_events(session)) == 1
    with pytest.raises(ValidationError):
        accounts.set_user_roles(session, world.operator, world.operator.id, is_operator=False,
                                is_facilitator=False, is_disabled=False)
    session.rollback()
    with pytest.raises(PermissionDenied):
        accounts.set_user_roles(session, world.ketua_a, world.buyer.id, is_operator=True, is_facilitator=False,
                                is_disabled=False)
    session.rollback()
    assert len(_events(session)) == 1


# --- Orders, refunds and payouts ---------------------------------------------------------------------------


def _placed(session: Session, world: World) -> Order:
    checkout = orders.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual",
                                     delivery=Delivery(), fee_bps=200)
    session.commit()
    return checkout.orders[0]


def test_every_order_transition_is_recorded_once(session: Session, world: World) -> None:
    order = _placed(session, world)
    assert _events(session) == []  # placing an order is no status change
    orders.confirm_payment(session, world.operator, order.checkout_id)
    orders.accept_order(session, world.anggota_a, order.id)
    orders.ship_order(session, world.ketua_a, order.id)
    orders.confirm_received(session, world.buyer, order.id)
    session.commit()
    rows = _events(session)
    assert [r.action for r in rows] == ["order.status_changed"] * 4
    assert [json.loads(r.details)["status"] for r in rows] == [
        {"from": "pending_payment", "to": "paid"}, {"from": "paid", "to": "processing"},
        {"from": "processing", "to": "shipped"}, {"from": "shipped", "to": "delivered"}]
    assert [r.actor_role for r in rows] == ["operator", "anggota", "ketua", "buyer"]
    assert {(r.target_type, r.target_id, r.kube_id) for r in rows} == {("order", order.id, world.kube_a.id)}


def test_expiry_is_recorded_as_the_system(session: Session, world: World) -> None:
    from datetime import timedelta

    from marketplace.common import utcnow

    order = _placed(session, world)
    assert orders.expire_due(session, utcnow() + timedelta(days=30)) == 1
    session.commit()
    row, details = _only(session, "order.status_changed")
    assert (row.actor_id, row.actor_role, row.actor_label, row.target_id) == (None, "system", "system", order.id)
    assert details == {"status": {"from": "pending_payment", "to": "expired"}}


def test_a_refused_transition_leaves_no_row(session: Session, world: World) -> None:
    order = _placed(session, world)
    _refused(session, ConflictError, lambda: orders.accept_order(session, world.anggota_a, order.id))
    _refused(session, DomainError, lambda: orders.confirm_payment(session, world.ketua_a, order.checkout_id))


def test_a_refund_is_recorded_when_created_and_when_sent(session: Session, world: World) -> None:
    order = _placed(session, world)
    orders.confirm_payment(session, world.operator, order.checkout_id)
    session.commit()
    orders.cancel_order(session, world.ketua_a, order.id, "Stok habis")
    session.commit()
    refund = session.scalars(select(Refund)).one()
    created = _events(session, "refund.created")
    assert len(created) == 1
    assert (created[0].target_type, created[0].target_id, created[0].kube_id, created[0].actor_role) == (
        "refund", refund.id, world.kube_a.id, "ketua")
    assert json.loads(created[0].details) == {"amount": refund.amount, "order_id": order.id, "provider": "manual"}
    assert json.loads(_events(session, "order.status_changed")[-1].details)["status"] == {
        "from": "paid", "to": "refunded"}
    payments.mark_refund_sent(session, world.operator, refund.id, "BRI 778")
    session.commit()
    sent = _events(session, "refund.sent")
    assert len(sent) == 1 and sent[0].actor_role == "operator" and sent[0].target_id == refund.id
    assert json.loads(sent[0].details) == {"amount": refund.amount, "provider": "manual", "reference": "BRI 778"}
    with pytest.raises(ConflictError):  # twice is refused, and leaves no second row
        payments.mark_refund_sent(session, world.operator, refund.id, "BRI 779")
    session.rollback()
    assert len(_events(session, "refund.sent")) == 1


def _balance_of_a(session: Session, world: World) -> None:
    order = _placed(session, world)
    orders.confirm_payment(session, world.operator, order.checkout_id)
    session.commit()


def test_a_payout_is_recorded_with_the_account_masked(session: Session, world: World) -> None:
    _balance_of_a(session, world)
    before = len(_events(session))
    payout = ledger.record_payout(session, world.operator, world.kube_a.id, "20.000", "BRI 555")
    session.commit()
    rows = _events(session)[before:]
    assert [r.action for r in rows] == ["payout.recorded"]
    assert (rows[0].target_type, rows[0].target_id, rows[0].kube_id) == ("payout", payout.id, world.kube_a.id)
    assert json.loads(rows[0].details) == {"account_number": "****9012", "amount": 20000, "bank_name": "BRI",
                                           "reference": "BRI 555"}


def test_a_refused_payout_leaves_no_row(session: Session, world: World) -> None:
    _balance_of_a(session, world)
    before = len(_events(session))
    with pytest.raises(ValidationError):
        ledger.record_payout(session, world.operator, world.kube_a.id, "99.000.000", "BRI 555")
    session.rollback()
    with pytest.raises(PermissionDenied):
        ledger.record_payout(session, world.ketua_a, world.kube_a.id, "1000", "BRI 555")
    session.rollback()
    assert len(_events(session)) == before
    assert session.scalars(select(KubeMember.role).where(KubeMember.user_id == world.ketua_a.id)).one() == \
        MemberRole.KETUA
