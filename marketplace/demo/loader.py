"""Load the demo content of data.py into a database session. No flask here.

Idempotent: everything is looked up by its natural key (category and KUBE slug, e-mail, product slug
within its KUBE) and only what is missing is created; existing rows are left as they are. Orders have no
natural key: the demo orders are placed once, when none of the demo buyers has an order yet. They go
through the real services (checkout, payment, packing, shipping, receipt, reviews), so the KUBE ledger,
the notifications and the reviews are what real use would make. The caller commits once.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from werkzeug.security import generate_password_hash

from marketplace import media, regions
from marketplace.auth.models import OrderTakerProfile, User
from marketplace.catalog.models import (
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
from marketplace.common import slugify, utcnow
from marketplace.demo import data, images
from marketplace.demo.chains import load_chain
from marketplace.demo.field import load_field
from marketplace.demo.history import load_history
from marketplace.demo.sourcing import load_sourcing
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderStatus
from marketplace.reviews import services as reviews

# Generous limits: the pictures are ours, but they go through the same checks as uploads.
_MAX_IMAGE_BYTES = 8 * 1024 * 1024
_MAX_IMAGE_PIXELS = 40_000_000
_ROLES = (MemberRole.KETUA, MemberRole.SEKRETARIS, MemberRole.BENDAHARA)
_PUBLISHED_WITHIN = timedelta(days=60)
# How long after an order is placed each later step of its history happened (paid, packed, sent, received).
_ORDER_STEPS = (timedelta(hours=3), timedelta(hours=8), timedelta(days=1), timedelta(days=3, hours=6))


@dataclass(frozen=True)
class SignIn:
    email: str
    role: str


@dataclass(frozen=True)
class DemoSummary:
    """Totals in the database after loading, what this run created, and the sign-ins to try."""

    categories: int
    users: int
    kubes: int
    products: int
    photos: int
    created: dict[str, int]
    seconds: float
    password: str = data.DEMO_PASSWORD
    sign_ins: tuple[SignIn, ...] = field(
        default_factory=lambda: tuple(SignIn(email, role) for email, role in data.SIGN_IN_ORDER)
    )

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


class _Loader:
    def __init__(self, session: Session, media_root: str, image_scale: float, now: datetime) -> None:
        self.session = session
        self.media_root = media_root
        self.now = now
        self.rng = random.Random(20190212)  # fixed: the same dates and stock on every fresh load
        self.product_size = _scaled(images.PRODUCT_SIZE, image_scale)
        self.banner_size = _scaled(images.BANNER_SIZE, image_scale)
        self.created: dict[str, int] = dict.fromkeys(
            ("categories", "users", "kubes", "members", "assignments", "products", "photos", "order_takers", "orders",
             "reviews"), 0
        )
        self.categories: dict[str, Category] = {}
        self.top_slug: dict[str, str] = {}  # category slug -> its top-level slug (for the picture's colours)
        self._password_hash: str | None = None

    # --- helpers ------------------------------------------------------------------------------------

    @property
    def password_hash(self) -> str:
        # One hash for every demo account: hashing ~120 passwords one by one with scrypt adds ~10 s.
        if self._password_hash is None:
            self._password_hash = generate_password_hash(data.DEMO_PASSWORD)
        return self._password_hash

    def store(self, picture: bytes) -> media.StoredImage:
        stored = media.store_image(picture, self.media_root, max_bytes=_MAX_IMAGE_BYTES, max_pixels=_MAX_IMAGE_PIXELS)
        media.keep_if_committed(self.session, self.media_root, stored.key)  # gone again on a rollback
        self.created["photos"] += 1
        return stored

    def days_ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))

    def user(
        self,
        email: str,
        name: str,
        *,
        phone: str | None = None,
        is_facilitator: bool = False,
        is_operator: bool = False,
        is_ministry: bool = False,
        created_at: datetime | None = None,
    ) -> User:
        user = self.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email,
                name=name,
                phone=phone,
                password_hash=self.password_hash,
                is_facilitator=is_facilitator,
                is_operator=is_operator,
                is_ministry=is_ministry,
                locale="id",
                created_at=created_at or self.days_ago(90, 150),
            )
            self.session.add(user)
            self.created["users"] += 1
        return user

    # --- steps --------------------------------------------------------------------------------------

    def load_categories(self) -> None:
        for position, top in enumerate(data.CATEGORIES):
            parent = self.category(top, None, position)
            for child_position, child in enumerate(top.children):
                self.category(child, parent, child_position)
                self.top_slug[child.slug] = top.slug
            self.top_slug[top.slug] = top.slug
        self.session.flush()

    def category(self, item: data.CategoryData, parent: Category | None, position: int) -> Category:
        category = self.session.scalar(select(Category).where(Category.slug == item.slug))
        if category is None:
            category = Category(
                slug=item.slug,
                name_id=item.name_id,
                name_en=item.name_en,
                icon=item.icon,
                position=position,
                parent=parent,
            )
            self.session.add(category)
            self.created["categories"] += 1
        self.categories[item.slug] = category
        return category

    def load_platform_users(self) -> dict[str, User]:
        users = {
            item.email: self.user(
                item.email,
                item.name,
                phone=item.phone,
                is_facilitator=item.is_facilitator,
                is_operator=item.is_operator,
                is_ministry=item.is_ministry,
                created_at=self.days_ago(150, 200),
            )
            for item in data.PLATFORM_USERS
        }
        self.session.flush()
        for taker in data.ORDER_TAKERS:
            user = users[taker.email]
            if user.order_taker_profile is None:
                self.session.add(
                    OrderTakerProfile(
                        user=user,
                        company_name=taker.company_name,
                        business_field=taker.business_field,
                        npwp=taker.npwp,
                        address=taker.address,
                        province_code=taker.province_code,
                        website=taker.website,
                    )
                )
                self.created["order_takers"] += 1
        return users

    def load_kube(self, item: data.KubeData, facilitators: dict[str, User]) -> None:
        slug = slugify(item.name)
        path = regions.resolve_village(item.village_code)  # refuses a code that does not exist
        facilitator = facilitators[item.facilitator]
        kube = self.session.scalar(select(Kube).where(Kube.slug == slug))
        if kube is None:
            status = KubeStatus(item.status)
            created_at = self.days_ago(75, 120)
            kube = Kube(
                name=item.name,
                slug=slug,
                province_code=path.province_code,
                regency_code=path.regency_code,
                district_code=path.district_code,
                village_code=path.village_code,
                address=item.address,
                business_kind=BusinessKind(item.business_kind),
                founded_on=item.founded_on,
                story=item.story,
                phone=item.phone,
                bank_name=item.bank_name,
                bank_account_number=item.bank_account_number,
                bank_account_holder=item.name,
                status=status,
                created_at=created_at,
            )
            if status != KubeStatus.DRAFT:
                kube.verified_at = created_at + timedelta(days=self.rng.uniform(2, 10))
                kube.verified_by_id = facilitator.id
            self.session.add(kube)
            self.session.flush()
            self.created["kubes"] += 1

        members = self.load_members(kube, item)
        if (
            self.session.scalar(
                select(FacilitatorAssignment.id).where(
                    FacilitatorAssignment.kube_id == kube.id, FacilitatorAssignment.facilitator_id == facilitator.id
                )
            )
            is None
        ):
            self.session.add(
                FacilitatorAssignment(kube_id=kube.id, facilitator_id=facilitator.id, assigned_at=kube.created_at)
            )
            self.created["assignments"] += 1

        place = _place(path)
        if kube.photo_key is None:
            picture = images.kube_banner(kube.name, place, scene=item.scene, size=self.banner_size)
            kube.photo_key = self.store(picture).key
        for product in item.products:
            self.load_product(kube, product, members[0], facilitator, place)
        self.session.flush()

    def load_members(self, kube: Kube, item: data.KubeData) -> list[User]:
        key = slugify(item.name).removeprefix("kube-")
        existing = {m.user_id: m for m in self.session.scalars(select(KubeMember).where(KubeMember.kube_id == kube.id))}
        taken = {m.role for m in existing.values()}
        users: list[User] = []
        for index, member in enumerate(item.members):
            email = member.email or f"{slugify(member.name).replace('-', '.')}.{key}@{data.EMAIL_DOMAIN}"
            user = self.user(email, member.name, phone=_phone(email), created_at=kube.created_at)
            self.session.flush()
            users.append(user)
            nik = _nik(kube.district_code, index)
            if user.id in existing:
                if existing[user.id].nik is None:  # a demo loaded before members had a NIK
                    existing[user.id].nik = nik
                continue
            role = _ROLES[index] if index < len(_ROLES) and _ROLES[index] not in taken else MemberRole.ANGGOTA
            taken.add(role)
            self.session.add(KubeMember(kube_id=kube.id, user_id=user.id, role=role, joined_at=kube.created_at,
                                        nik=nik))
            self.created["members"] += 1
        return users

    def load_product(self, kube: Kube, item: data.ProductData, creator: User, reviewer: User, place: str) -> None:
        slug = slugify(item.name)
        product = self.session.scalar(select(Product).where(Product.kube_id == kube.id, Product.slug == slug))
        if product is None:
            category = self.categories[item.category]
            product = Product(
                kube_id=kube.id,
                category_id=category.id,
                name=item.name,
                slug=slug,
                description=item.description,
                unit=Unit(item.unit),
                price=item.price,
                stock=item.stock,
                min_order_qty=item.min_order_qty,
                weight_grams=item.weight_grams,
                status=ProductStatus(item.status),
                created_by_id=creator.id,
            )
            self.set_dates(product, reviewer)
            self.session.add(product)
            self.session.flush()
            self.created["products"] += 1
        if product.photos:
            return
        category = self.categories[item.category]
        for variant in range(item.photos):
            picture = images.product_image(
                item.name,
                motif=item.motif,
                colour=item.color,
                category_slug=self.top_slug[item.category],
                category_label=category.name_id,
                subtitle=f"{kube.name} · {place}",
                variant=variant,
                size=self.product_size,
            )
            stored = self.store(picture)
            product.photos.append(
                ProductPhoto(
                    key=stored.key,
                    width=stored.width,
                    height=stored.height,
                    position=variant,
                    created_at=product.created_at,
                )
            )

    def load_orders(self, users: dict[str, User], fee_bps: int) -> None:
        """The demo orders and their reviews, placed once: nothing when a demo buyer already has an order."""
        buyer_ids = sorted({users[item.buyer].id for item in data.DEMO_ORDERS})
        if self.session.scalar(select(Checkout.id).where(Checkout.buyer_id.in_(buyer_ids)).limit(1)) is not None:
            return
        operator = next(user for user in users.values() if user.is_operator)
        for item in data.DEMO_ORDERS:
            self.order(item, users[item.buyer], operator, fee_bps)
        self.session.flush()

    def order(self, item: data.DemoOrderData, buyer: User, operator: User, fee_bps: int) -> None:
        kube = self.session.scalar(select(Kube).where(Kube.slug == slugify(item.kube)))
        assert kube is not None, item.kube
        products = {p.name: p for p in self.session.scalars(select(Product).where(Product.kube_id == kube.id))}
        seller = self.session.scalar(
            select(User).join(KubeMember, KubeMember.user_id == User.id)
            .where(KubeMember.kube_id == kube.id, KubeMember.role == MemberRole.KETUA)
        )
        assert seller is not None, item.kube
        placed = self.now - timedelta(days=item.days_ago)
        delivery = (orders.Delivery("courier", buyer.name, buyer.phone or "", data.BUYER_ADDRESSES[buyer.email])
                    if item.courier else orders.Delivery())
        checkout = orders.place_checkout(
            self.session, buyer, [(products[name].id, quantity) for name, quantity in item.items],
            payment_method="manual", delivery=delivery, now=placed, fee_bps=fee_bps,
        )
        order = checkout.orders[0]
        orders.confirm_payment(self.session, operator, checkout.id, now=placed + _ORDER_STEPS[0])
        orders.accept_order(self.session, seller, order.id)
        orders.ship_order(self.session, seller, order.id, courier="JNE",
                          tracking_number=f"JP{self.rng.randint(10**9, 10**10 - 1)}")
        if item.status == OrderStatus.DELIVERED.value:
            orders.confirm_received(self.session, buyer, order.id)
        last = self.backdate(order, placed)
        self.created["orders"] += 1
        lines = {line.product_name: line.id for line in order.lines}
        product_reviews = item.product_reviews or (None,) * len(item.items)
        rated = {lines[name]: review for (name, _qty), review in zip(item.items, product_reviews, strict=True)
                 if review is not None}
        if item.kube_review is None and not rated:
            return
        kube_rating, kube_body = item.kube_review or ("", "")
        done = reviews.submit_review(self.session, buyer, order.id, kube_rating, kube_body, rated,
                                     now=min(self.now, last + timedelta(hours=self.rng.uniform(2, 30))))
        self.created["reviews"] += len(done.product_reviews) + (done.kube_review is not None)

    def backdate(self, order: Order, placed: datetime) -> datetime:
        """The services stamp the later steps with the time of loading: spread them after the order was placed
        instead (never later than now). Returns the time of the last step."""
        self.session.flush()
        events = list(self.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                                           .order_by(OrderEvent.id)))
        when = placed
        for event, step in zip(events[1:], _ORDER_STEPS, strict=False):
            when = min(self.now - timedelta(minutes=30), placed + step)
            event.created_at = when
        order.updated_at = when
        return when

    def set_dates(self, product: Product, reviewer: User) -> None:
        """Published products spread over the last 60 days; the review queue is a few days old."""
        status = product.status
        if status in (ProductStatus.PUBLISHED, ProductStatus.ARCHIVED):
            published = self.now - self.rng.uniform(0.02, 1.0) * _PUBLISHED_WITHIN
            if status == ProductStatus.ARCHIVED:
                published -= timedelta(days=30)
            product.published_at = published
            product.submitted_at = published - timedelta(hours=self.rng.uniform(3, 48))
            product.created_at = product.submitted_at - timedelta(days=self.rng.uniform(0.5, 5))
            product.reviewed_by_id = reviewer.id
            product.updated_at = published
        elif status == ProductStatus.PENDING_REVIEW:
            product.submitted_at = self.days_ago(0.1, 6)
            product.created_at = product.submitted_at - timedelta(days=self.rng.uniform(0.2, 3))
            product.updated_at = product.submitted_at
        else:
            product.created_at = self.days_ago(1, 20)
            product.updated_at = product.created_at


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return (max(40, round(size[0] * scale)), max(30, round(size[1] * scale)))


def _place(path: regions.RegionPath) -> str:
    """'Bugis, Batui, Kab. Banggai' for a picture's caption."""
    regency = regions.name(path.regency_code).replace("Kabupaten ", "Kab. ")
    return f"{regions.name(path.village_code)}, {regions.name(path.district_code)}, {regency}"


def _nik(district_code: str, index: int) -> str:
    """A made-up but plausible NIK for the demo's `index`-th member of a KUBE: the kecamatan's code
    ("72.01.01" -> "720101"), a birth date (women's day + 40, as on real NIKs) drawn from the code and the
    index, and a running number. Stable from one load to the next."""
    rng = random.Random(f"{district_code}/{index}")
    day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
    born = f"{day:02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}"
    return district_code.replace(".", "") + born + f"{index + 1:04d}"


def _phone(seed: str) -> str:
    """A made-up but stable mobile number, 08xx-xxxx-xxxx."""
    rng = random.Random(seed)
    prefix = rng.choice(("0812", "0813", "0821", "0822", "0852", "0853", "0857", "0878"))
    return f"{prefix}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"


def _count(session: Session, column: InstrumentedAttribute[int]) -> int:
    return session.scalar(select(func.count(column))) or 0


def load_demo(
    session: Session,
    media_root: str | Path,
    *,
    image_scale: float = 1.0,
    now: datetime | None = None,
    fee_bps: int = 0,
    private_media_root: str | Path | None = None,
    history: bool = True,
) -> DemoSummary:
    """Create whatever part of the demo content is missing (flushes, never commits).

    `image_scale` draws smaller pictures (tests use it); the counts stay the same. `history=False` leaves out
    the 18 months of past orders (tests that do not read them load much faster). `fee_bps` is the platform's
    fee on the demo orders (the app's PLATFORM_FEE_BPS). If anything fails, the error is raised and the
    caller's rollback deletes the pictures written so far.
    """
    started = time.perf_counter()
    loader = _Loader(session, str(media_root), image_scale, now or utcnow())
    loader.load_categories()
    users = loader.load_platform_users()
    for item in data.KUBES:
        loader.load_kube(item, users)
    session.flush()
    loader.load_orders(users, fee_bps)
    loader.created["supply chains"] = load_chain(session)
    loader.created["sourcing requests"] = load_sourcing(session, loader.now, fee_bps)
    if history:
        loader.created["history orders"] = load_history(session, loader.now, fee_bps)
    # Visit photos are private (the app's PRIVATE_MEDIA_ROOT, by default next to the public media).
    private = private_media_root or Path(media_root).parent / "private-media"
    loader.created["visit reports and stories"] = load_field(session, loader.now, media_root, private,
                                                            image_scale=image_scale)
    return DemoSummary(
        categories=_count(session, Category.id),
        users=_count(session, User.id),
        kubes=_count(session, Kube.id),
        products=_count(session, Product.id),
        photos=_count(session, ProductPhoto.id),
        created=loader.created,
        seconds=time.perf_counter() - started,
    )
