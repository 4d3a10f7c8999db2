"""The forbidden-case matrix: every HTML request that changes data, tried as every role.

For each mutating route there is one valid request. Each role that must not make it gets 403/404
(a signed-out visitor is sent to sign in) and not one row in the database changes. Then an allowed role
makes the same request and the database does change, which proves the request itself was valid.
A last test checks that every mutating route of the app is in the matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.books.models import CashEntry, Category, Direction
from marketplace.catalog.models import KubeMember, KubeStatus, ProductPhoto, ProductStatus
from marketplace.chains.models import ProcessKube
from marketplace.extensions import db
from marketplace.facilitator import services as visits
from marketplace.facilitator.models import VisitReport
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order, OrderStatus
from marketplace.orders.services import Delivery
from marketplace.payments.models import Refund
from marketplace.privacy import services as privacy
from marketplace.privacy.models import ErasureRequest
from marketplace.sourcing import services as sourcing
from marketplace.sourcing.models import ContractDelivery, Lot, Quote, SourcingRequest, SupplyContract
from marketplace.stories import services as stories
from marketplace.stories.models import Story, StoryPhoto
from marketplace.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.conftest import login
from tests.factories import World
from tests.webhooks.support import failed_delivery, make_endpoint

ROLES = ["anonymous", "buyer", "order_taker", "anggota_a", "ketua_a", "ketua_b", "facilitator_a",
         "facilitator_b", "operator"]
KUBE_A_EDITORS = {"anggota_a", "ketua_a", "facilitator_a", "operator"}
KUBE_A_MANAGERS = {"ketua_a", "facilitator_a", "operator"}
KUBE_A_REVIEWERS = {"facilitator_a", "operator"}
OPERATORS = {"operator"}


def _visit_of_a(world: World, session: Session) -> None:
    visits.create_visit(session, world.facilitator_a, world.kube_a.id,
                        visits.VisitInput(visited_on=date(2025, 6, 1), notes="Kunjungan"))


def _cash_entry_of_a(world: World, session: Session) -> None:
    session.add(CashEntry(kube_id=world.kube_a.id, direction=Direction.EXPENSE, category=Category.TRANSPORT,
                          amount=5_000, occurred_on=date(2026, 1, 5)))


def _story_draft(world: World, session: Session) -> Story:
    return stories.create_story(session, world.facilitator_a, world.kube_a.id,
                                 stories.StoryInput(title="Cerita", summary="Singkat", body="Isi cerita."))


def _locked_user(world: World, session: Session) -> None:
    """An account locked by failed sign-ins (not one of the matrix's roles, which must sign in)."""
    factories.make_user(session, "locked_out", locked_until=datetime.now(UTC) + timedelta(minutes=10))


def _locked_user_id(session: Session) -> int:
    return session.scalars(select(User.id).where(User.email == factories.email_of("locked_out"))).one()


def _story_with_photo(world: World, session: Session) -> None:
    story = _story_draft(world, session)
    session.add(StoryPhoto(story_id=story.id, key="5a" + "0" * 30, width=10, height=10))


def _story_submitted(world: World, session: Session) -> Story:
    story = _story_draft(world, session)
    return stories.submit_story(session, world.facilitator_a, story.id)


def _story_published(world: World, session: Session) -> None:
    story = _story_submitted(world, session)
    stories.publish_story(session, world.operator, story.id)


@dataclass
class Case:
    endpoint: str
    allowed: set[str]
    request: Callable[[World, Session], tuple[str, dict[str, Any]]]
    setup: Callable[[World, Session], None] = lambda world, session: None
    id: str = field(default="")


def _kube_form(village: str = factories.BANGGAI_VILLAGE, prefix: str = "kube-") -> dict[str, Any]:
    parts = village.split(".")
    return {
        f"{prefix}name": "KUBE Berubah", f"{prefix}business_kind": "production",
        f"{prefix}province_code": parts[0], f"{prefix}regency_code": ".".join(parts[:2]),
        f"{prefix}district_code": ".".join(parts[:3]), f"{prefix}village_code": village,
        f"{prefix}story": "Cerita baru", f"{prefix}address": "Jl. Baru", f"{prefix}phone": "0812",
    }


def _product_form(world: World) -> dict[str, Any]:
    return {"name": "Produk Baru", "category_id": str(world.category.id), "unit": "kg", "price": "12000",
            "stock": "5", "min_order_qty": "1", "weight_grams": "1000", "description": "Baru", "save": "1"}


def _a(world: World, rest: str) -> str:
    return f"/my-kube/{world.kube_a.slug}{rest}"


def _draft_product_a(world: World, session: Session, status: ProductStatus) -> None:
    product = factories.make_product(session, world.kube_a, world.category, "Produk Uji", status=status)
    world.draft_b = product  # reuse the slot for "the product this case acts on"


def _photo_on_product_a(world: World, session: Session) -> None:
    session.add(ProductPhoto(product_id=world.product_a.id, key="ab" + "0" * 30, width=10, height=10))


def _two_photos_on_product_a(world: World, session: Session) -> None:
    for n in range(2):
        session.add(ProductPhoto(product_id=world.product_a.id, key=f"c{n}" + "0" * 30, width=10, height=10,
                                 position=n))
    session.flush()
    session.refresh(world.product_a, ["photos"])


def _set_kube_a(status: KubeStatus) -> Callable[[World, Session], None]:
    def setup(world: World, session: Session) -> None:
        world.kube_a.status = status
        if status == KubeStatus.DRAFT:
            factories.add_households(session, world.kube_a, 3)  # 5 households: ready to be verified

    return setup


def _anggota_member_id(world: World, session: Session) -> int:
    member = session.scalar(select(KubeMember).where(KubeMember.user_id == world.anggota_a.id))
    assert member is not None
    return member.id


# Orders: KUBE side and operator (helpers)
KUBE_A_SELLERS = {"anggota_a", "ketua_a", "operator"}  # members handle orders; facilitators do not


def _order_of_a(status: OrderStatus, *, courier: bool = False) -> Callable[[World, Session], None]:
    """A bank-transfer checkout of world.product_a (KUBE A), moved on to `status`."""

    def setup(world: World, session: Session) -> None:
        delivery = Delivery("courier", "Budi", "0812000111", "Jl. Kenanga 5") if courier else Delivery()
        checkout = orders.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual",
                                         delivery=delivery)
        if status in (OrderStatus.PAID, OrderStatus.PROCESSING):
            orders.confirm_payment(session, world.operator, checkout.id)
        if status == OrderStatus.PROCESSING:
            orders.accept_order(session, world.ketua_a, checkout.orders[0].id)

    return setup


def _cod_shipped_order_of_a(world: World, session: Session) -> None:
    checkout = orders.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="cod")
    orders.accept_order(session, world.ketua_a, checkout.orders[0].id)
    orders.ship_order(session, world.ketua_a, checkout.orders[0].id)


def _refund_to_send(world: World, session: Session) -> None:
    _order_of_a(OrderStatus.PAID)(world, session)
    orders.cancel_order(session, world.ketua_a, _order_a_id(session), "Stok rusak")


def _refund_id(session: Session) -> int:
    return session.scalars(select(Refund.id)).one()


def _in_cart_of(who: str) -> Callable[[World, Session], None]:
    def setup(world: World, session: Session) -> None:
        user = getattr(world, who)
        orders.add_to_cart(session, orders.CartOwner(user_id=user.id), world.product_a.id, 1)

    return setup


def _shipped_order_of_a(world: World, session: Session) -> None:
    _order_of_a(OrderStatus.PROCESSING)(world, session)
    orders.ship_order(session, world.ketua_a, _order_a_id(session))


def _order_a_id(session: Session) -> int:
    order_id = session.scalar(select(Order.id).order_by(Order.id.desc()))
    assert order_id is not None
    return order_id


def _checkout_id(session: Session) -> int:
    checkout_id = session.scalar(select(Checkout.id).order_by(Checkout.id.desc()))
    assert checkout_id is not None
    return checkout_id


def _delivered_order_of_a(world: World, session: Session) -> None:
    _shipped_order_of_a(world, session)
    orders.confirm_received(session, world.buyer, _order_a_id(session))


def _review_form(session: Session) -> dict[str, Any]:
    order = session.get(Order, _order_a_id(session))
    assert order is not None
    line_id = order.lines[0].id
    return {"kube_rating": "5", "kube_body": "Cepat", f"rating-{line_id}": "4", f"body-{line_id}": "Harum"}


# Sourcing (helpers): the order taker's request, KUBE A's quote, the contract, KUBE A's lot and a delivery
def _src_request(world: World, session: Session) -> None:
    sourcing.create_request(session, world.order_taker, sourcing.RequestInput(
        item_name="Arang tempurung", quantity="100", unit="kg", schedule="once", starts_on=date.today(), until=None,
        province_code="72"))


def _src_last(session: Session, model: type[Any]) -> Any:
    found = session.scalar(select(model).order_by(model.id.desc()))
    assert found is not None
    return found


def _src_quote_of_a(world: World, session: Session) -> None:
    _src_request(world, session)
    sourcing.make_quote(session, world.ketua_a, _src_last(session, SourcingRequest).id, price_per_unit=20_000,
                        quantity="100", kube_id=world.kube_a.id)


def _src_quote_url(session: Session, verb: str) -> str:
    quote = _src_last(session, Quote)
    return f"/sourcing/requests/{quote.request_id}/quotes/{quote.id}/{verb}"


def _src_contract_of_a(world: World, session: Session) -> None:
    _src_quote_of_a(world, session)
    sourcing.accept_quote(session, world.order_taker, _src_last(session, Quote).id, 200)
    sourcing.record_lot(session, world.anggota_a, sourcing.LotInput(
        kube_id=world.kube_a.id, item="", item_name="Arang tempurung", unit="kg", quantity="500", made_on=date.today()))


def _src_delivery_of_a(world: World, session: Session) -> None:
    _src_contract_of_a(world, session)
    sourcing.record_delivery(session, world.anggota_a, _src_last(session, SupplyContract).id,
                             lot_code=_src_last(session, Lot).code, quantity="40", due_on=date.today())


def _src_shell_of_a(world: World, session: Session) -> None:
    """KUBE A's shell in the test chain, which KUBE B (placed in the charcoal process) can take."""
    chain = factories.make_chain(session, world)
    chain.processes[1].kubes.append(ProcessKube(kube_id=world.kube_b.id, capacity_per_week=Decimal(100)))
    session.flush()
    sourcing.record_lot(session, world.anggota_a, sourcing.LotInput(
        kube_id=world.kube_a.id, item="tempurung", quantity="30", made_on=date.today(),
        chain_slug=factories.CHAIN_SLUG, process_key="kupas"))


def _src_delivery_url(session: Session) -> str:
    delivery = _src_last(session, ContractDelivery)
    return f"/sourcing/contracts/{delivery.contract_id}/deliveries/{delivery.id}/received"


CASES = [
    Case("shop.new_product", KUBE_A_EDITORS,
         lambda w, s: (_a(w, "/products/new"), {"data": _product_form(w)})),
    Case("shop.edit_product", KUBE_A_EDITORS,
         lambda w, s: (_a(w, f"/products/{w.product_a.id}/edit"), {"data": _product_form(w)})),
    Case("shop.set_stock", KUBE_A_EDITORS,
         lambda w, s: (_a(w, f"/products/{w.product_a.id}/stock"), {"data": {"stock": "99"}})),
    Case("shop.product_action", KUBE_A_EDITORS,
         lambda w, s: (_a(w, f"/products/{w.draft_b.id}/submit"), {"data": {}}),
         setup=lambda w, s: _draft_product_a(w, s, ProductStatus.DRAFT), id="submit"),
    Case("shop.product_action", KUBE_A_EDITORS,
         lambda w, s: (_a(w, f"/products/{w.product_a.id}/archive"), {"data": {}}), id="archive"),
    Case("shop.product_action", KUBE_A_EDITORS,
         lambda w, s: (_a(w, f"/products/{w.draft_b.id}/restore"), {"data": {}}),
         setup=lambda w, s: _draft_product_a(w, s, ProductStatus.ARCHIVED), id="restore"),
    Case("shop.delete_photo", KUBE_A_EDITORS,
         lambda w, s: (_a(w, f"/products/{w.product_a.id}/photos/{w.product_a.photos[0].id}/delete"),
                       {"data": {}}),
         setup=_photo_on_product_a),
    Case("shop.main_photo", KUBE_A_EDITORS,
         lambda w, s: (_a(w, f"/products/{w.product_a.id}/photos/{w.product_a.photos[1].id}/main"), {"data": {}}),
         setup=_two_photos_on_product_a),
    Case("shop.profile", KUBE_A_MANAGERS,
         lambda w, s: (_a(w, "/profile"), {"data": {"action": "profile", **_kube_form()}}), id="profile"),
    Case("shop.profile", {"ketua_a", "operator"},
         lambda w, s: (_a(w, "/profile"), {"data": {"action": "bank", "bank-bank_name": "BNI",
                                                     "bank-account_number": "5555666677",
                                                     "bank-account_holder": "Siapa Saja"}}), id="bank"),
    Case("shop.profile", KUBE_A_MANAGERS,
         lambda w, s: (_a(w, "/profile"), {"data": {"action": "member", "member-email": w.buyer.email,
                                                     "member-role": "anggota"}}), id="member"),
    Case("shop.member_role", KUBE_A_MANAGERS,
         lambda w, s: (_a(w, f"/members/{_anggota_member_id(w, s)}/role"), {"data": {"role": "sekretaris"}})),
    Case("shop.remove_member", KUBE_A_MANAGERS,
         lambda w, s: (_a(w, f"/members/{_anggota_member_id(w, s)}/remove"), {"data": {}})),
    Case("shop.open_shop", KUBE_A_MANAGERS, lambda w, s: (_a(w, "/open"), {"data": {}}),
         setup=_set_kube_a(KubeStatus.VERIFIED)),
    Case("facilitator.approve_product", KUBE_A_REVIEWERS,
         lambda w, s: (f"/facilitator/products/{w.draft_b.id}/approve", {"data": {}}),
         setup=lambda w, s: _draft_product_a(w, s, ProductStatus.PENDING_REVIEW)),
    Case("facilitator.reject_product", KUBE_A_REVIEWERS,
         lambda w, s: (f"/facilitator/products/{w.draft_b.id}/send-back", {"data": {"note": "Foto buram"}}),
         setup=lambda w, s: _draft_product_a(w, s, ProductStatus.PENDING_REVIEW)),
    Case("facilitator.kube_action", KUBE_A_REVIEWERS,
         lambda w, s: (f"/facilitator/kubes/{w.kube_a.id}/verify", {"data": {}}),
         setup=_set_kube_a(KubeStatus.DRAFT), id="verify"),
    Case("facilitator.kube_action", KUBE_A_REVIEWERS,
         lambda w, s: (f"/facilitator/kubes/{w.kube_a.id}/suspend", {"data": {}}), id="suspend"),
    Case("facilitator.kube_action", KUBE_A_REVIEWERS,
         lambda w, s: (f"/facilitator/kubes/{w.kube_a.id}/reinstate", {"data": {}}),
         setup=_set_kube_a(KubeStatus.SUSPENDED), id="reinstate"),
    Case("facilitator.new_kube", {"facilitator_a", "facilitator_b", "operator"},
         lambda w, s: ("/facilitator/kubes/new", {"data": _kube_form(prefix="")})),
    Case("admin.categories", OPERATORS,
         lambda w, s: ("/admin/categories", {"data": {"action": "create", "new-name_id": "Kopi",
                                                      "new-name_en": "Coffee", "new-position": "1"}})),
    Case("admin.users", OPERATORS,
         lambda w, s: ("/admin/users", {"data": {"action": "roles", "user_id": str(w.buyer.id),
                                                 "is_facilitator": "y"}}), id="roles"),
    Case("admin.users", OPERATORS,
         lambda w, s: ("/admin/users", {"data": {"action": "assign", "assign-kube_id": str(w.kube_b.id),
                                                 "assign-facilitator_id": str(w.facilitator_a.id)}}),
         id="assign"),
    Case("admin.users", OPERATORS,
         lambda w, s: ("/admin/users", {"data": {"action": "unassign", "kube_id": str(w.kube_a.id),
                                                 "facilitator_id": str(w.facilitator_a.id)}}),
         id="unassign"),
    Case("admin.users", OPERATORS,
         lambda w, s: ("/admin/users", {"data": {"action": "unlock", "user_id": str(_locked_user_id(s))}}),
         setup=_locked_user, id="unlock"),
    # Orders: KUBE side and operator
    Case("shop.accept_order", KUBE_A_SELLERS,
         lambda w, s: (_a(w, f"/orders/{_order_a_id(s)}/accept"), {"data": {}}),
         setup=_order_of_a(OrderStatus.PAID)),
    Case("shop.ship_order", KUBE_A_SELLERS,
         lambda w, s: (_a(w, f"/orders/{_order_a_id(s)}/ship"),
                       {"data": {"courier": "JNE", "tracking_number": "JN0001"}}),
         setup=_order_of_a(OrderStatus.PROCESSING, courier=True)),
    Case("shop.cancel_order", KUBE_A_SELLERS,
         lambda w, s: (_a(w, f"/orders/{_order_a_id(s)}/cancel"), {"data": {"reason": "Stok habis"}}),
         setup=_order_of_a(OrderStatus.PAID)),
    Case("shop.profile", KUBE_A_MANAGERS,
         lambda w, s: (_a(w, "/profile"), {"data": {"action": "delivery", "delivery-pickup_enabled": "y",
                                                     "delivery-courier_base_fee": "12.000",
                                                     "delivery-courier_fee_per_kg": "5000"}}), id="delivery"),
    Case("admin.confirm_payment", OPERATORS,
         lambda w, s: (f"/admin/payments/{_checkout_id(s)}/confirm", {"data": {}}),
         setup=_order_of_a(OrderStatus.PENDING_PAYMENT)),
    Case("shop.cash_received", {"ketua_a"},  # the bendahara or ketua, who holds the cash
         lambda w, s: (_a(w, f"/orders/{_order_a_id(s)}/cash"), {"data": {}}),
         setup=_cod_shipped_order_of_a),
    Case("payments.refunds", OPERATORS,
         lambda w, s: ("/admin/refunds", {"data": {"refund_id": str(_refund_id(s)), "reference": "BRI 778"}}),
         setup=_refund_to_send),
    # The KUBE ledger: payouts (KUBE A is owed the paid order's Rp30.000)
    Case("ledger.kube_payouts", OPERATORS,
         lambda w, s: (f"/admin/ledger/{w.kube_a.slug}",
                       {"data": {"amount": "10.000", "reference": "BRI 0001", "note": "Juni"}}),
         setup=_order_of_a(OrderStatus.PAID)),
    # Orders: the buyer's side
    Case("orders.checkout", set(ROLES) - {"anonymous"},
         lambda w, s: ("/checkout", {"data": {f"delivery-{w.kube_a.id}": "pickup", "payment_method": "manual"}}),
         setup=_in_cart_of("anggota_a")),
    Case("orders.received", {"buyer"},
         lambda w, s: (f"/orders/{_order_a_id(s)}/received", {"data": {}}),
         setup=_shipped_order_of_a),
    Case("orders.post_message", {"buyer", "anggota_a", "ketua_a"},
         lambda w, s: (f"/orders/{_order_a_id(s)}/messages", {"data": {"body": "Kapan dikirim?"}}),
         setup=_order_of_a(OrderStatus.PENDING_PAYMENT)),
    Case("orders.cancel", {"buyer"} | KUBE_A_SELLERS,
         lambda w, s: (f"/orders/{_order_a_id(s)}/cancel", {"data": {"reason": "salah pesan"}}),
         setup=_order_of_a(OrderStatus.PENDING_PAYMENT)),
    # Reviews: only the order's buyer, once it is delivered
    Case("reviews.review_order", {"buyer"},
         lambda w, s: (f"/orders/{_order_a_id(s)}/review", {"data": _review_form(s)}),
         setup=_delivered_order_of_a),
    # Sourcing: order takers post and decide; KUBE A's officers quote; its members record lots and deliveries
    Case("sourcing.new_request", {"order_taker"},
         lambda w, s: ("/sourcing/requests/new", {"data": {
             "item_name": "Sabut kelapa", "quantity": "1.500", "unit": "kg", "schedule": "once",
             "starts_on": date.today().isoformat(), "province_code": "72", "target_price": "800"}})),
    Case("sourcing.make_quote", KUBE_A_MANAGERS,
         lambda w, s: (f"/sourcing/requests/{_src_last(s, SourcingRequest).id}/quotes",
                       {"data": {"quote_for": f"kube:{w.kube_a.id}", "price_per_unit": "20.000", "quantity": "100"}}),
         setup=_src_request),
    Case("sourcing.withdraw_quote", KUBE_A_MANAGERS,
         lambda w, s: (_src_quote_url(s, "withdraw"), {"data": {}}), setup=_src_quote_of_a),
    Case("sourcing.decline_quote", {"order_taker"},
         lambda w, s: (_src_quote_url(s, "decline"), {"data": {}}), setup=_src_quote_of_a),
    Case("sourcing.accept_quote", {"order_taker"},
         lambda w, s: (_src_quote_url(s, "accept"), {"data": {}}), setup=_src_quote_of_a),
    Case("sourcing.close_request", {"order_taker"},
         lambda w, s: (f"/sourcing/requests/{_src_last(s, SourcingRequest).id}/close", {"data": {}}),
         setup=_src_quote_of_a, id="close"),
    Case("sourcing.close_request", {"order_taker"},
         lambda w, s: (f"/sourcing/requests/{_src_last(s, SourcingRequest).id}/cancel", {"data": {}}),
         setup=_src_quote_of_a, id="cancel"),
    Case("sourcing.record_delivery", KUBE_A_SELLERS,
         lambda w, s: (f"/sourcing/contracts/{_src_last(s, SupplyContract).id}/deliveries",
                       {"data": {"lot_code": _src_last(s, Lot).code, "quantity": "40",
                                 "due_on": date.today().isoformat(), "delivered_on": date.today().isoformat()}}),
         setup=_src_contract_of_a),
    Case("sourcing.confirm_received", {"order_taker"},
         lambda w, s: (_src_delivery_url(s), {"data": {}}), setup=_src_delivery_of_a),
    Case("sourcing.cancel_contract", {"order_taker", "ketua_a", "facilitator_a", "operator"},
         lambda w, s: (f"/sourcing/contracts/{_src_last(s, SupplyContract).id}/cancel", {"data": {}}),
         setup=_src_contract_of_a),
    Case("sourcing.record_lot", KUBE_A_SELLERS,
         lambda w, s: (_a(w, "/sourcing/lots"), {"data": {"item_name": "Tempurung", "unit": "kg", "quantity": "50",
                                                          "made_on": date.today().isoformat()}})),
    Case("sourcing.hand_over", KUBE_A_SELLERS,
         lambda w, s: (_a(w, f"/sourcing/lots/{_src_last(s, Lot).code}/handover"),
                       {"data": {"kube": str(w.kube_b.id)}}),
         setup=_src_shell_of_a),
    Case("sourcing.contract_payments", OPERATORS,
         lambda w, s: ("/admin/contract-payments", {"data": {"delivery_id": str(_src_last(s, ContractDelivery).id),
                                                             "reference": "BCA 0420"}}),
         setup=_src_delivery_of_a),
    # Supply chains: facilitators and operators start them; a chain's managers (facilitator A, whose KUBE splits
    # the nuts, and operators) edit it; a facilitator places only the KUBEs they accompany; the members of a
    # KUBE that runs a process list its share of a plan's surplus (factories.make_chain: "rantai-kelapa").
    Case("chains.new_chain", {"facilitator_a", "facilitator_b", "operator"},
         lambda w, s: ("/chains/new", {"data": {"name": "Rantai Baru", "description": "Uji"}})),
    Case("chains.edit_chain", {"facilitator_a", "operator"},
         lambda w, s: ("/chains/rantai-kelapa/edit", {"data": {"chain-name": "Rantai Berubah"}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.add_process", {"facilitator_a", "operator"},
         lambda w, s: ("/chains/rantai-kelapa/processes", {"data": {"np-name": "Serat sabut"}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.update_process", {"facilitator_a", "operator"},
         lambda w, s: (f"/chains/rantai-kelapa/processes/{factories.chain_process_id(s, 'kupas')}",
                       {"data": {f"p{factories.chain_process_id(s, 'kupas')}-name": "Kupas & belah"}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.delete_process", {"facilitator_a", "operator"},
         lambda w, s: (f"/chains/rantai-kelapa/processes/{factories.chain_process_id(s, 'arang')}/delete",
                       {"data": {}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.add_flow", {"facilitator_a", "operator"},
         lambda w, s: (f"/chains/rantai-kelapa/processes/{factories.chain_process_id(s, 'arang')}/flows",
                       {"data": {f"nf{factories.chain_process_id(s, 'arang')}-{k}": v for k, v in {
                           "direction": "out", "item_name": "Asap cair", "unit": "liter", "amount": "0,05"}.items()}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.update_flow", {"facilitator_a", "operator"},
         lambda w, s: (f"/chains/rantai-kelapa/processes/{factories.chain_process_id(s, 'kupas')}/flows/"
                       f"{factories.chain_flow_id(s, 'kupas', 'out', 'sabut')}",
                       {"data": {f"f{factories.chain_flow_id(s, 'kupas', 'out', 'sabut')}-{k}": v for k, v in {
                           "direction": "out", "item_name": "Sabut kelapa", "item": "sabut", "unit": "kg",
                           "amount": "0,44", "price": "900"}.items()}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.remove_flow", {"facilitator_a", "operator"},
         lambda w, s: (f"/chains/rantai-kelapa/processes/{factories.chain_process_id(s, 'kupas')}/flows/"
                       f"{factories.chain_flow_id(s, 'kupas', 'out', 'sabut')}/delete", {"data": {}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.assign_kube", {"facilitator_a", "operator"},
         lambda w, s: (f"/chains/rantai-kelapa/processes/{factories.chain_process_id(s, 'arang')}/kubes",
                       {"data": {f"a{factories.chain_process_id(s, 'arang')}-kube": w.kube_a.slug,
                                 f"a{factories.chain_process_id(s, 'arang')}-capacity": "100"}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.update_capacity", {"facilitator_a", "operator"},
         lambda w, s: (f"/chains/rantai-kelapa/processes/{factories.chain_process_id(s, 'kupas')}/kubes/{w.kube_a.id}",
                       {"data": {f"k{factories.chain_process_id(s, 'kupas')}-{w.kube_a.id}-capacity": "2.000"}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.remove_kube", {"facilitator_a", "operator"},
         lambda w, s: (f"/chains/rantai-kelapa/processes/{factories.chain_process_id(s, 'kupas')}/kubes/"
                       f"{w.kube_a.id}/delete", {"data": {}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    Case("chains.sell_surplus", {"anggota_a", "ketua_a"},
         lambda w, s: ("/chains/rantai-kelapa/sell?sabut=100&period=week",
                       {"data": {"process": "kupas", "item": "tempurung", "kube": str(w.kube_a.id)}}),
         setup=lambda w, s: factories.make_chain(s, w)),
    # Field visit reports: only a facilitator assigned to the KUBE writes them (operators only read them).
    Case("facilitator.new_visit", {"facilitator_a"},
         lambda w, s: ("/facilitator/kubes/kube-kelapa-a/visits/new",
                       {"data": {"visited_on": "2025-06-01", "notes": "Kunjungan rutin"}})),
    Case("facilitator.edit_visit", {"facilitator_a"},
         lambda w, s: (f"/facilitator/visits/{s.scalars(select(VisitReport.id)).one()}/edit",
                       {"data": {"visited_on": "2025-06-01", "notes": "Versi baru"}}),
         setup=_visit_of_a),
    # The cash book: only the KUBE's officers (ketua, sekretaris, bendahara) write in it.
    Case("books.add_entry", {"ketua_a"},
         lambda w, s: ("/my-kube/kube-kelapa-a/books/entries",
                       {"data": {"direction": "expense", "category": "transport", "amount": "15.000",
                                 "occurred_on": date.today().replace(day=1).isoformat()}})),
    Case("books.delete_entry", {"ketua_a"},
         lambda w, s: (f"/my-kube/kube-kelapa-a/books/entries/{s.scalars(select(CashEntry)).one().id}/delete",
                       {"data": {}}),
         setup=_cash_entry_of_a),
    Case("books.contributions", {"ketua_a"},
         lambda w, s: ("/my-kube/kube-kelapa-a/books/contributions", {"data": {f"c-{w.anggota_a.id}": "12"}})),
    Case("books.settings", {"ketua_a"},
         lambda w, s: ("/my-kube/kube-kelapa-a/books/settings",
                       {"data": {"share_basis": "contribution", "contribution_unit": "kg"}})),
    # Success stories: the KUBE's facilitator writes them; operators publish, send back and unpublish.
    Case("stories.new_story", {"facilitator_a"},
     lambda w, s: ("/stories/new?kube=kube-kelapa-a",
                   {"data": {"title": "Cerita Baru", "summary": "Singkat", "body": "Isi", "save": "1"}})),
    Case("stories.edit_story", {"facilitator_a"},
     lambda w, s: ("/stories/cerita/edit", {"data": {"title": "Cerita Berubah", "save": "1"}}),
         setup=_story_draft),
    Case("stories.submit", {"facilitator_a"}, lambda w, s: ("/stories/cerita/submit", {"data": {}}),
         setup=_story_draft),
    Case("stories.delete_photo", {"facilitator_a"},
     lambda w, s: (f"/stories/cerita/photos/{s.scalars(select(StoryPhoto.id)).one()}/delete", {"data": {}}),
         setup=_story_with_photo),
    Case("stories.publish", {"operator"}, lambda w, s: ("/stories/cerita/publish", {"data": {}}),
         setup=_story_submitted),
    Case("stories.send_back", {"operator"},
     lambda w, s: ("/stories/cerita/send-back", {"data": {"note": "Tambah foto."}}),
         setup=_story_submitted),
    Case("stories.unpublish", {"operator"},
     lambda w, s: ("/stories/cerita/unpublish", {"data": {"note": "Izin foto?"}}),
         setup=_story_published),
    # Partners' webhooks: operators only.
    Case("webhooks.new_endpoint", OPERATORS,
         lambda w, s: ("/admin/webhooks/new", {"data": {"url": "http://127.0.0.1:9/hook", "events": ["order.paid"]}})),
    Case("webhooks.edit_endpoint", OPERATORS,
         lambda w, s: (f"/admin/webhooks/{s.scalars(select(WebhookEndpoint.id)).one()}/edit",
                       {"data": {"url": "http://127.0.0.1:9/other", "events": ["order.placed"]}}),
         setup=lambda w, s: make_endpoint(s) and None),
    Case("webhooks.deactivate", OPERATORS,
         lambda w, s: (f"/admin/webhooks/{s.scalars(select(WebhookEndpoint.id)).one()}/deactivate", {"data": {}}),
         setup=lambda w, s: make_endpoint(s) and None),
    Case("webhooks.activate", OPERATORS,
         lambda w, s: (f"/admin/webhooks/{s.scalars(select(WebhookEndpoint.id)).one()}/activate", {"data": {}}),
         setup=lambda w, s: make_endpoint(s, active=False) and None),
    Case("webhooks.rotate", OPERATORS,
         lambda w, s: (f"/admin/webhooks/{s.scalars(select(WebhookEndpoint.id)).one()}/rotate", {"data": {}}),
         setup=lambda w, s: make_endpoint(s) and None),
    Case("webhooks.send_test", OPERATORS,
         lambda w, s: (f"/admin/webhooks/{s.scalars(select(WebhookEndpoint.id)).one()}/test", {"data": {}}),
         setup=lambda w, s: make_endpoint(s) and None),
    Case("webhooks.retry", OPERATORS,
         lambda w, s: (f"/admin/webhooks/deliveries/{s.scalars(select(WebhookDelivery.id)).one()}/retry",
                       {"data": {}}),
         setup=lambda w, s: failed_delivery(s) and None),
    # Personal data: a member's NIK (the KUBE's officers, its facilitator, operators); each user's own deletion
    # request (asked by any signed-in user, withdrawn only by its user); operators carry requests out or refuse.
    Case("shop.member_nik", KUBE_A_MANAGERS,
         lambda w, s: (_a(w, f"/members/{_anggota_member_id(w, s)}/nik"),
                       {"data": {f"nik{_anggota_member_id(w, s)}-nik": "7201011203900002"}})),
    Case("privacy.request_erasure", set(ROLES) - {"anonymous"},
         lambda w, s: ("/account/privacy/erasure", {"data": {"password": factories.PASSWORD}})),
    Case("privacy.withdraw", {"buyer"},
         lambda w, s: (f"/account/privacy/erasure/{s.scalars(select(ErasureRequest.id)).one()}/withdraw",
                       {"data": {}}),
         setup=lambda w, s: privacy.request_erasure(s, w.buyer, factories.PASSWORD) and None),
    Case("privacy.carry_out", OPERATORS,
         lambda w, s: (f"/admin/privacy/requests/{s.scalars(select(ErasureRequest.id)).one()}/erase", {"data": {}}),
         setup=lambda w, s: privacy.request_erasure(s, w.buyer, factories.PASSWORD) and None),
    Case("privacy.refuse", OPERATORS,
         lambda w, s: (f"/admin/privacy/requests/{s.scalars(select(ErasureRequest.id)).one()}/refuse",
                       {"data": {"reason": "Pesanan masih berjalan."}}),
         setup=lambda w, s: privacy.request_erasure(s, w.buyer, factories.PASSWORD) and None),
]


def _snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sign-in time aside, which signing the clients in has already set)."""
    session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name != "last_login_at"]
        result = session.execute(select(*columns)).all()
        rows[table.name] = sorted((tuple(r) for r in result), key=repr)
    return rows


def _send(client: FlaskClient, url: str, kwargs: dict[str, Any]) -> Any:
    return client.post(url, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=[c.endpoint + (f"-{c.id}" if c.id else "") for c in CASES])
def test_forbidden_roles_change_nothing(app: Flask, session: Session, case: Case) -> None:
    world = factories.build_world(session)
    case.setup(world, session)
    session.commit()
    clients = {role: (app.test_client() if role == "anonymous" else
                      login(app.test_client(), factories.email_of(role))) for role in ROLES}
    url, kwargs = case.request(world, session)
    before = _snapshot(session)
    for role in ROLES:
        if role in case.allowed:
            continue
        response = _send(clients[role], url, kwargs)
        if role == "anonymous":
            assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url
        else:
            assert response.status_code in (403, 404), (role, url, response.status_code)
        assert _snapshot(session) == before, f"{role} changed data through {url}"
    # An allowed role's identical request does change the data: the forbidden ones were real attempts.
    allowed = sorted(case.allowed)[0]
    response = _send(clients[allowed], url, kwargs)
    assert response.status_code in (200, 302), (allowed, url, response.status_code)
    assert _snapshot(session) != before, f"{allowed} could not make the request to {url}"


def test_every_mutating_route_is_in_the_matrix(app: Flask) -> None:
    covered = {case.endpoint for case in CASES}
    exempt = {"auth.login", "auth.logout", "auth.register", "auth.profile",  # a user's own account only
              # Public: anyone may ask for a reset link (the answer never says whether the account exists);
              # only who holds a mailed, signed, single-use token sets a password (tests/auth/test_password_reset.py)
              "auth.reset_request", "auth.reset_password",
              # A visitor's own cart only (it is found by the account or the session, never by an id in the URL):
              # tests/orders/test_buyer_pages.py checks that one cart never touches another.
              "orders.add_to_cart", "orders.set_quantity", "orders.remove",
              # Stripe's webhook: authenticated by its signature (tests/payments/test_stripe.py)
              "payments.stripe_webhook"}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            continue  # the API has its own matrix in tests/api
        if (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
            assert rule.endpoint in covered | exempt, f"{rule.rule} ({rule.endpoint}) is not in the matrix"
