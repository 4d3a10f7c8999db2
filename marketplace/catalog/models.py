"""KUBEs, their members and facilitators, categories, products and photos."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common import UTCDateTime, utcnow
from marketplace.extensions import db

if TYPE_CHECKING:
    from marketplace.auth.models import User


def _enum(cls: type[StrEnum], name: str) -> Enum:
    """Store an enum as its lowercase value in a VARCHAR (no native enum types to migrate)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class KubeStatus(StrEnum):
    DRAFT = "draft"
    VERIFIED = "verified"
    ACTIVE = "active"
    SUSPENDED = "suspended"


PUBLIC_KUBE_STATUSES = (KubeStatus.VERIFIED, KubeStatus.ACTIVE)


class BusinessKind(StrEnum):
    PRODUCTION = "production"
    SERVICES = "services"
    TRADE = "trade"


class MemberRole(StrEnum):
    """Officers are chosen by the members (Permensos 2/2019); the rest are anggota."""

    KETUA = "ketua"
    SEKRETARIS = "sekretaris"
    BENDAHARA = "bendahara"
    ANGGOTA = "anggota"


OFFICER_ROLES = (MemberRole.KETUA, MemberRole.SEKRETARIS, MemberRole.BENDAHARA)


class ProductStatus(StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Unit(StrEnum):
    KG = "kg"
    LITER = "liter"
    PCS = "pcs"
    PAK = "pak"
    IKAT = "ikat"
    KARUNG = "karung"
    BOTOL = "botol"


class Kube(db.Model):  # type: ignore[name-defined]
    """A Kelompok Usaha Bersama: 5-20 households of one desa running one business together."""

    __tablename__ = "kubes"
    __table_args__ = (Index("ix_kubes_status_province", "status", "province_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    # Kemendagri codes: province "72", kabupaten/kota "72.01", kecamatan "72.01.01", desa "72.01.01.1006".
    province_code: Mapped[str] = mapped_column(String(2))
    regency_code: Mapped[str] = mapped_column(String(5), index=True)
    district_code: Mapped[str] = mapped_column(String(8))
    village_code: Mapped[str] = mapped_column(String(13))
    address: Mapped[str] = mapped_column(String(255), default="")
    business_kind: Mapped[BusinessKind] = mapped_column(_enum(BusinessKind, "business_kind"))
    founded_on: Mapped[date | None] = mapped_column(Date)
    story: Mapped[str] = mapped_column(Text, default="")
    photo_key: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(30))
    bank_name: Mapped[str | None] = mapped_column(String(60))
    bank_account_number: Mapped[str | None] = mapped_column(String(34))
    bank_account_holder: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[KubeStatus] = mapped_column(_enum(KubeStatus, "kube_status"), default=KubeStatus.DRAFT)
    # Delivery options each KUBE sets for its own orders: pickup at the KUBE, and/or a courier whose fee is
    # a base fee plus a fee per started kilogram (whole Rupiah).
    pickup_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    courier_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    courier_base_fee: Mapped[int] = mapped_column(BigInteger, default=10_000, server_default="10000")
    courier_fee_per_kg: Mapped[int] = mapped_column(BigInteger, default=4_000, server_default="4000")
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    members: Mapped[list[KubeMember]] = relationship(
        back_populates="kube", cascade="all, delete-orphan", order_by="KubeMember.id"
    )
    facilitator_assignments: Mapped[list[FacilitatorAssignment]] = relationship(
        back_populates="kube", cascade="all, delete-orphan"
    )
    products: Mapped[list[Product]] = relationship(back_populates="kube")

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_KUBE_STATUSES

    def __repr__(self) -> str:
        return f"<Kube {self.slug} {self.status}>"


class KubeMember(db.Model):  # type: ignore[name-defined]
    """A household's place in a KUBE, with its role."""

    __tablename__ = "kube_members"
    __table_args__ = (
        UniqueConstraint("kube_id", "user_id", name="uq_kube_members_kube_user"),
        UniqueConstraint("kube_id", "nik", name="uq_kube_members_kube_nik"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "member_role"), default=MemberRole.ANGGOTA)
    # The household's NIK as in the poverty register (DTKS), which members are drawn from. Sensitive personal
    # data (UU PDP 27/2022): only the KUBE's officers, its facilitators and operators read it in full
    # (catalog.services.member_niks); never logged, indexed, exported in reports or insights.
    nik: Mapped[str | None] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kube: Mapped[Kube] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")

    @property
    def is_officer(self) -> bool:
        return self.role in OFFICER_ROLES


class FacilitatorAssignment(db.Model):  # type: ignore[name-defined]
    """A pendamping sosial assigned to a KUBE (Permensos 2/2019 art. 9)."""

    __tablename__ = "facilitator_assignments"
    __table_args__ = (
        UniqueConstraint("kube_id", "facilitator_id", name="uq_facilitator_assignments_kube_facilitator"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="CASCADE"))
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kube: Mapped[Kube] = relationship(back_populates="facilitator_assignments")
    facilitator: Mapped[User] = relationship(back_populates="facilitator_assignments")


class Category(db.Model):  # type: ignore[name-defined]
    """A small two-level tree of product categories, named in Indonesian and English."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_id: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    icon: Mapped[str] = mapped_column(String(8), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent", order_by="Category.position")

    def name_for(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_id


class Product(db.Model):  # type: ignore[name-defined]
    """Something a KUBE sells. Prices in whole Rupiah; weight in grams per unit."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("kube_id", "slug", name="uq_products_kube_slug"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("min_order_qty >= 1", name="min_order_positive"),
        CheckConstraint("weight_grams >= 0", name="weight_not_negative"),
        Index("ix_products_status_created", "status", "created_at"),
        # The catalogue's default order (newest first): without it PostgreSQL sorts every published product
        # for each page (150 ms at 100,000 products; 0.2 ms with it).
        Index("ix_products_status_published", "status", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kube_id: Mapped[int] = mapped_column(ForeignKey("kubes.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140))
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[Unit] = mapped_column(_enum(Unit, "unit"))
    price: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    min_order_qty: Mapped[int] = mapped_column(Integer, default=1)
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ProductStatus] = mapped_column(
        _enum(ProductStatus, "product_status"), default=ProductStatus.DRAFT
    )
    review_note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    kube: Mapped[Kube] = relationship(back_populates="products")
    category: Mapped[Category] = relationship()
    photos: Mapped[list[ProductPhoto]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductPhoto.position"
    )

    @property
    def is_public(self) -> bool:
        return self.status == ProductStatus.PUBLISHED and self.kube.is_public

    @property
    def main_photo(self) -> ProductPhoto | None:
        return self.photos[0] if self.photos else None

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.slug} {self.status}>"


class ProductPhoto(db.Model):  # type: ignore[name-defined]
    """A product photo, re-encoded without EXIF, with a thumbnail (see marketplace.media)."""

    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship(back_populates="photos")
