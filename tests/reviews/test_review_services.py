"""The review rules without HTTP: who may review, when, once, with what ratings; and the summaries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.common import ConflictError, NotFoundError, ValidationError, utcnow
from marketplace.orders import services as orders
from marketplace.orders.models import Notification, Order, OrderStatus
from marketplace.reviews import services
from marketplace.reviews.models import KubeReview, ProductReview
from tests import factories
from tests.factories import World
from tests.reviews.support import delivered_order, placed_order, shipped_order


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_buyer_reviews_a_delivered_order(session: Session, world: World) -> None:
    order = delivered_order(session, world)
    line = order.lines[0]

    state = services.reviewable(session, world.buyer, order.id)
    assert state.open_lines == [line] and state.kube_open and state.anything_left and not state.anything_done

    done = services.submit_review(session, world.buyer, order.id, "5", "  Cepat dan rapi  ",
                                  {line.id: ("4", "Minyaknya jernih")})
    assert done.kube_review is not None and done.kube_review.rating == 5 and done.kube_review.body == "Cepat dan rapi"
    assert done.kube_review.kube_id == world.kube_a.id and done.kube_review.buyer_id == world.buyer.id
    [review] = done.product_reviews
    assert (review.product_id, review.rating, review.body, review.order_line_id) == (
        world.product_a.id, 4, "Minyaknya jernih", line.id)

    after = services.reviewable(session, world.buyer, order.id)
    assert not after.anything_left and after.anything_done
    # Both members of KUBE A hear of it, and the buyer does not.
    told = set(session.scalars(select(Notification.user_id).where(Notification.message == services.NEW_REVIEW)))
    assert told == {world.ketua_a.id, world.anggota_a.id}


def test_a_completed_order_can_be_reviewed_too(session: Session, world: World) -> None:
    order = delivered_order(session, world)
    session.get(Order, order.id).status = OrderStatus.COMPLETED  # type: ignore[union-attr]
    session.flush()
    services.submit_review(session, world.buyer, order.id, 4, "", {})
    assert _count(session, KubeReview) == 1


def test_parts_can_be_reviewed_now_and_the_rest_later(session: Session, world: World) -> None:
    order = delivered_order(session, world)
    line = order.lines[0]
    services.submit_review(session, world.buyer, order.id, "", "", {line.id: ("3", "")})
    state = services.reviewable(session, world.buyer, order.id)
    assert state.kube_open and state.open_lines == []
    services.submit_review(session, world.buyer, order.id, "4", "Ramah", {})
    assert not services.reviewable(session, world.buyer, order.id).anything_left


@pytest.mark.parametrize("status", ["pending_payment", "shipped"])
def test_an_order_not_yet_received_cannot_be_reviewed(session: Session, world: World, status: str) -> None:
    make: Callable[..., Order] = placed_order if status == "pending_payment" else shipped_order
    order = make(session, world, [world.product_a])
    with pytest.raises(ConflictError) as refused:
        services.reviewable(session, world.buyer, order.id)
    assert "received" in refused.value.message
    with pytest.raises(ConflictError):
        services.submit_review(session, world.buyer, order.id, "5", "", {order.lines[0].id: ("5", "")})
    assert _count(session, ProductReview) == _count(session, KubeReview) == 0


def test_a_cancelled_order_cannot_be_reviewed(session: Session, world: World) -> None:
    order = placed_order(session, world, [world.product_a])
    orders.cancel_order(session, world.buyer, order.id, "salah pesan")
    with pytest.raises(ConflictError):
        services.reviewable(session, world.buyer, order.id)


@pytest.mark.parametrize("who", ["order_taker", "ketua_a", "anggota_a", "operator", "ketua_b", "facilitator_a"])
def test_someone_elses_order_is_not_found(session: Session, world: World, who: str) -> None:
    order = delivered_order(session, world)
    with pytest.raises(NotFoundError):
        services.reviewable(session, getattr(world, who), order.id)
    with pytest.raises(NotFoundError):
        services.submit_review(session, getattr(world, who), order.id, "5", "", {order.lines[0].id: ("5", "")})
    with pytest.raises(NotFoundError):
        services.reviewable(session, world.buyer, order.id + 1000)
    assert _count(session, KubeReview) == 0


def test_reviewing_twice_is_a_conflict(session: Session, world: World) -> None:
    order = delivered_order(session, world)
    line = order.lines[0]
    services.submit_review(session, world.buyer, order.id, "5", "", {line.id: ("5", "")})
    with pytest.raises(ConflictError) as kube_again:
        services.submit_review(session, world.buyer, order.id, "4", "", {})
    assert kube_again.value.field == "kube_rating"
    with pytest.raises(ConflictError) as line_again:
        services.submit_review(session, world.buyer, order.id, "", "", {line.id: ("1", "")})
    assert line_again.value.field == f"rating-{line.id}"
    assert _count(session, ProductReview) == _count(session, KubeReview) == 1


def test_a_race_past_the_check_is_caught_by_the_unique_constraint(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests at once both see nothing reviewed; the database refuses the second, which is a conflict."""
    order = delivered_order(session, world)
    line = order.lines[0]
    services.submit_review(session, world.buyer, order.id, "5", "", {line.id: ("5", "")})
    session.commit()
    monkeypatch.setattr(services, "_state", lambda s, o: services.ReviewState(o, {}, None))  # the stale view
    with pytest.raises(ConflictError) as raced:
        services.submit_review(session, world.buyer, order.id, "4", "", {line.id: ("4", "")})
    assert "meanwhile" in raced.value.message
    session.rollback()
    assert _count(session, ProductReview) == _count(session, KubeReview) == 1


@pytest.mark.parametrize("bad", ["abc", 0, "0", 6, "6", 1.5, "1.5", -1, "4 stars", True])
def test_ratings_are_whole_numbers_from_1_to_5(session: Session, world: World, bad: object) -> None:
    order = delivered_order(session, world)
    line = order.lines[0]
    with pytest.raises(ValidationError) as kube:
        services.submit_review(session, world.buyer, order.id, bad, "", {})
    assert kube.value.field == "kube_rating"
    with pytest.raises(ValidationError) as product:
        services.submit_review(session, world.buyer, order.id, "", "", {line.id: (bad, "")})
    assert product.value.field == f"rating-{line.id}"
    assert _count(session, ProductReview) == _count(session, KubeReview) == 0


def test_texts_are_optional_and_at_most_2000_characters(session: Session, world: World) -> None:
    order = delivered_order(session, world)
    line = order.lines[0]
    with pytest.raises(ValidationError) as long_body:
        services.submit_review(session, world.buyer, order.id, "", "", {line.id: ("5", "x" * 2001)})
    assert long_body.value.field == f"body-{line.id}"
    with pytest.raises(ValidationError) as long_kube:
        services.submit_review(session, world.buyer, order.id, "5", "x" * 2001, {})
    assert long_kube.value.field == "kube_body"
    with pytest.raises(ValidationError) as text_only:
        services.submit_review(session, world.buyer, order.id, "", "Bagus", {})
    assert text_only.value.field == "kube_rating"
    with pytest.raises(ValidationError) as nothing:
        services.submit_review(session, world.buyer, order.id, "", "  ", {line.id: ("", "")})
    assert nothing.value.field is None
    done = services.submit_review(session, world.buyer, order.id, "5", None, {line.id: ("5", "x" * 2000)})
    assert done.kube_review is not None and done.kube_review.body == ""


def test_lines_of_other_orders_and_deleted_products_cannot_be_reviewed(session: Session, world: World) -> None:
    order = delivered_order(session, world)
    other = delivered_order(session, world)
    with pytest.raises(ValidationError):
        services.submit_review(session, world.buyer, order.id, "", "", {other.lines[0].id: ("5", "")})
    order.lines[0].product_id = None  # the KUBE deleted the product since
    session.flush()
    state = services.reviewable(session, world.buyer, order.id)
    assert state.open_lines == [] and state.kube_open
    with pytest.raises(ConflictError):
        services.submit_review(session, world.buyer, order.id, "", "", {order.lines[0].id: ("5", "")})


# --- Reading -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "count", "expected"), [
    (13, 3, "4.3"), (9, 2, "4.5"), (89, 20, "4.5"), (3, 2, "1.5"), (5, 1, "5.0"), (0, 0, None), (14, 3, "4.7"),
])
def test_averages_round_half_up_to_one_decimal(total: int, count: int, expected: str | None) -> None:
    assert services.average(total, count) == (Decimal(expected) if expected else None)


@pytest.mark.parametrize(("name", "short"), [
    ("Siti Rahmawati", "Siti R."), ("Rohani", "Rohani"), ("Sitti Aisyah Mbaru", "Sitti M."), ("  ", ""),
    (None, ""), ("rina pembeli", "rina P."),
])
def test_reviewers_are_shown_by_first_name_and_initial(name: str | None, short: str) -> None:
    assert services.short_name(name) == short


def _reviewed(session: Session, world: World, ratings: list[int], *, product: Any = None) -> None:
    """One delivered order per rating, each rated (product and KUBE) with that many stars, a day apart."""
    start = utcnow() - timedelta(days=len(ratings))
    for n, rating in enumerate(ratings):
        order = delivered_order(session, world, [product or world.product_a])
        services.submit_review(session, world.buyer, order.id, rating, f"KUBE {n}",
                               {order.lines[0].id: (rating, f"Ulasan {n}")}, now=start + timedelta(days=n))


def test_product_and_kube_reviews_newest_first_with_the_summary(session: Session, world: World) -> None:
    world.buyer.name = "Siti Rahmawati"
    _reviewed(session, world, [5, 4, 4, 1, 5, 5, 3])

    found = services.product_reviews(session, world.product_a.id, page=1, per_page=3)
    summary = found.summary
    assert summary.count == 7 and summary.total == 27 and summary.average == Decimal("3.9")
    assert summary.stars == {5: 3, 4: 2, 3: 1, 2: 0, 1: 1}
    assert summary.share(5) == 42 and summary.share(2) == 0
    assert [r.body for r in found.page.items] == ["Ulasan 6", "Ulasan 5", "Ulasan 4"]
    assert {r.reviewer for r in found.page.items} == {"Siti R."}
    assert found.page.total == 7 and found.page.pages == 3 and found.page.has_next
    last = services.product_reviews(session, world.product_a.id, page=3, per_page=3)
    assert [r.body for r in last.page.items] == ["Ulasan 0"]

    kube = services.kube_reviews(session, world.kube_a.id, per_page=10)
    assert kube.summary.count == 7 and [r.body for r in kube.page.items][:2] == ["KUBE 6", "KUBE 5"]
    assert services.kube_reviews(session, world.kube_b.id).summary.count == 0
    assert services.product_reviews(session, world.product_b.id).page.items == []


def test_a_deleted_account_leaves_an_anonymous_review(session: Session, world: World) -> None:
    _reviewed(session, world, [4])
    session.execute(ProductReview.__table__.update().values(buyer_id=None))
    session.expire_all()
    [shown] = services.product_reviews(session, world.product_a.id).page.items
    assert shown.reviewer == "" and shown.rating == 4


def test_rating_summaries_in_one_query(session: Session, world: World, count_queries: Any) -> None:
    _reviewed(session, world, [5, 4])
    _reviewed(session, world, [2], product=world.product_b)
    extra = factories.make_product(session, world.kube_a, world.category)
    with count_queries() as counter:
        found = services.rating_summaries(session, [world.product_a.id, world.product_b.id, extra.id])
    assert counter.count == 1
    assert found == {world.product_a.id: (Decimal("4.5"), 2), world.product_b.id: (Decimal("2.0"), 1)}
    with count_queries() as counter:
        assert services.rating_summaries(session, []) == {}
    assert counter.count == 0
