"""Buyers rate what they received (each product line) and the KUBE that sent it. No flask here.

Only the order's buyer reviews, once the order is delivered (or completed). Each line and each order is
reviewed once: the service checks first, and the UNIQUE constraints on order_line_id and order_id back the
check when two requests race past it. Averages are worked out from whole-number sums (Decimal, rounded
half up to one decimal), so 4.45 is always 4.5 and never a float's 4.4.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from marketplace.auth.models import User
from marketplace.catalog.models import KubeMember
from marketplace.catalog.permissions import member_role
from marketplace.common import (
    N_,
    ConflictError,
    NotFoundError,
    Page,
    ValidationError,
    clean_int,
    clean_text,
    utcnow,
)
from marketplace.orders import services as orders
from marketplace.orders.models import Notification, Order, OrderLine, OrderStatus
from marketplace.reviews.models import KubeReview, ProductReview

REVIEWABLE_STATUSES = frozenset({OrderStatus.DELIVERED, OrderStatus.COMPLETED})
MAX_BODY = 2000
MAX_PER_PAGE = 50
STARS = (5, 4, 3, 2, 1)
NEW_REVIEW = N_("The buyer of order #%(id)s left a review.")


# --- What a buyer may review --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewState:
    """An order's reviews as its buyer sees them: what is done and what is still open."""

    order: Order
    line_reviews: dict[int, ProductReview]  # order line id -> its review
    kube_review: KubeReview | None

    @property
    def open_lines(self) -> list[OrderLine]:
        """Lines that can still be reviewed (a line whose product was deleted cannot)."""
        return [line for line in self.order.lines if line.product_id is not None and line.id not in self.line_reviews]

    @property
    def kube_open(self) -> bool:
        return self.kube_review is None

    @property
    def anything_left(self) -> bool:
        return self.kube_open or bool(self.open_lines)

    @property
    def anything_done(self) -> bool:
        return self.kube_review is not None or bool(self.line_reviews)


def reviewable(session: Session, buyer: User, order_id: int) -> ReviewState:
    """The order's reviews for its buyer: anyone else gets 404, an order not yet delivered a conflict."""
    order = orders.get_order(session, buyer, order_id)  # 404 for those who may not see the order at all
    if order.buyer_id != buyer.id:  # the KUBE's members and operators see the order but do not review it
        raise NotFoundError(N_("Order not found."))
    if order.status not in REVIEWABLE_STATUSES or order.paid_at is None:
        # Paid too: a cash order counts once its bendahara has recorded the cash.
        raise ConflictError(N_("You can review an order once you have received it."), field="status")
    if member_role(session, buyer, order.kube_id) is not None:
        raise ConflictError(N_("Members do not review their own KUBE."), field="status")
    return _state(session, order)


def _state(session: Session, order: Order) -> ReviewState:
    line_ids = [line.id for line in order.lines]
    line_reviews = {
        review.order_line_id: review
        for review in session.scalars(select(ProductReview).where(ProductReview.order_line_id.in_(line_ids)))
    } if line_ids else {}
    kube_review = session.scalar(select(KubeReview).where(KubeReview.order_id == order.id))
    return ReviewState(order, line_reviews, kube_review)


# --- Writing a review ---------------------------------------------------------------------------------


def _clean_rating(value: object, field: str) -> int:
    return clean_int(value, field=field, minimum=1, maximum=5)


def _clean_body(value: object, field: str) -> str:
    return clean_text(value, field=field, max_length=MAX_BODY, required=False)


def _given(value: object) -> bool:
    return value is not None and str(value).strip() != ""


@dataclass(frozen=True)
class SubmittedReviews:
    """What one submission created."""

    product_reviews: list[ProductReview] = field(default_factory=list)
    kube_review: KubeReview | None = None


def submit_review(
    session: Session,
    buyer: User,
    order_id: int,
    kube_rating: object,
    kube_body: object,
    products: Mapping[int, tuple[object, object]],
    *,
    now: datetime | None = None,
) -> SubmittedReviews:
    """The buyer rates the KUBE (kube_rating, kube_body) and products ({order line id: (rating, body)}).

    A rating left empty skips that item (the buyer may come back for it); a text without a rating, a rating
    that is not a whole number from 1 to 5, or a text over 2000 characters is refused naming its field
    ("kube_rating", "kube_body", "rating-<line id>", "body-<line id>"). Something already reviewed is a
    conflict. The KUBE's members are told."""
    now = now or utcnow()
    state = reviewable(session, buyer, order_id)
    order = state.order
    lines = {line.id: line for line in order.lines}

    new_kube: KubeReview | None = None
    if _given(kube_rating) or _given(kube_body):
        if not state.kube_open:
            raise ConflictError(N_("You have already rated the KUBE for this order."), field="kube_rating")
        if not _given(kube_rating):
            raise ValidationError(N_("Choose a rating from 1 to 5 stars."), field="kube_rating")
        new_kube = KubeReview(order_id=order.id, kube_id=order.kube_id, buyer_id=buyer.id,
                              rating=_clean_rating(kube_rating, "kube_rating"),
                              body=_clean_body(kube_body, "kube_body"), created_at=now)

    new_lines: list[ProductReview] = []
    for raw_id, (rating, body) in products.items():
        line_id = clean_int(raw_id, field="products", minimum=1, maximum=2**31 - 1)
        rating_field, body_field = f"rating-{line_id}", f"body-{line_id}"
        if not (_given(rating) or _given(body)):
            continue
        line = lines.get(line_id)
        if line is None:
            raise ValidationError(N_("This product is not part of the order."), field=rating_field)
        if line.id in state.line_reviews:
            raise ConflictError(N_("You have already reviewed %(name)s."), field=rating_field,
                                name=line.product_name)
        if line.product_id is None:
            raise ConflictError(N_("%(name)s is no longer sold, so it cannot be reviewed."), field=rating_field,
                                name=line.product_name)
        if not _given(rating):
            raise ValidationError(N_("Choose a rating from 1 to 5 stars."), field=rating_field)
        new_lines.append(ProductReview(order_line_id=line.id, product_id=line.product_id, buyer_id=buyer.id,
                                       rating=_clean_rating(rating, rating_field),
                                       body=_clean_body(body, body_field), created_at=now))

    if new_kube is None and not new_lines:
        raise ValidationError(N_("Choose a rating for at least one product or for the KUBE."))
    session.add_all([*new_lines, *([new_kube] if new_kube else [])])
    try:
        session.flush()
    except IntegrityError:
        # Another request (a double click) reviewed the same line or order in between: the UNIQUE
        # constraints held. The caller rolls back; nothing of this submission is kept.
        raise ConflictError(N_("This order was reviewed meanwhile; reload the page."), field="status") from None
    _notify_kube(session, order)
    return SubmittedReviews(new_lines, new_kube)


def _notify_kube(session: Session, order: Order) -> None:
    members = session.scalars(select(KubeMember.user_id).where(KubeMember.kube_id == order.kube_id))
    for user_id in dict.fromkeys(members):
        session.add(Notification(user_id=user_id, order_id=order.id, message=NEW_REVIEW, params={"id": order.id}))
    session.flush()


# --- Reading reviews ----------------------------------------------------------------------------------


def average(total: int, count: int) -> Decimal | None:
    """The average of `count` ratings summing to `total`, to one decimal (half up); None without ratings."""
    if count <= 0:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RatingSummary:
    """How something is rated: the average (one decimal), how many ratings, and how many of each star."""

    count: int = 0
    total: int = 0
    stars: dict[int, int] = field(default_factory=lambda: dict.fromkeys(STARS, 0))

    @property
    def average(self) -> Decimal | None:
        return average(self.total, self.count)

    def share(self, star: int) -> int:
        """The percentage of ratings with this many stars (for the bars), rounded down."""
        return self.stars.get(star, 0) * 100 // self.count if self.count else 0


@dataclass(frozen=True)
class ShownReview:
    """A review as the public sees it: the reviewer only by first name and initial."""

    id: int
    rating: int
    body: str
    reviewer: str  # "Siti R."; "" when the account is gone
    created_at: datetime


@dataclass(frozen=True)
class ReviewPage:
    summary: RatingSummary
    page: Page[ShownReview]


def short_name(name: str | None) -> str:
    """'Siti Rahmawati' -> 'Siti R.', 'Rohani' -> 'Rohani': enough to be a person, not enough to find them."""
    words = (name or "").split()
    if not words:
        return ""
    first = words[0][:30]
    if len(words) == 1:
        return first
    return f"{first} {words[-1][0].upper()}."


def _summary(session: Session, model: Any, column: Any, key: int) -> RatingSummary:
    rows = session.execute(
        select(model.rating, func.count(model.id)).where(column == key).group_by(model.rating)
    ).all()
    stars = dict.fromkeys(STARS, 0)
    for rating, number in rows:
        stars[int(rating)] = int(number)
    return RatingSummary(count=sum(stars.values()), total=sum(star * n for star, n in stars.items()), stars=stars)


def _review_page(session: Session, model: Any, column: Any, key: int, page: int, per_page: int) -> ReviewPage:
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    summary = _summary(session, model, column, key)
    if summary.count == 0:
        return ReviewPage(summary, Page([], 0, page, per_page))
    reviews = session.scalars(
        select(model).where(column == key)
        .order_by(model.created_at.desc(), model.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
        .options(joinedload(model.buyer))
    )
    shown = [ShownReview(r.id, r.rating, r.body, short_name(r.buyer.name if r.buyer else None), r.created_at)
             for r in reviews]
    return ReviewPage(summary, Page(shown, summary.count, page, per_page))


def product_reviews(session: Session, product_id: int, page: int = 1, per_page: int = 10) -> ReviewPage:
    """A product's reviews, newest first, with its rating summary (two queries)."""
    return _review_page(session, ProductReview, ProductReview.product_id, product_id, page, per_page)


def kube_reviews(session: Session, kube_id: int, page: int = 1, per_page: int = 10) -> ReviewPage:
    """A KUBE's reviews, newest first, with its rating summary (two queries)."""
    return _review_page(session, KubeReview, KubeReview.kube_id, kube_id, page, per_page)


def rating_summaries(session: Session, product_ids: Iterable[int]) -> dict[int, tuple[Decimal, int]]:
    """{product id: (average, count)} for the products that have reviews, in one query (none for no ids)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(ProductReview.product_id, func.count(ProductReview.id), func.sum(ProductReview.rating))
        .where(ProductReview.product_id.in_(ids))
        .group_by(ProductReview.product_id)
    ).all()
    summaries = {}
    for product_id, count, total in rows:
        mean = average(int(total), int(count))
        if mean is not None:
            summaries[int(product_id)] = (mean, int(count))
    return summaries
