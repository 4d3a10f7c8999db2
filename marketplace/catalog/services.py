"""The catalogue's rules: KUBEs, members, categories, products and photos. No flask here.

Every function that changes data takes the acting user and checks it (see permissions.py), validates
plain values, flushes and never commits: the view or command commits once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import astuple, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace import media, regions
from marketplace.audit import services as audit
from marketplace.auth.models import User
from marketplace.catalog.models import (
    OFFICER_ROLES,
    PUBLIC_KUBE_STATUSES,
    BusinessKind,
    Category,
    FacilitatorAssignment,
    Kube,
    KubeMember,
    KubeStatus,
    MemberRole,
    Product,
    ProductPhoto,
    ProductStatus,
    Unit,
)
from marketplace.catalog.permissions import Action, allowed_actions, require
from marketplace.catalog.permissions import member_role as membership_of
from marketplace.common import (
    N_,
    ConflictError,
    NotFoundError,
    Page,
    PermissionDenied,
    ValidationError,
    clean_int,
    clean_text,
    slugify,
    utcnow,
)
from marketplace.privacy.personal import clean_nik, mask_account, mask_nik
from marketplace.search import outbox

# A KUBE is 5-20 heads of household of one desa (Permensos 2/2019 on UEP aid to KUBE).
MIN_MEMBERS = 5
MAX_MEMBERS = 20
MAX_PHOTOS = 6
MAX_PRICE = 1_000_000_000  # Rp1 milyar per unit is far above anything a KUBE sells
MAX_STOCK = 10_000_000


@dataclass(frozen=True)
class ImageLimits:
    media_root: str
    max_bytes: int
    max_pixels: int


def _page_args(page: int, per_page: int, max_per_page: int = 100) -> tuple[int, int]:
    return max(1, page), min(max(1, per_page), max_per_page)


def _count(session: Session, stmt: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def _paginate(session: Session, stmt: Select[Any], page: int, per_page: int, total: int | None = None
              ) -> tuple[list[Any], int]:
    """One page of `stmt` and the whole list's total (counted unless given)."""
    if total is None:
        total = _count(session, stmt)
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return items, total


class TotalCache:
    """Totals of lists kept for `seconds` in this process: the "N products" of the public catalogue.

    Counting every published product of the public KUBEs costs more than the rest of the page on a large
    catalogue, and the home page and the product list ask for it on every request. The total (and so the
    number of pages) may lag up to `seconds` behind a product published, archived or sold out, in each app
    process on its own; the listed products themselves are always read fresh. No invalidation: a short
    life is simpler and right across processes. `now` (monotonic seconds) is for tests.
    """

    def __init__(self, seconds: float, max_entries: int = 1024) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._totals: dict[Hashable, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: float | None = None) -> int | None:
        now = time.monotonic() if now is None else now
        with self._lock:
            kept = self._totals.get(key)
        if kept is None or now >= kept[0]:
            return None
        return kept[1]

    def put(self, key: Hashable, total: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._totals) >= self.max_entries:  # many distinct filters (searches): start again
                self._totals = {k: v for k, v in self._totals.items() if v[0] > now}
                if len(self._totals) >= self.max_entries:
                    self._totals.clear()
            self._totals[key] = (now + self.seconds, total)


# --- Categories -------------------------------------------------------------------------------------


def category_tree(session: Session) -> list[Category]:
    """Top-level categories with their children loaded (two queries)."""
    return list(
        session.scalars(
            select(Category)
            .where(Category.parent_id.is_(None))
            .options(selectinload(Category.children))
            .order_by(Category.position, Category.id)
        )
    )


def category_by_slug(session: Session, slug: str) -> Category | None:
    return session.scalar(select(Category).where(Category.slug == slug))


def category_ids(session: Session, category: Category) -> list[int]:
    """The category and its sub-categories."""
    ids = [category.id]
    ids += list(session.scalars(select(Category.id).where(Category.parent_id == category.id)))
    return ids


def save_category(
    session: Session,
    actor: User,
    *,
    name_id: str,
    name_en: str,
    parent_id: int | None = None,
    icon: str = "",
    position: int = 0,
    category_id: int | None = None,
) -> Category:
    """An operator creates or renames a category (two levels at most)."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    category = session.get(Category, category_id) if category_id else Category()
    if category is None:
        raise NotFoundError(N_("Category not found."))
    category.name_id = clean_text(name_id, field="name_id", max_length=80)
    category.name_en = clean_text(name_en, field="name_en", max_length=80)
    category.icon = clean_text(icon, field="icon", max_length=8, required=False)
    category.position = clean_int(position, field="position", minimum=0, maximum=10_000)
    if parent_id:
        parent = session.get(Category, parent_id)
        if parent is None or parent.parent_id is not None or parent.id == category.id:
            raise ValidationError(N_("Choose a top-level category as parent."), field="parent_id")
        if category.id and category.children:
            raise ValidationError(N_("A category with sub-categories must stay top-level."),
                                  field="parent_id")
        category.parent_id = parent.id
    else:
        category.parent_id = None
    siblings = select(Category.id).where(
        Category.parent_id.is_(None) if category.parent_id is None else Category.parent_id == category.parent_id,
        or_(func.lower(Category.name_id) == category.name_id.lower(),
            func.lower(Category.name_en) == category.name_en.lower()),
    )
    if category.id is not None:
        siblings = siblings.where(Category.id != category.id)
    with session.no_autoflush:
        if session.scalar(siblings.limit(1)) is not None:
            raise ConflictError(N_("A category with this name already exists here."), field="name_id")
    if category.id is None:
        base = slugify(category.name_en or category.name_id, 70)
        category.slug = _unique_slug(session, base, lambda s: select(Category.id).where(Category.slug == s))
        session.add(category)
    session.flush()
    return category


def delete_category(session: Session, actor: User, category_id: int) -> None:
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    category = session.get(Category, category_id)
    if category is None:
        raise NotFoundError(N_("Category not found."))
    in_use = session.scalar(select(func.count(Product.id)).where(Product.category_id == category.id))
    if in_use or category.children:
        raise ConflictError(N_("This category still has products or sub-categories."))
    session.delete(category)
    session.flush()


def _unique_slug(session: Session, base: str, exists: Any) -> str:
    slug, n = base, 2
    while session.scalar(exists(slug)) is not None:
        slug = f"{base}-{n}"
        n += 1
    return slug


# --- KUBEs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KubeCard:
    kube: Kube
    product_count: int


def public_kubes(
    session: Session,
    *,
    province: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 24,
) -> Page[KubeCard]:
    """The KUBE directory: verified and active KUBEs, filterable, with published-product counts."""
    page, per_page = _page_args(page, per_page)
    stmt = select(Kube).where(Kube.status.in_(PUBLIC_KUBE_STATUSES))
    if province:
        stmt = stmt.where(Kube.province_code == province)
    if kind:
        if kind not in {k.value for k in BusinessKind}:
            raise ValidationError(N_("Unknown business kind."), field="kind")
        stmt = stmt.where(Kube.business_kind == BusinessKind(kind))
    if q:
        stmt = stmt.where(func.lower(Kube.name).contains(q.strip().lower(), autoescape=True))
    kubes, total = _paginate(session, stmt.order_by(Kube.name, Kube.id), page, per_page)
    counts = _published_counts(session, [k.id for k in kubes])
    return Page([KubeCard(k, counts.get(k.id, 0)) for k in kubes], total, page, per_page)


def _published_counts(session: Session, kube_ids: list[int]) -> dict[int, int]:
    if not kube_ids:
        return {}
    rows = session.execute(
        select(Product.kube_id, func.count(Product.id))
        .where(Product.kube_id.in_(kube_ids), Product.status == ProductStatus.PUBLISHED)
        .group_by(Product.kube_id)
    )
    return {kube_id: count for kube_id, count in rows}


def provinces_with_kubes(session: Session) -> list[regions.Region]:
    """Provinces that have at least one public KUBE (for the directory filter)."""
    codes = session.scalars(
        select(Kube.province_code).where(Kube.status.in_(PUBLIC_KUBE_STATUSES)).distinct()
    )
    found = [regions.region(c) for c in codes]
    return sorted((r for r in found if r), key=lambda r: r.name)


def kube_by_slug(session: Session, slug: str, viewer: User | None = None) -> Kube:
    """A KUBE page: public KUBEs for everyone, others only for its members, facilitators and operators."""
    kube = session.scalar(
        select(Kube).where(Kube.slug == slug).options(selectinload(Kube.members).joinedload(KubeMember.user))
    )
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    if not kube.is_public and Action.VIEW_PRIVATE not in allowed_actions(session, viewer, kube):
        raise NotFoundError(N_("KUBE not found."))
    return kube


def get_kube(session: Session, kube_id: int) -> Kube:
    kube = session.get(Kube, kube_id)
    if kube is None:
        raise NotFoundError(N_("KUBE not found."))
    return kube


@dataclass
class KubeInput:
    name: str
    village_code: str
    business_kind: str
    address: str = ""
    founded_on: date | None = None
    story: str = ""
    phone: str | None = None


def _apply_kube_input(kube: Kube, data: KubeInput) -> None:
    kube.name = clean_text(data.name, field="name", max_length=120)
    path = regions.resolve_village(data.village_code)
    kube.province_code, kube.regency_code = path.province_code, path.regency_code
    kube.district_code, kube.village_code = path.district_code, path.village_code
    if data.business_kind not in {k.value for k in BusinessKind}:
        raise ValidationError(N_("Choose a business kind."), field="business_kind")
    kube.business_kind = BusinessKind(data.business_kind)
    kube.address = clean_text(data.address, field="address", max_length=255, required=False)
    # "Today" anywhere in Indonesia: WIT (UTC+9) is the first to reach the next day.
    if data.founded_on is not None and data.founded_on > (utcnow() + timedelta(hours=9)).date():
        raise ValidationError(N_("The founding date cannot be in the future."), field="founded_on")
    kube.founded_on = data.founded_on
    kube.story = clean_text(data.story, field="story", max_length=5000, required=False)
    kube.phone = clean_text(data.phone, field="phone", max_length=30, required=False) or None


def create_kube(session: Session, actor: User, data: KubeInput) -> Kube:
    """A facilitator (who is then assigned to it) or an operator registers a new KUBE as a draft."""
    if not (actor.is_facilitator or actor.is_operator):
        raise PermissionDenied(N_("Only facilitators and operators can register a KUBE."))
    kube = Kube(status=KubeStatus.DRAFT)
    _apply_kube_input(kube, data)
    kube.slug = _unique_slug(session, slugify(kube.name, 120), lambda s: select(Kube.id).where(Kube.slug == s))
    session.add(kube)
    if actor.is_facilitator:
        session.add(FacilitatorAssignment(kube=kube, facilitator_id=actor.id))
    session.flush()
    return kube


def update_kube(session: Session, actor: User, kube_id: int, data: KubeInput) -> Kube:
    """Officers, the facilitator or an operator edit the KUBE's profile (the slug stays stable)."""
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.MANAGE_SHOP)
    _apply_kube_input(kube, data)
    session.flush()
    return kube


MAX_DELIVERY_FEE = 10_000_000


@dataclass(frozen=True)
class DeliveryOptions:
    """How a KUBE delivers: pickup at the KUBE and/or a courier (a base fee plus a fee per started kg)."""

    pickup_enabled: bool
    courier_enabled: bool
    courier_base_fee: object
    courier_fee_per_kg: object


def update_delivery_options(session: Session, actor: User, kube_id: int, options: DeliveryOptions) -> Kube:
    """Officers, the facilitator or an operator set the KUBE's delivery options (fees in whole Rupiah)."""
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.MANAGE_SHOP)
    if not (options.pickup_enabled or options.courier_enabled):
        raise ValidationError(N_("Offer pickup, courier delivery or both."), field="pickup_enabled")
    kube.courier_base_fee = clean_int(options.courier_base_fee, field="courier_base_fee", minimum=0,
                                      maximum=MAX_DELIVERY_FEE)
    kube.courier_fee_per_kg = clean_int(options.courier_fee_per_kg, field="courier_fee_per_kg", minimum=0,
                                        maximum=MAX_DELIVERY_FEE)
    kube.pickup_enabled = options.pickup_enabled
    kube.courier_enabled = options.courier_enabled
    session.flush()
    return kube


def set_kube_photo(session: Session, actor: User, kube_id: int, data: bytes, limits: ImageLimits) -> Kube:
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.MANAGE_SHOP)
    stored = media.store_image(
        data, limits.media_root, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, field="photo"
    )
    media.keep_if_committed(session, limits.media_root, stored.key)
    if kube.photo_key:
        media.delete_when_committed(session, limits.media_root, kube.photo_key)
    kube.photo_key = stored.key
    session.flush()
    return kube


def update_bank_account(
    session: Session, actor: User, kube_id: int, *, bank_name: str, account_number: str, account_holder: str
) -> Kube:
    """The group's payout account (its own account, as UEP aid is paid into it)."""
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.EDIT_BANK)
    before = {"bank_name": kube.bank_name, "account_number": kube.bank_account_number,
              "account_holder": kube.bank_account_holder}
    kube.bank_name = clean_text(bank_name, field="bank_name", max_length=60)
    number = clean_text(account_number, field="account_number", max_length=34).replace(" ", "").replace("-", "")
    if not number.isdigit() or not 6 <= len(number) <= 20:
        raise ValidationError(N_("An account number has 6 to 20 digits."), field="account_number")
    kube.bank_account_number = number
    kube.bank_account_holder = clean_text(account_holder, field="account_holder", max_length=120)
    changed = audit.changes(before, {"bank_name": kube.bank_name, "account_number": kube.bank_account_number,
                                     "account_holder": kube.bank_account_holder})
    if changed:
        audit.record(session, actor, "bank_account.changed", kube, **changed)
    session.flush()
    return kube


def _transition_kube(kube: Kube, allowed_from: tuple[KubeStatus, ...], to: KubeStatus) -> None:
    if kube.status not in allowed_from:
        raise ConflictError(
            N_("A KUBE in status '%(status)s' cannot become '%(to)s'."), status=kube.status, to=to
        )
    kube.status = to


def verification_problems(members: Sequence[KubeMember]) -> list[ValidationError]:
    """What stops a KUBE with these members from being verified: a ketua and 5 member households."""
    problems = []
    if not any(m.role == MemberRole.KETUA for m in members):
        problems.append(ValidationError(N_("Add the KUBE's ketua as a member before verifying it.")))
    if len(members) < MIN_MEMBERS:
        problems.append(ValidationError(
            N_("A KUBE needs at least %(n)d member households before it is verified (it has %(have)d)."),
            n=MIN_MEMBERS, have=len(members),
        ))
    return problems


def verify_kube(session: Session, actor: User, kube_id: int) -> Kube:
    """The assigned facilitator (or an operator) verifies a draft KUBE; it then becomes public."""
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.REVIEW)
    members = session.scalars(select(KubeMember).where(KubeMember.kube_id == kube.id)).all()
    problems = verification_problems(members)
    if problems:
        raise problems[0]
    _transition_kube(kube, (KubeStatus.DRAFT,), KubeStatus.VERIFIED)
    kube.verified_at = utcnow()
    kube.verified_by_id = actor.id
    audit.record(session, actor, "kube.verified", kube, status={"from": "draft", "to": "verified"})
    session.flush()
    return kube


def activate_kube(session: Session, actor: User, kube_id: int) -> Kube:
    """Officers open a verified KUBE's shop; reviewers lift a suspension the same way."""
    kube = get_kube(session, kube_id)
    if kube.status == KubeStatus.SUSPENDED:
        require(session, actor, kube, Action.REVIEW)
    else:
        require(session, actor, kube, Action.MANAGE_SHOP)
    was = kube.status
    _transition_kube(kube, (KubeStatus.VERIFIED, KubeStatus.SUSPENDED), KubeStatus.ACTIVE)
    audit.record(session, actor, "kube.reactivated" if was == KubeStatus.SUSPENDED else "kube.activated", kube,
                 status={"from": was, "to": kube.status})
    session.flush()
    return kube


def suspend_kube(session: Session, actor: User, kube_id: int) -> Kube:
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.REVIEW)
    was = kube.status
    _transition_kube(kube, (KubeStatus.VERIFIED, KubeStatus.ACTIVE), KubeStatus.SUSPENDED)
    audit.record(session, actor, "kube.suspended", kube, status={"from": was, "to": kube.status})
    session.flush()
    return kube


def add_member(session: Session, actor: User, kube_id: int, *, email: str, role: str,
               nik: str | None = None) -> KubeMember:
    """Add a signed-up user to the KUBE with a role (and their NIK, when known); one ketua, sekretaris and
    bendahara each."""
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.MANAGE_SHOP)
    member_role = _parse_role(role)
    cleaned_nik = clean_nik(nik)
    if cleaned_nik is not None:
        require(session, actor, kube, Action.VIEW_NIK)
        _check_nik_free(session, kube.id, cleaned_nik, exclude_id=None)
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFoundError(
            N_("No account uses this e-mail. Ask the member to sign up first."), field="email"
        )
    members = session.scalars(select(KubeMember).where(KubeMember.kube_id == kube.id)).all()
    if any(m.user_id == user.id for m in members):
        raise ConflictError(N_("This person is already a member."), field="email")
    assigned = session.scalar(
        select(FacilitatorAssignment.id).where(
            FacilitatorAssignment.kube_id == kube.id, FacilitatorAssignment.facilitator_id == user.id
        )
    )
    if assigned is not None:
        raise ConflictError(N_("This KUBE's facilitator cannot also be one of its members."), field="email")
    if len(members) >= MAX_MEMBERS:
        raise ConflictError(N_("A KUBE has at most %(n)d members."), field="email", n=MAX_MEMBERS)
    _check_officer_free(members, member_role, exclude_id=None)
    if member_role == MemberRole.KETUA and Action.REVIEW not in allowed_actions(session, actor, kube):
        # A KUBE without a ketua gets one from its facilitator, never from the remaining officers.
        raise PermissionDenied(N_("Only the ketua or the facilitator can hand over the chair."))
    member = KubeMember(kube_id=kube.id, user_id=user.id, role=member_role, nik=cleaned_nik)
    session.add(member)
    audit.record(session, actor, "kube_member.added", ("user", user.id), kube_id=kube.id, role=member_role)
    session.flush()
    return member


def _check_nik_free(session: Session, kube_id: int, nik: str, exclude_id: int | None) -> None:
    """A household is in a KUBE once: two members of one KUBE never share a NIK."""
    stmt = select(KubeMember.id).where(KubeMember.kube_id == kube_id, KubeMember.nik == nik)
    if exclude_id is not None:
        stmt = stmt.where(KubeMember.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise ConflictError(N_("Another member of this KUBE has this NIK."), field="nik")


def set_member_nik(session: Session, actor: User, member_id: int, nik: str | None) -> KubeMember:
    """Officers, the KUBE's facilitators and operators enter or correct a member's NIK (empty clears it)."""
    member = session.get(KubeMember, member_id)
    if member is None:
        raise NotFoundError(N_("Member not found."))
    require(session, actor, member.kube, Action.VIEW_NIK)
    cleaned = clean_nik(nik)
    if cleaned is not None:
        _check_nik_free(session, member.kube_id, cleaned, exclude_id=member.id)
    member.nik = cleaned
    session.flush()
    return member


def member_niks(session: Session, viewer: User | None, kube: Kube) -> dict[int, str]:
    """{member id: NIK as this viewer may see it}: in full for the KUBE's officers, its facilitators and
    operators (and for a member's own NIK), masked for the other members, nothing for anyone else.
    Members come from the poverty register: UU PDP 27/2022 makes their NIK sensitive personal data."""
    actions = allowed_actions(session, viewer, kube)
    if Action.VIEW_PRIVATE not in actions:
        return {}
    full = Action.VIEW_NIK in actions
    viewer_id = viewer.id if viewer is not None else None
    rows = session.execute(
        select(KubeMember.id, KubeMember.user_id, KubeMember.nik)
        .where(KubeMember.kube_id == kube.id, KubeMember.nik.is_not(None))
    )
    return {member_id: nik if full or user_id == viewer_id else mask_nik(nik)
            for member_id, user_id, nik in rows if nik}


@dataclass(frozen=True)
class BankAccountView:
    """A KUBE's payout account as one viewer sees it: the number masked (all but its last 4 digits) unless
    `full` was asked for by a page that needs it and the viewer is one of the KUBE's officers."""

    bank_name: str | None
    account_number: str
    account_holder: str | None
    masked: bool

    @property
    def is_set(self) -> bool:
        return bool(self.account_number)


def bank_account_view(session: Session, viewer: User | None, kube: Kube, *, full: bool = False
                      ) -> BankAccountView | None:
    """The payout account for those who may see it (officers, the facilitator, operators), else None.
    Personal financial data (UU PDP 27/2022): masked wherever the full number is not needed."""
    if Action.VIEW_BANK not in allowed_actions(session, viewer, kube):
        return None
    membership = membership_of(session, viewer, kube.id)
    show_full = full and membership is not None and membership.is_officer
    number = kube.bank_account_number or ""
    return BankAccountView(kube.bank_name, number if show_full else mask_account(number),
                           kube.bank_account_holder, masked=not show_full and bool(number))


def change_member_role(session: Session, actor: User, member_id: int, role: str) -> KubeMember:
    """Officers change members' roles. The chair (ketua) is handed over only by the ketua, the
    facilitator or an operator, and officers never change their own role."""
    member = session.get(KubeMember, member_id)
    if member is None:
        raise NotFoundError(N_("Member not found."))
    require(session, actor, member.kube, Action.MANAGE_SHOP)
    new_role = _parse_role(role)
    reviewer = Action.REVIEW in allowed_actions(session, actor, member.kube)
    others = session.scalars(select(KubeMember).where(KubeMember.kube_id == member.kube_id)).all()
    if member.role == MemberRole.KETUA and new_role != MemberRole.KETUA:
        raise ValidationError(
            N_("A KUBE always has a ketua: make another member ketua to hand the role over."), field="role"
        )
    if member.user_id == actor.id and not reviewer:
        raise PermissionDenied(N_("You cannot change your own role: ask the ketua or your facilitator."))
    if new_role == MemberRole.KETUA and member.role != MemberRole.KETUA:
        actor_is_ketua = any(m.user_id == actor.id and m.role == MemberRole.KETUA for m in others)
        if not (reviewer or actor_is_ketua):
            raise PermissionDenied(N_("Only the ketua or the facilitator can hand over the chair."))
        # Handing over the chair: the previous ketua stays in the group as anggota.
        for other in others:
            if other.role == MemberRole.KETUA:
                audit.record(session, actor, "kube_member.role_changed", ("user", other.user_id),
                             kube_id=other.kube_id, role={"from": other.role, "to": MemberRole.ANGGOTA})
                other.role = MemberRole.ANGGOTA
    else:
        _check_officer_free(others, new_role, exclude_id=member.id)
    if member.role != new_role:
        audit.record(session, actor, "kube_member.role_changed", ("user", member.user_id),
                     kube_id=member.kube_id, role={"from": member.role, "to": new_role})
    member.role = new_role
    session.flush()
    return member


def remove_member(session: Session, actor: User, member_id: int) -> None:
    """Officers remove members; only the facilitator or an operator removes the ketua."""
    member = session.get(KubeMember, member_id)
    if member is None:
        raise NotFoundError(N_("Member not found."))
    require(session, actor, member.kube, Action.MANAGE_SHOP)
    if member.role == MemberRole.KETUA and Action.REVIEW not in allowed_actions(session, actor, member.kube):
        raise ValidationError(N_("Choose a new ketua before removing this one."))
    audit.record(session, actor, "kube_member.removed", ("user", member.user_id), kube_id=member.kube_id,
                 role=member.role)
    session.delete(member)
    session.flush()


def _is_member(session: Session, kube_id: int, user_id: int) -> bool:
    found = session.scalar(
        select(KubeMember.id).where(KubeMember.kube_id == kube_id, KubeMember.user_id == user_id)
    )
    return found is not None


def _parse_role(role: str) -> MemberRole:
    if role not in {r.value for r in MemberRole}:
        raise ValidationError(N_("Choose a role."), field="role")
    return MemberRole(role)


def _check_officer_free(members: Any, role: MemberRole, exclude_id: int | None) -> None:
    if role not in OFFICER_ROLES:
        return
    if any(m.role == role and m.id != exclude_id for m in members):
        raise ConflictError(N_("This KUBE already has a %(role)s."), field="role", role=role)


def assign_facilitator(session: Session, actor: User, kube_id: int, facilitator_id: int) -> None:
    """An operator assigns a facilitator to a KUBE."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    kube = get_kube(session, kube_id)
    facilitator = session.get(User, facilitator_id)
    if facilitator is None or not facilitator.is_facilitator:
        raise ValidationError(N_("Choose a user with the facilitator role."), field="facilitator_id")
    if _is_member(session, kube.id, facilitator.id):
        # A facilitator reviews the group's work; nobody reviews their own KUBE.
        raise ValidationError(N_("A member of this KUBE cannot be its facilitator."), field="facilitator_id")
    exists = session.scalar(
        select(FacilitatorAssignment.id).where(
            FacilitatorAssignment.kube_id == kube.id, FacilitatorAssignment.facilitator_id == facilitator.id
        )
    )
    if exists is None:
        session.add(FacilitatorAssignment(kube_id=kube.id, facilitator_id=facilitator.id))
        audit.record(session, actor, "facilitator.assigned", facilitator, kube_id=kube.id)
        session.flush()


def unassign_facilitator(session: Session, actor: User, kube_id: int, facilitator_id: int) -> None:
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    assignment = session.scalar(
        select(FacilitatorAssignment).where(
            FacilitatorAssignment.kube_id == kube_id, FacilitatorAssignment.facilitator_id == facilitator_id
        )
    )
    if assignment is not None:
        audit.record(session, actor, "facilitator.unassigned", ("user", facilitator_id), kube_id=kube_id)
        session.delete(assignment)
        session.flush()


def kubes_of_member(session: Session, user: User) -> list[KubeMember]:
    """The user's memberships with their KUBEs (for "my KUBE")."""
    return list(
        session.scalars(
            select(KubeMember)
            .where(KubeMember.user_id == user.id)
            .options(joinedload(KubeMember.kube))
            .order_by(KubeMember.id)
        )
    )


def kubes_of_facilitator(session: Session, user: User) -> list[Kube]:
    """The KUBEs assigned to a facilitator (all KUBEs for an operator)."""
    stmt = select(Kube).order_by(Kube.name)
    if not user.is_operator:
        stmt = stmt.join(FacilitatorAssignment).where(FacilitatorAssignment.facilitator_id == user.id)
    return list(session.scalars(stmt))


# --- Products ---------------------------------------------------------------------------------------

PRODUCT_FIELDS = {
    "name", "description", "category_id", "category", "unit", "price", "stock", "min_order_qty",
    "weight_grams",
}
# Changing what a buyer reads sends a published product back to review; price and stock do not.
CONTENT_FIELDS = {"name", "description", "category_id", "unit"}


def _clean_product_fields(session: Session, fields: Mapping[str, object]) -> dict[str, Any]:
    unknown = set(fields) - PRODUCT_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationError(N_("Unknown field '%(name)s'."), field=name, name=name)
    out: dict[str, Any] = {}
    if "name" in fields:
        out["name"] = clean_text(fields["name"], field="name", max_length=120)
    if "description" in fields:
        out["description"] = clean_text(fields["description"], field="description", max_length=5000,
                                        required=False)
    if "category" in fields or "category_id" in fields:
        category: Category | None = None
        if "category_id" in fields:
            raw = fields["category_id"]
            cid = clean_int(raw, field="category_id", minimum=1, maximum=2**31 - 1) if raw not in (None, "") \
                else None
            category = session.get(Category, cid) if cid else None
            field = "category_id"
        else:
            category = category_by_slug(session, str(fields["category"] or ""))
            field = "category"
        if category is None:
            raise ValidationError(N_("Choose a category."), field=field)
        out["category_id"] = category.id
    if "unit" in fields:
        if fields["unit"] not in {u.value for u in Unit}:
            raise ValidationError(N_("Choose a unit."), field="unit")
        out["unit"] = Unit(str(fields["unit"]))
    if "price" in fields:
        out["price"] = clean_int(fields["price"], field="price", minimum=0, maximum=MAX_PRICE)
    if "stock" in fields:
        out["stock"] = clean_int(fields["stock"], field="stock", minimum=0, maximum=MAX_STOCK)
    if "min_order_qty" in fields:
        out["min_order_qty"] = clean_int(fields["min_order_qty"], field="min_order_qty", minimum=1,
                                         maximum=MAX_STOCK)
    if "weight_grams" in fields:
        out["weight_grams"] = clean_int(fields["weight_grams"], field="weight_grams", minimum=0,
                                        maximum=1_000_000)
    return out


def create_product(
    session: Session, actor: User, kube_id: int, fields: Mapping[str, object], *, submit: bool = False
) -> Product:
    """A member adds a product to their KUBE as a draft (or straight to review with submit=True)."""
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.EDIT_PRODUCTS)
    if kube.status == KubeStatus.SUSPENDED:
        raise ConflictError(N_("This KUBE is suspended; its products cannot be changed."))
    missing = [f for f in ("name", "unit", "price") if f not in fields]
    if "category" not in fields and "category_id" not in fields:
        missing.append("category_id")
    if missing:
        raise ValidationError(N_("This field is required."), field=missing[0])
    values = _clean_product_fields(session, fields)
    product = Product(kube_id=kube.id, status=ProductStatus.DRAFT, created_by_id=actor.id,
                      stock=0, min_order_qty=1, weight_grams=0, description="")
    for key, value in values.items():
        setattr(product, key, value)
    product.slug = _unique_slug(
        session,
        slugify(product.name, 120),
        lambda s: select(Product.id).where(Product.kube_id == kube.id, Product.slug == s),
    )
    session.add(product)
    session.flush()
    if submit:
        submit_product(session, actor, product.id)
    return product


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFoundError(N_("Product not found."))
    return product


def _editable_product(session: Session, actor: User, product_id: int) -> tuple[Product, frozenset[Action]]:
    product = get_product(session, product_id)
    actions = allowed_actions(session, actor, product.kube)
    if Action.EDIT_PRODUCTS not in actions:
        if not product.is_public and Action.VIEW_PRIVATE not in actions:
            raise NotFoundError(N_("Product not found."))
        raise PermissionDenied(N_("You are not allowed to do this for this KUBE."))
    if product.kube.status == KubeStatus.SUSPENDED and not actor.is_operator:
        raise ConflictError(N_("This KUBE is suspended; its products cannot be changed."))
    return product, actions


def update_product(session: Session, actor: User, product_id: int, fields: Mapping[str, object],
                   *, shown_stock: int | None = None) -> Product:
    """Edit a product. Content changes to a published product send it back to review.

    `shown_stock` is the stock the member's form showed: orders may have taken some since, so the member's
    change is applied as a difference (20 -> 30 adds 10 to whatever is left) and an unchanged field leaves
    the stock alone; without it (the API) the stock is set as given."""
    product, actions = _editable_product(session, actor, product_id)
    if product.status == ProductStatus.ARCHIVED:
        raise ConflictError(N_("Restore the product before editing it."))
    values = _clean_product_fields(session, fields)
    if shown_stock is not None and "stock" in values:
        _change_stock(session, product, values.pop("stock") - shown_stock)
    content_changed = any(
        key in CONTENT_FIELDS and getattr(product, key) != value for key, value in values.items()
    )
    if "price" in values and values["price"] != product.price:
        audit.record(session, actor, "product.price_changed", product,
                     price={"from": product.price, "to": values["price"]})
    for key, value in values.items():
        setattr(product, key, value)
    if content_changed and product.status == ProductStatus.PUBLISHED and Action.REVIEW not in actions:
        product.status = ProductStatus.PENDING_REVIEW
        product.submitted_at = utcnow()
    session.flush()
    return product


def set_stock(session: Session, actor: User, product_id: int, stock: object,
              *, shown_stock: int | None = None) -> Product:
    return update_product(session, actor, product_id, {"stock": stock}, shown_stock=shown_stock)


def _change_stock(session: Session, product: Product, delta: int) -> None:
    """Add `delta` to the stock in one conditional UPDATE (a checkout may be reserving at the same time)."""
    if delta == 0:
        return
    changed = session.execute(
        update(Product).where(Product.id == product.id, Product.stock + delta >= 0, Product.stock + delta <= MAX_STOCK)
        .values(stock=Product.stock + delta).execution_options(synchronize_session=False)
    )
    session.expire(product, ["stock"])
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            N_("Orders took some of the stock meanwhile: it is now %(stock)s. Check it and save again."),
            field="stock", stock=product.stock)
    outbox.enqueue(session, "product", [product.id])


def submit_product(session: Session, actor: User, product_id: int) -> Product:
    """draft -> pending_review: ask the facilitator to approve it."""
    product, _ = _editable_product(session, actor, product_id)
    if product.status != ProductStatus.DRAFT:
        raise ConflictError(N_("Only a draft can be sent for review."))
    if product.price <= 0:
        raise ValidationError(N_("Set a price before sending the product for review."), field="price")
    product.status = ProductStatus.PENDING_REVIEW
    product.submitted_at = utcnow()
    product.review_note = None
    session.flush()
    return product


def archive_product(session: Session, actor: User, product_id: int) -> Product:
    product, _ = _editable_product(session, actor, product_id)
    if product.status == ProductStatus.ARCHIVED:
        raise ConflictError(N_("The product is already archived."))
    product.status = ProductStatus.ARCHIVED
    session.flush()
    return product


def restore_product(session: Session, actor: User, product_id: int) -> Product:
    """archived -> draft (it must be reviewed again before it is public)."""
    product, _ = _editable_product(session, actor, product_id)
    if product.status != ProductStatus.ARCHIVED:
        raise ConflictError(N_("Only an archived product can be restored."))
    product.status = ProductStatus.DRAFT
    session.flush()
    return product


def approve_product(session: Session, actor: User, product_id: int) -> Product:
    """pending_review -> published, by the KUBE's facilitator or an operator."""
    product = get_product(session, product_id)
    require(session, actor, product.kube, Action.REVIEW)
    if product.status != ProductStatus.PENDING_REVIEW:
        raise ConflictError(N_("Only a product waiting for review can be approved."))
    product.status = ProductStatus.PUBLISHED
    product.published_at = product.published_at or utcnow()
    product.reviewed_by_id = actor.id
    product.review_note = None
    audit.record(session, actor, "product.approved", product, status={"from": "pending_review", "to": "published"})
    session.flush()
    return product


def reject_product(session: Session, actor: User, product_id: int, note: str) -> Product:
    """pending_review -> draft with a note telling the members what to fix."""
    product = get_product(session, product_id)
    require(session, actor, product.kube, Action.REVIEW)
    if product.status != ProductStatus.PENDING_REVIEW:
        raise ConflictError(N_("Only a product waiting for review can be sent back."))
    product.review_note = clean_text(note, field="note", max_length=1000)
    product.status = ProductStatus.DRAFT
    product.reviewed_by_id = actor.id
    audit.record(session, actor, "product.rejected", product, status={"from": "pending_review", "to": "draft"},
                 note=product.review_note)
    session.flush()
    return product


def add_product_photo(
    session: Session, actor: User, product_id: int, data: bytes, limits: ImageLimits
) -> ProductPhoto:
    product, actions = _editable_product(session, actor, product_id)
    if len(product.photos) >= MAX_PHOTOS:
        raise ConflictError(N_("A product has at most %(n)d photos."), field="photo", n=MAX_PHOTOS)
    stored = media.store_image(
        data, limits.media_root, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, field="photo"
    )
    media.keep_if_committed(session, limits.media_root, stored.key)
    position = max((p.position for p in product.photos), default=-1) + 1
    photo = ProductPhoto(key=stored.key, width=stored.width, height=stored.height, position=position)
    product.photos.append(photo)
    if product.status == ProductStatus.PUBLISHED and Action.REVIEW not in actions:
        product.status = ProductStatus.PENDING_REVIEW
        product.submitted_at = utcnow()
    session.flush()
    return photo


def make_main_photo(session: Session, actor: User, photo_id: int) -> ProductPhoto:
    """Put a photo first: the first photo is the one buyers see on cards and at the top of the page."""
    photo = session.get(ProductPhoto, photo_id)
    if photo is None:
        raise NotFoundError(N_("Photo not found."))
    product, _ = _editable_product(session, actor, photo.product_id)
    ordered = [photo] + [p for p in product.photos if p.id != photo.id]
    for position, item in enumerate(ordered):
        item.position = position
    session.flush()
    session.refresh(product, ["photos"])  # the relationship is ordered by position
    return photo


def remove_product_photo(session: Session, actor: User, photo_id: int, media_root: str | Path) -> None:
    photo = session.get(ProductPhoto, photo_id)
    if photo is None:
        raise NotFoundError(N_("Photo not found."))
    _editable_product(session, actor, photo.product_id)
    media.delete_when_committed(session, media_root, photo.key)
    session.delete(photo)
    session.flush()


# --- Reading the catalogue --------------------------------------------------------------------------

SORTS = {"newest", "price_asc", "price_desc", "name"}


@dataclass
class ProductFilters:
    kube: str | None = None  # KUBE slug
    category: str | None = None  # category slug (a parent includes its children)
    province: str | None = None  # province code, e.g. "72"
    min_price: int | None = None
    max_price: int | None = None
    q: str | None = None
    sort: str = "newest"
    in_stock: bool = False


def _public_products_stmt() -> Select[tuple[Product]]:
    return (
        select(Product)
        .join(Product.kube)
        .where(Product.status == ProductStatus.PUBLISHED, Kube.status.in_(PUBLIC_KUBE_STATUSES))
        .options(
            joinedload(Product.kube), joinedload(Product.category), selectinload(Product.photos)
        )
    )


def public_products(
    session: Session, filters: ProductFilters, *, page: int = 1, per_page: int = 24,
    totals: TotalCache | None = None, now: float | None = None,
) -> Page[Product]:
    """Published products of public KUBEs, filtered and sorted (a constant number of queries).

    With `totals`, the list's total comes from that cache while it is fresh (see TotalCache: it may lag
    behind by the cache's life); `now` is the cache's clock, for tests.
    """
    page, per_page = _page_args(page, per_page)
    stmt = _public_products_stmt()
    if filters.kube:
        stmt = stmt.where(Kube.slug == filters.kube)
    if filters.category:
        category = category_by_slug(session, filters.category)
        if category is None:
            return Page([], 0, page, per_page)
        stmt = stmt.where(Product.category_id.in_(category_ids(session, category)))
    if filters.province:
        stmt = stmt.where(Kube.province_code == filters.province)
    if filters.min_price is not None:
        stmt = stmt.where(Product.price >= filters.min_price)
    if filters.max_price is not None:
        stmt = stmt.where(Product.price <= filters.max_price)
    if filters.in_stock:
        stmt = stmt.where(Product.stock > 0)
    if filters.q:
        words = filters.q.strip().lower().split()[:8]
        for word in words:
            stmt = stmt.where(
                or_(
                    func.lower(Product.name).contains(word, autoescape=True),
                    func.lower(Product.description).contains(word, autoescape=True),
                    func.lower(Kube.name).contains(word, autoescape=True),
                )
            )
    if filters.sort not in SORTS:
        raise ValidationError(N_("Unknown sort order."), field="sort")
    order: tuple[Any, Any] = {
        "newest": (Product.published_at.desc(), Product.id.desc()),
        "price_asc": (Product.price.asc(), Product.id.asc()),
        "price_desc": (Product.price.desc(), Product.id.desc()),
        "name": (Product.name.asc(), Product.id.asc()),
    }[filters.sort]
    stmt = stmt.order_by(*order)
    key = astuple(replace(filters, sort="newest"))  # the order does not change the total
    total = totals.get(key, now) if totals is not None else None
    if total is None:
        total = _count(session, stmt)
        if totals is not None:
            totals.put(key, total, now)
    items, total = _paginate(session, stmt, page, per_page, total)
    return Page(items, total, page, per_page)


def product_for_viewer(session: Session, product_id: int, viewer: User | None) -> Product:
    """A product page: public products for everyone; drafts only for its KUBE's people and reviewers."""
    product = session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .options(joinedload(Product.kube), joinedload(Product.category), selectinload(Product.photos))
    )
    if product is None:
        raise NotFoundError(N_("Product not found."))
    if not product.is_public and Action.VIEW_PRIVATE not in allowed_actions(session, viewer, product.kube):
        raise NotFoundError(N_("Product not found."))
    return product


def kube_products(
    session: Session, actor: User, kube_id: int, *, status: str | None = None, page: int = 1, per_page: int = 24
) -> Page[Product]:
    """A page of a KUBE's products for its dashboard (members, facilitator, operator), last changed first."""
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.EDIT_PRODUCTS)
    stmt = (
        select(Product)
        .where(Product.kube_id == kube.id)
        .options(joinedload(Product.category), selectinload(Product.photos))
        .order_by(Product.updated_at.desc(), Product.id.desc())
    )
    if status:
        if status not in {s.value for s in ProductStatus}:
            raise ValidationError(N_("Unknown status."), field="status")
        stmt = stmt.where(Product.status == ProductStatus(status))
    page, per_page = _page_args(page, per_page)
    items, total = _paginate(session, stmt, page, per_page)
    return Page(items, total, page, per_page)


def product_of_kube(session: Session, actor: User, kube_id: int, product_id: int) -> Product:
    """One product of the KUBE for its edit page; a product of another KUBE is "not found"."""
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.EDIT_PRODUCTS)
    product = session.scalar(
        select(Product)
        .where(Product.id == product_id, Product.kube_id == kube.id)
        .options(joinedload(Product.category), selectinload(Product.photos))
    )
    if product is None:
        raise NotFoundError(N_("Product not found."))
    return product


def product_status_counts(session: Session, actor: User, kube_id: int) -> dict[ProductStatus, int]:
    """How many of the KUBE's products are in each status (every status present, zero included)."""
    kube = get_kube(session, kube_id)
    require(session, actor, kube, Action.EDIT_PRODUCTS)
    counts = dict.fromkeys(ProductStatus, 0)
    for status, count in session.execute(
        select(Product.status, func.count(Product.id))
        .where(Product.kube_id == kube.id)
        .group_by(Product.status)
    ):
        counts[status] = count
    return counts


def facilitator_users(session: Session, actor: User) -> list[User]:
    """Users with the facilitator role (for an operator assigning them to KUBEs)."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    stmt = select(User).where(User.is_facilitator.is_(True)).order_by(User.name, User.id)
    return list(session.scalars(stmt))


def facilitator_assignments(session: Session, actor: User) -> list[FacilitatorAssignment]:
    """Every facilitator assignment with its KUBE and facilitator loaded (operators only)."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    return list(
        session.scalars(
            select(FacilitatorAssignment)
            .join(FacilitatorAssignment.kube)
            .options(joinedload(FacilitatorAssignment.kube), joinedload(FacilitatorAssignment.facilitator))
            .order_by(Kube.name, FacilitatorAssignment.id)
        )
    )


@dataclass(frozen=True)
class OperatorOverview:
    kubes: dict[KubeStatus, int]
    products: dict[ProductStatus, int]
    users: int
    facilitators: int
    categories: int


def operator_overview(session: Session, actor: User) -> OperatorOverview:
    """Counts for the operator's start page (a handful of aggregate queries)."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    kubes = dict.fromkeys(KubeStatus, 0)
    for kube_status, count in session.execute(select(Kube.status, func.count(Kube.id)).group_by(Kube.status)):
        kubes[kube_status] = count
    products = dict.fromkeys(ProductStatus, 0)
    for product_status, count in session.execute(
        select(Product.status, func.count(Product.id)).group_by(Product.status)
    ):
        products[product_status] = count
    return OperatorOverview(
        kubes=kubes,
        products=products,
        users=session.scalar(select(func.count(User.id))) or 0,
        facilitators=session.scalar(select(func.count(User.id)).where(User.is_facilitator.is_(True))) or 0,
        categories=session.scalar(select(func.count(Category.id))) or 0,
    )


@dataclass(frozen=True)
class ReviewQueue:
    kubes: list[Kube]
    products: list[Product]
    kube_problems: dict[int, list[ValidationError]]  # why a KUBE cannot be verified yet (empty: it can)


def review_queue(session: Session, actor: User) -> ReviewQueue:
    """Draft KUBEs and products waiting for review, of the actor's KUBEs (all KUBEs for an operator)."""
    if not (actor.is_facilitator or actor.is_operator):
        raise PermissionDenied(N_("Only facilitators and operators review."))
    kube_stmt = select(Kube).where(Kube.status == KubeStatus.DRAFT).options(selectinload(Kube.members))
    product_stmt = (
        select(Product)
        .join(Product.kube)
        .where(Product.status == ProductStatus.PENDING_REVIEW)
        .options(joinedload(Product.kube), joinedload(Product.category), selectinload(Product.photos))
    )
    if not actor.is_operator:
        assigned = select(FacilitatorAssignment.kube_id).where(FacilitatorAssignment.facilitator_id == actor.id)
        kube_stmt = kube_stmt.where(Kube.id.in_(assigned))
        product_stmt = product_stmt.where(Product.kube_id.in_(assigned))
    kubes = list(session.scalars(kube_stmt.order_by(Kube.created_at)))
    return ReviewQueue(
        kubes=kubes,
        products=list(session.scalars(product_stmt.order_by(Product.submitted_at, Product.id)).unique()),
        kube_problems={kube.id: verification_problems(kube.members) for kube in kubes},
    )


@dataclass(frozen=True)
class HomePage:
    new_products: list[Product]
    kubes: list[KubeCard]
    categories: list[Category]
    product_count: int
    kube_count: int
    province_count: int


def home_page(session: Session, totals: TotalCache | None = None, now: float | None = None) -> HomePage:
    """The home page's newest products, KUBEs and figures; the product total from `totals` if given."""
    products = public_products(session, ProductFilters(sort="newest"), per_page=12, totals=totals, now=now)
    kubes = session.scalars(
        select(Kube)
        .where(Kube.status.in_(PUBLIC_KUBE_STATUSES))
        .order_by(Kube.verified_at.desc().nulls_last(), Kube.id)
        .limit(8)
    ).all()
    counts = _published_counts(session, [k.id for k in kubes])
    public = Kube.status.in_(PUBLIC_KUBE_STATUSES)
    return HomePage(
        new_products=products.items,
        kubes=[KubeCard(k, counts.get(k.id, 0)) for k in kubes],
        categories=category_tree(session),
        product_count=products.total,
        kube_count=session.scalar(select(func.count(Kube.id)).where(public)) or 0,
        province_count=session.scalar(select(func.count(func.distinct(Kube.province_code))).where(public)) or 0,
    )
