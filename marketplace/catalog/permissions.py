"""Who may do what to a KUBE. Checked in the services, shown (not enforced) in templates.

- Officers (ketua, sekretaris, bendahara) manage their own KUBE's shop: profile, photo, members, bank account.
- Every member (anggota too) lists and edits the KUBE's products and stock.
- A facilitator acts only on assigned KUBEs: reviews (verifies the KUBE, approves products), helps manage.
- Every member (and an operator) handles the KUBE's incoming orders; a facilitator does not.
- An operator acts on all KUBEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.catalog.models import OFFICER_ROLES, FacilitatorAssignment, Kube, KubeMember
from marketplace.common import N_, NotFoundError, PermissionDenied


class Action(StrEnum):
    VIEW_PRIVATE = "view_private"  # see a non-public KUBE and its drafts
    EDIT_PRODUCTS = "edit_products"
    MANAGE_SHOP = "manage_shop"
    VIEW_BANK = "view_bank"
    EDIT_BANK = "edit_bank"
    REVIEW = "review"  # verify the KUBE, approve products, suspend
    HANDLE_ORDERS = "handle_orders"  # accept, ship and cancel the KUBE's orders
    VIEW_NIK = "view_nik"  # read and enter the members' NIK in full (others who see the members get it masked)


def member_role(session: Session, user: User | None, kube_id: int) -> KubeMember | None:
    if user is None or not user.is_authenticated:
        return None
    return session.scalar(
        select(KubeMember).where(KubeMember.kube_id == kube_id, KubeMember.user_id == user.id)
    )


def is_assigned_facilitator(session: Session, user: User | None, kube_id: int) -> bool:
    if user is None or not user.is_authenticated or not user.is_facilitator:
        return False
    found = session.scalar(
        select(FacilitatorAssignment.id).where(
            FacilitatorAssignment.kube_id == kube_id, FacilitatorAssignment.facilitator_id == user.id
        )
    )
    return found is not None


def allowed_actions(session: Session, user: User | None, kube: Kube) -> frozenset[Action]:
    """Everything `user` may do to `kube` (two small queries at most)."""
    if user is None or not user.is_authenticated or user.is_disabled:
        return frozenset()
    if user.is_operator:
        return frozenset(Action)
    actions: set[Action] = set()
    if is_assigned_facilitator(session, user, kube.id):
        actions |= {Action.VIEW_PRIVATE, Action.EDIT_PRODUCTS, Action.MANAGE_SHOP, Action.VIEW_BANK,
                    Action.REVIEW, Action.VIEW_NIK}
    membership = member_role(session, user, kube.id)
    if membership is not None:
        actions |= {Action.VIEW_PRIVATE, Action.EDIT_PRODUCTS, Action.HANDLE_ORDERS}
        if membership.role in OFFICER_ROLES:
            actions |= {Action.MANAGE_SHOP, Action.VIEW_BANK, Action.EDIT_BANK, Action.VIEW_NIK}
    return frozenset(actions)


def require(session: Session, user: User | None, kube: Kube, action: Action) -> None:
    """Raise unless `user` may do `action` to `kube`. Outsiders to a non-public KUBE get 404."""
    actions = allowed_actions(session, user, kube)
    if action in actions:
        return
    if not kube.is_public and Action.VIEW_PRIVATE not in actions:
        raise NotFoundError(N_("KUBE not found."))
    raise PermissionDenied(N_("You are not allowed to do this for this KUBE."))


@dataclass(frozen=True)
class Insider:
    """Someone with a place on a KUBE's private pages (cash book, visit reports): one of its members, a
    facilitator assigned to it, or an operator."""

    member: KubeMember | None
    facilitator: bool
    operator: bool

    @property
    def is_officer(self) -> bool:
        return self.member is not None and self.member.is_officer


def require_insider(session: Session, user: User | None, kube: Kube, refusal: str) -> Insider:
    """The user's place in the KUBE, or a refusal: 404 for a KUBE that is not public, else 403 with `refusal`."""
    if user is not None and user.is_authenticated and not user.is_disabled:
        found = Insider(member_role(session, user, kube.id), is_assigned_facilitator(session, user, kube.id),
                        user.is_operator)
        if found.member is not None or found.facilitator or found.operator:
            return found
    if not kube.is_public:
        raise NotFoundError(N_("KUBE not found."))
    raise PermissionDenied(refusal)
