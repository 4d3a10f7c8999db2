"""Each user's own data under UU PDP No. 27/2022: what is held about them (a JSON download), and the
deletion (erasure) of their account on request. No flask here.

Erasure anonymises rather than deletes where others rely on the rows: a KUBE's books need its orders (their
totals stay, the buyer's name, phone and address go), its shares need the membership of an active KUBE (its
NIK goes), and reviews stay as a deleted user's.
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from werkzeug.security import check_password_hash

from marketplace.audit import services as audit
from marketplace.auth.models import ApiToken, OrderTakerProfile, User
from marketplace.books.models import Contribution
from marketplace.catalog.models import (
    OFFICER_ROLES,
    FacilitatorAssignment,
    Kube,
    KubeMember,
    KubeStatus,
    MemberRole,
    Product,
)
from marketplace.common import N_, ConflictError, NotFoundError, Page, PermissionDenied, ValidationError, utcnow
from marketplace.facilitator.models import VisitReport
from marketplace.orders.models import (
    CartItem,
    Checkout,
    Notification,
    Order,
    OrderEvent,
    OrderMessage,
    OrderStatus,
)
from marketplace.payments.models import Refund
from marketplace.privacy.models import ErasureRequest, ErasureStatus
from marketplace.reviews.models import KubeReview, ProductReview
from marketplace.sourcing.models import ContractStatus, SourcingRequest, SupplyContract
from marketplace.stories.models import Story

# UU PDP 27/2022: a data subject's request is answered within 3x24 hours.
ANSWER_WITHIN = timedelta(hours=72)
# What an erased account is called wherever its orders are still shown (the KUBEs' books keep them).
DELETED_NAME = "Pengguna terhapus"
# An order still moving: the KUBE or the buyer still has something to do (not yet received or cancelled).
OPEN_ORDER_STATUSES = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.SHIPPED)
FINISHED_REFUND = "succeeded"
PROVIDER_REFUND_UNDER_WAY = ("processing", "pending")
MANUAL_REFUND = "manual"  # sent by an operator's bank transfer
# A KUBE that is trading (or verified and public, about to): it keeps its members, and needs its officers.
ACTIVE_KUBE_STATUSES = (KubeStatus.VERIFIED, KubeStatus.ACTIVE)
MAX_REASON = 1000


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- The download -----------------------------------------------------------------------------------


def _audit_rows(session: Session, user_id: int) -> list[dict[str, Any]] | None:
    """The audit log's rows about the user (as actor or as target), when the audit log is installed."""
    try:
        models = importlib.import_module("marketplace.audit.models")
    except ImportError:
        return None
    event = getattr(models, "AuditEvent", None)
    if event is None:
        return None
    rows = session.scalars(
        select(event)
        .where(or_(event.actor_id == user_id, (event.target_type == "user") & (event.target_id == user_id)))
        .order_by(event.id)
    )
    return [{"occurred_at": _iso(row.occurred_at), "action": row.action, "actor_role": row.actor_role,
             "by_you": row.actor_id == user_id, "target_type": row.target_type, "target_id": row.target_id}
            for row in rows]


def _notification_text(message: str, params: Any) -> str:
    try:
        return message % params if params else message
    except (KeyError, TypeError, ValueError):
        return message


def export_user_data(session: Session, user: User, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything Pasar KUBE holds about `user`, for the user themself (UU PDP 27/2022 right of access).

    A fixed number of queries whatever the number of orders, messages or reviews. API tokens are listed by
    their dates only (never their hashes); the search log keeps no user, so it has nothing to give."""
    uid = user.id
    profile = session.scalar(select(OrderTakerProfile).where(OrderTakerProfile.user_id == uid))
    memberships = session.scalars(select(KubeMember).where(KubeMember.user_id == uid)
                                  .options(joinedload(KubeMember.kube)).order_by(KubeMember.id)).all()
    assigned = session.execute(select(Kube.name, Kube.slug, FacilitatorAssignment.assigned_at)
                               .join(FacilitatorAssignment, FacilitatorAssignment.kube_id == Kube.id)
                               .where(FacilitatorAssignment.facilitator_id == uid)
                               .order_by(FacilitatorAssignment.id)).all()
    orders = session.scalars(
        select(Order).where(Order.buyer_id == uid)
        .options(joinedload(Order.kube), joinedload(Order.checkout), selectinload(Order.lines))
        .order_by(Order.id)
    ).unique().all()
    cart = session.execute(select(CartItem, Product.name).join(Product, Product.id == CartItem.product_id)
                           .where(CartItem.user_id == uid).order_by(CartItem.id)).all()
    product_reviews = session.execute(
        select(ProductReview, Product.name).join(Product, Product.id == ProductReview.product_id)
        .where(ProductReview.buyer_id == uid).order_by(ProductReview.id)).all()
    kube_reviews = session.execute(select(KubeReview, Kube.name).join(Kube, Kube.id == KubeReview.kube_id)
                                   .where(KubeReview.buyer_id == uid).order_by(KubeReview.id)).all()
    messages = session.scalars(select(OrderMessage).where(OrderMessage.author_id == uid)
                               .order_by(OrderMessage.id)).all()
    notifications = session.scalars(select(Notification).where(Notification.user_id == uid)
                                    .order_by(Notification.id)).all()
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == uid).order_by(ApiToken.id)).all()
    stories = session.execute(select(Story.title, Story.status, Story.created_at, Story.published_at, Kube.name)
                              .join(Kube, Kube.id == Story.kube_id).where(Story.author_id == uid)
                              .order_by(Story.id)).all()
    visits = session.execute(select(VisitReport.visited_on, VisitReport.version, VisitReport.created_at, Kube.name)
                             .join(Kube, Kube.id == VisitReport.kube_id).where(VisitReport.facilitator_id == uid)
                             .order_by(VisitReport.id)).all()
    contributions = session.execute(select(Contribution.month, Contribution.amount, Kube.name)
                                    .join(Kube, Kube.id == Contribution.kube_id).where(Contribution.user_id == uid)
                                    .order_by(Contribution.month, Contribution.id)).all()
    requests = session.scalars(select(SourcingRequest).where(SourcingRequest.order_taker_id == uid)
                               .order_by(SourcingRequest.id)).all()
    erasures = session.scalars(select(ErasureRequest).where(ErasureRequest.user_id == uid)
                               .order_by(ErasureRequest.id)).all()
    audit = _audit_rows(session, uid)
    data: dict[str, Any] = {
        "generated_at": _iso(now or utcnow()),
        "profile": {
            "id": uid, "email": user.email, "name": user.name, "phone": user.phone, "locale": user.locale,
            "created_at": _iso(user.created_at), "last_login_at": _iso(user.last_login_at),
            "is_operator": user.is_operator, "is_facilitator": user.is_facilitator,
            "is_ministry": user.is_ministry,
        },
        "company_profile": None if profile is None else {
            "company_name": profile.company_name, "business_field": profile.business_field, "npwp": profile.npwp,
            "address": profile.address, "province_code": profile.province_code, "website": profile.website,
            "created_at": _iso(profile.created_at),
        },
        "kube_memberships": [
            {"kube": m.kube.name, "kube_slug": m.kube.slug, "role": m.role.value, "nik": m.nik,
             "joined_at": _iso(m.joined_at)} for m in memberships
        ],
        "facilitator_of": [{"kube": name, "kube_slug": slug, "assigned_at": _iso(at)} for name, slug, at in assigned],
        "contributions": [{"kube": name, "month": _iso(month), "amount": amount}
                          for month, amount, name in contributions],
        "orders": [
            {"id": o.id, "kube": o.kube.name, "status": o.status.value, "created_at": _iso(o.created_at),
             "paid_at": _iso(o.paid_at), "payment_method": o.checkout.payment_method.value,
             "delivery_method": o.delivery_method.value, "recipient_name": o.recipient_name,
             "recipient_phone": o.recipient_phone, "address": o.address, "courier": o.courier,
             "tracking_number": o.tracking_number, "goods_total": o.goods_total, "delivery_fee": o.delivery_fee,
             "total": o.total,
             "lines": [{"product": line.product_name, "unit": line.unit, "unit_price": line.unit_price,
                        "quantity": line.quantity, "line_total": line.line_total} for line in o.lines]}
            for o in orders
        ],
        "cart": [{"product": name, "quantity": item.quantity, "added_at": _iso(item.added_at)} for item, name in cart],
        "product_reviews": [{"product": name, "rating": r.rating, "body": r.body, "created_at": _iso(r.created_at)}
                            for r, name in product_reviews],
        "kube_reviews": [{"kube": name, "rating": r.rating, "body": r.body, "created_at": _iso(r.created_at)}
                         for r, name in kube_reviews],
        "messages": [{"order_id": m.order_id, "body": m.body, "created_at": _iso(m.created_at)} for m in messages],
        "notifications": [{"order_id": n.order_id, "text": _notification_text(n.message, n.params),
                           "created_at": _iso(n.created_at), "read_at": _iso(n.read_at)} for n in notifications],
        "api_tokens": [{"id": t.id, "created_at": _iso(t.created_at), "expires_at": _iso(t.expires_at),
                        "last_used_at": _iso(t.last_used_at), "revoked": t.revoked} for t in tokens],
        "stories_written": [{"title": title, "kube": kube, "status": status.value, "created_at": _iso(created),
                             "published_at": _iso(published)} for title, status, created, published, kube in stories],
        "visit_reports_written": [{"kube": kube, "visited_on": _iso(visited), "version": version,
                                   "created_at": _iso(created)} for visited, version, created, kube in visits],
        "sourcing_requests": [{"item": r.item_name, "quantity": str(r.quantity), "unit": r.unit,
                               "status": r.status.value, "created_at": _iso(r.created_at)} for r in requests],
        "erasure_requests": [{"requested_at": _iso(e.requested_at), "status": e.status.value,
                              "handled_at": _iso(e.handled_at), "reason": e.reason} for e in erasures],
        # The search log records what was searched, never by whom: there is nothing of the user in it.
        "search_log": None,
    }
    if audit is not None:
        data["audit_log"] = audit
    return data


# --- Deletion requests ------------------------------------------------------------------------------


def _age(request: ErasureRequest, now: datetime) -> timedelta:
    return (request.handled_at or now) - request.requested_at


@dataclass(frozen=True)
class RequestRow:
    """A deletion request as an operator sees it: how old it is, whether it is past the 3x24 hours, and what
    still stops it (for those still waiting)."""

    request: ErasureRequest
    age: timedelta
    overdue: bool
    blockers: list[str]

    @property
    def hours(self) -> int:
        return int(self.age.total_seconds() // 3600)


def user_requests(session: Session, user: User) -> list[ErasureRequest]:
    """The user's own deletion requests, newest first."""
    return list(session.scalars(select(ErasureRequest).where(ErasureRequest.user_id == user.id)
                                .order_by(ErasureRequest.requested_at.desc(), ErasureRequest.id.desc())))


def pending_request(session: Session, user_id: int) -> ErasureRequest | None:
    return session.scalar(select(ErasureRequest).where(ErasureRequest.user_id == user_id,
                                                       ErasureRequest.status == ErasureStatus.REQUESTED))


def request_erasure(session: Session, user: User, password: str, *, now: datetime | None = None
                    ) -> ErasureRequest:
    """The signed-in user asks for their account to be deleted, confirming with their password."""
    if not user.is_authenticated or user.is_disabled:
        raise PermissionDenied(N_("Please sign in."))
    if not check_password_hash(user.password_hash, password or ""):
        raise ValidationError(N_("The password is wrong."), field="password")
    if pending_request(session, user.id) is not None:
        raise ConflictError(N_("You have already asked for your account to be deleted."))
    request = ErasureRequest(user_id=user.id, requested_at=now or utcnow(), status=ErasureStatus.REQUESTED)
    session.add(request)
    session.flush()
    return request


def withdraw_request(session: Session, user: User, request_id: int, *, now: datetime | None = None
                     ) -> ErasureRequest:
    """The user takes back their own request while it still waits."""
    request = session.get(ErasureRequest, request_id)
    if request is None or request.user_id != user.id:
        raise NotFoundError(N_("Request not found."))
    if request.status != ErasureStatus.REQUESTED:
        raise ConflictError(N_("This request was already handled."))
    request.status = ErasureStatus.WITHDRAWN
    request.handled_at = now or utcnow()
    request.handled_by_id = user.id
    session.flush()
    return request


def _require_operator(actor: User) -> None:
    if not actor.is_authenticated or actor.is_disabled or not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))


def erasure_blockers(session: Session, user_ids: Iterable[int]) -> dict[int, list[str]]:
    """{user id: what stops the deletion now (English msgids)}, for several users in four queries.

    A KUBE always needs its ketua and officers; an open order still has a KUBE waiting on its buyer (or the
    other way round); money still owed to the user (a refund not yet sent) or a running supply contract must
    be settled first."""
    ids = sorted(set(user_ids))
    found: dict[int, list[str]] = {uid: [] for uid in ids}
    if not ids:
        return found
    officers = session.execute(
        select(KubeMember.user_id, KubeMember.kube_id, KubeMember.role)
        .join(Kube, Kube.id == KubeMember.kube_id)
        .where(Kube.status.in_(ACTIVE_KUBE_STATUSES), KubeMember.role.in_(OFFICER_ROLES),
               KubeMember.kube_id.in_(select(KubeMember.kube_id).where(KubeMember.user_id.in_(ids))))
    ).all()
    by_kube: dict[int, list[tuple[int, MemberRole]]] = {}
    for uid, kube_id, role in officers:
        by_kube.setdefault(kube_id, []).append((uid, role))
    for people in by_kube.values():
        for uid, role in people:
            if uid in found and (role == MemberRole.KETUA or len(people) == 1):
                message = N_("You are the ketua or the only officer of an active KUBE: hand the role over first.")
                if message not in found[uid]:
                    found[uid].append(message)
    for (uid,) in session.execute(select(Order.buyer_id).where(Order.buyer_id.in_(ids),
                                                               Order.status.in_(OPEN_ORDER_STATUSES)).distinct()):
        found[uid].append(N_("You have orders that are not yet received or cancelled."))
    # A refund the card provider already has under way (its reference recorded) is theirs to finish: it needs
    # nothing from the user, so only refunds the platform still has to send hold the deletion up.
    with_provider = and_(Refund.provider != MANUAL_REFUND, Refund.external_id.is_not(None),
                         Refund.status.in_(PROVIDER_REFUND_UNDER_WAY))
    for (uid,) in session.execute(select(Checkout.buyer_id).join(Refund, Refund.checkout_id == Checkout.id)
                                  .where(Checkout.buyer_id.in_(ids), Refund.status != FINISHED_REFUND,
                                         ~with_provider).distinct()):
        found[uid].append(N_("A refund to you has not been paid out yet."))
    for (uid,) in session.execute(select(SupplyContract.order_taker_id)
                                  .where(SupplyContract.order_taker_id.in_(ids),
                                         SupplyContract.status == ContractStatus.ACTIVE).distinct()):
        found[uid].append(N_("You have supply contracts still running."))
    return found


def requests_for_operators(session: Session, actor: User, *, status: str | None = None, page: int = 1,
                           per_page: int = 50, now: datetime | None = None) -> Page[RequestRow]:
    """Deletion requests, waiting ones first (oldest first), with their age and what still stops them."""
    _require_operator(actor)
    now = now or utcnow()
    page, per_page = max(1, page), max(1, min(per_page, 100))
    stmt = select(ErasureRequest)
    if status in {s.value for s in ErasureStatus}:
        stmt = stmt.where(ErasureRequest.status == ErasureStatus(status))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    waiting_first = (ErasureRequest.status != ErasureStatus.REQUESTED)
    rows = session.scalars(stmt.options(joinedload(ErasureRequest.user), joinedload(ErasureRequest.handled_by))
                           .order_by(waiting_first, ErasureRequest.requested_at, ErasureRequest.id)
                           .limit(per_page).offset((page - 1) * per_page)).all()
    blockers = erasure_blockers(session, [r.user_id for r in rows if r.status == ErasureStatus.REQUESTED])
    items = [RequestRow(r, _age(r, now), r.status == ErasureStatus.REQUESTED and now - r.requested_at > ANSWER_WITHIN,
                        blockers.get(r.user_id, []) if r.status == ErasureStatus.REQUESTED else [])
             for r in rows]
    return Page(items, total, page, per_page)


def overdue_count(session: Session, actor: User, *, now: datetime | None = None) -> int:
    _require_operator(actor)
    limit = (now or utcnow()) - ANSWER_WITHIN
    return session.scalar(select(func.count(ErasureRequest.id)).where(
        ErasureRequest.status == ErasureStatus.REQUESTED, ErasureRequest.requested_at < limit)) or 0


def refuse_request(session: Session, actor: User, request_id: int, reason: str, *, now: datetime | None = None
                   ) -> ErasureRequest:
    """An operator refuses a waiting request and tells the user why."""
    _require_operator(actor)
    request = session.get(ErasureRequest, request_id)
    if request is None:
        raise NotFoundError(N_("Request not found."))
    if request.status != ErasureStatus.REQUESTED:
        raise ConflictError(N_("This request was already handled."))
    text = (reason or "").strip()
    if not text:
        raise ValidationError(N_("Tell the user why the request is refused."), field="reason")
    if len(text) > MAX_REASON:
        raise ValidationError(N_("Must be at most %(max)d characters."), field="reason", max=MAX_REASON)
    request.status = ErasureStatus.REFUSED
    request.reason = text
    request.handled_by_id = actor.id
    request.handled_at = now or utcnow()
    # The reason may quote the user's own words: it stays on the request, not in the log.
    audit.record(session, actor, "erasure.refused", ("user", request.user_id), request_id=request.id)
    session.flush()
    return request


def carry_out_request(session: Session, actor: User, request_id: int, *, now: datetime | None = None
                      ) -> ErasureRequest:
    """An operator carries out a waiting request (see erase_user)."""
    _require_operator(actor)
    request = session.get(ErasureRequest, request_id)
    if request is None:
        raise NotFoundError(N_("Request not found."))
    if request.status != ErasureStatus.REQUESTED:
        raise ConflictError(N_("This request was already handled."))
    erase_user(session, actor, request.user_id, now=now)
    return request


def erase_user(session: Session, actor: User, user_id: int, *, now: datetime | None = None) -> User:
    """Erase a user's personal data (an operator, on the user's request). Refused with the reasons while the
    user still holds a KUBE together, has open orders, or is owed money.

    Kept for the KUBEs' books, anonymised: orders (totals stay; name, phone, address and notes go), reviews
    (as a deleted user's), the membership of active KUBEs (without NIK). Gone: the profile (e-mail, name,
    phone), the password, sessions and API tokens, the cart, notifications, memberships of other KUBEs,
    facilitator assignments and roles. The e-mail address is free to sign up again."""
    _require_operator(actor)
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(N_("User not found."))
    if user.id == actor.id:
        raise PermissionDenied(N_("Another operator must carry out the deletion of your own account."))
    blockers = erasure_blockers(session, [user.id])[user.id]
    if blockers:
        raise ConflictError(blockers[0])
    uid = user.id
    # Orders stay in the KUBEs' books; who received them does not.
    session.execute(update(Order).where(Order.buyer_id == uid)
                    .values(recipient_name=DELETED_NAME, recipient_phone="", address=""))
    session.execute(update(OrderEvent).where(OrderEvent.actor_id == uid).values(note="", actor_id=None))
    session.execute(update(OrderMessage).where(OrderMessage.author_id == uid).values(body="", author_id=None))
    session.execute(update(ProductReview).where(ProductReview.buyer_id == uid).values(buyer_id=None))
    session.execute(update(KubeReview).where(KubeReview.buyer_id == uid).values(buyer_id=None))
    session.execute(update(Story).where(Story.author_id == uid).values(author_id=None))
    session.execute(delete(CartItem).where(CartItem.user_id == uid))
    session.execute(delete(Notification).where(Notification.user_id == uid))
    session.execute(delete(FacilitatorAssignment).where(FacilitatorAssignment.facilitator_id == uid))
    session.execute(update(ApiToken).where(ApiToken.user_id == uid).values(revoked=True))
    active = select(Kube.id).where(Kube.status.in_(ACTIVE_KUBE_STATUSES))
    session.execute(delete(KubeMember).where(KubeMember.user_id == uid, KubeMember.kube_id.not_in(active)))
    session.execute(update(KubeMember).where(KubeMember.user_id == uid).values(nik=None))
    session.execute(update(OrderTakerProfile).where(OrderTakerProfile.user_id == uid)
                    .values(npwp=None, address="", website=None))
    user.email = f"deleted-{uid}@invalid"
    user.name = DELETED_NAME
    user.phone = None
    user.locale = None
    user.password_hash = "!erased-" + secrets.token_hex(16)  # no password ever matches it
    user.is_disabled = True
    user.is_operator = user.is_facilitator = user.is_ministry = False
    user.auth_version += 1
    user.last_login_at = None
    waiting = list(session.scalars(select(ErasureRequest).where(ErasureRequest.user_id == uid,
                                                                ErasureRequest.status == ErasureStatus.REQUESTED)))
    if not waiting:  # carried out without a request on the site (asked in writing): keep the record all the same
        waiting = [ErasureRequest(user_id=uid, requested_at=now)]
        session.add(waiting[0])
    for request in waiting:
        request.status = ErasureStatus.DONE
        request.handled_by_id = actor.id
        request.handled_at = now
    session.flush()
    # Only the request's number: the log must not keep what the erasure removed.
    audit.record(session, actor, "user.erased", ("user", uid), request_id=waiting[0].id)
    session.flush()
    session.expire_all()
    return user
