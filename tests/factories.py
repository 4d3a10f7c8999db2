"""Test data builders. They add and flush; the caller commits when it needs to."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

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
    ProductStatus,
    Unit,
)
from marketplace.chains.models import ChainProcess, ProcessFlow, ProcessKube, SupplyChain

PASSWORD = "correct-horse-9"
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # fast to check in tests
_seq = count(1)

BANGGAI_VILLAGE = "72.01.01.1006"  # Bugis, Batui, Kabupaten Banggai, Sulawesi Tengah
BANDUNG_VILLAGE = "32.04.05.2001"  # Cileunyi Kulon, Cileunyi, Kabupaten Bandung


def email_of(who: str) -> str:
    return f"{who}@test.pasarkube"


def make_user(session: Session, who: str | None = None, **fields: object) -> User:
    who = who or f"user{next(_seq)}"
    user = User(email=email_of(who), name=fields.pop("name", who.replace("_", " ").title()),
                password_hash=_HASH, **fields)
    session.add(user)
    session.flush()
    return user


def make_category(session: Session, slug: str | None = None, parent: Category | None = None) -> Category:
    slug = slug or f"cat-{next(_seq)}"
    category = Category(slug=slug, name_id=slug.title(), name_en=slug.title(), parent=parent)
    session.add(category)
    session.flush()
    return category


def make_kube(
    session: Session,
    name: str | None = None,
    *,
    status: KubeStatus = KubeStatus.ACTIVE,
    village: str = BANGGAI_VILLAGE,
    members: list[tuple[User, MemberRole]] | None = None,
    facilitators: list[User] | None = None,
) -> Kube:
    name = name or f"KUBE {next(_seq)}"
    parts = village.split(".")
    kube = Kube(
        name=name, slug=name.lower().replace(" ", "-"), province_code=parts[0],
        regency_code=".".join(parts[:2]), district_code=".".join(parts[:3]), village_code=village,
        business_kind=BusinessKind.PRODUCTION, status=status, story="Kami mengolah kelapa.",
        bank_name="BRI", bank_account_number="0123456789012", bank_account_holder=f"{name} group",
    )
    session.add(kube)
    session.flush()
    for user, role in members or []:
        session.add(KubeMember(kube_id=kube.id, user_id=user.id, role=role))
    for facilitator in facilitators or []:
        session.add(FacilitatorAssignment(kube_id=kube.id, facilitator_id=facilitator.id))
    session.flush()
    return kube


def add_households(session: Session, kube: Kube, count: int) -> list[User]:
    """More anggota for a KUBE (a KUBE needs 5 member households to be verified)."""
    users = []
    for _ in range(count):
        user = make_user(session)
        session.add(KubeMember(kube_id=kube.id, user_id=user.id, role=MemberRole.ANGGOTA))
        users.append(user)
    session.flush()
    return users


def make_product(
    session: Session,
    kube: Kube,
    category: Category,
    name: str | None = None,
    *,
    price: int = 15000,
    stock: int = 10,
    status: ProductStatus = ProductStatus.PUBLISHED,
    unit: Unit = Unit.BOTOL,
) -> Product:
    name = name or f"Produk {next(_seq)}"
    product = Product(
        kube_id=kube.id, category_id=category.id, name=name, slug=name.lower().replace(" ", "-"),
        description=f"{name} dari {kube.name}", unit=unit, price=price, stock=stock, min_order_qty=1,
        weight_grams=500, status=status,
    )
    session.add(product)
    session.flush()
    return product


def png_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class World:
    buyer: User
    ketua_a: User
    anggota_a: User
    ketua_b: User
    facilitator_a: User  # assigned to KUBE A only
    facilitator_b: User  # assigned to KUBE B only
    order_taker: User
    operator: User
    kube_a: Kube
    kube_b: Kube
    category: Category
    product_a: Product  # published, KUBE A
    product_b: Product  # published, KUBE B
    draft_b: Product  # draft, KUBE B


def build_world(session: Session) -> World:
    buyer = make_user(session, "buyer")
    ketua_a = make_user(session, "ketua_a")
    anggota_a = make_user(session, "anggota_a")
    ketua_b = make_user(session, "ketua_b")
    facilitator_a = make_user(session, "facilitator_a", is_facilitator=True)
    facilitator_b = make_user(session, "facilitator_b", is_facilitator=True)
    order_taker = make_user(session, "order_taker")
    session.add(OrderTakerProfile(user_id=order_taker.id, company_name="PT Sabun Ekspor"))
    operator = make_user(session, "operator", is_operator=True)
    kube_a = make_kube(session, "KUBE Kelapa A",
                       members=[(ketua_a, MemberRole.KETUA), (anggota_a, MemberRole.ANGGOTA)],
                       facilitators=[facilitator_a])
    kube_b = make_kube(session, "KUBE Anyaman B", village=BANDUNG_VILLAGE,
                       members=[(ketua_b, MemberRole.KETUA)], facilitators=[facilitator_b])
    category = make_category(session, "coconut")
    product_a = make_product(session, kube_a, category, "Minyak Kelapa A")
    product_b = make_product(session, kube_b, category, "Tas Anyaman B")
    draft_b = make_product(session, kube_b, category, "Draft B", status=ProductStatus.DRAFT)
    session.flush()
    return World(buyer, ketua_a, anggota_a, ketua_b, facilitator_a, facilitator_b, order_taker, operator,
                 kube_a, kube_b, category, product_a, product_b, draft_b)


CHAIN_SLUG = "rantai-kelapa"


def make_chain(session: Session, world: World, *, slug: str = CHAIN_SLUG, created_by: User | None = None
               ) -> SupplyChain:
    """A small coconut chain: KUBE A splits nuts (1,000 a week) into husk and shell, both with a chain price;
    a second process, with no KUBE yet, burns shell into charcoal. Its final items: husk and charcoal."""
    chain = SupplyChain(slug=slug, name=slug.replace("-", " ").title(), regency_code="72.01",
                        description="Dari kelapa ke arang.", created_by_id=created_by.id if created_by else None)
    split = ChainProcess(key="kupas", name="Kupas kelapa", position=0, whole_runs=True)
    split.flows = [
        ProcessFlow(direction="in", item="kelapa-butir", item_name="Kelapa butir", unit="butir", amount=Decimal(1)),
        ProcessFlow(direction="out", item="sabut", item_name="Sabut kelapa", unit="kg", amount=Decimal("0.4375"),
                    price=800),
        ProcessFlow(direction="out", item="tempurung", item_name="Tempurung kelapa", unit="kg",
                    amount=Decimal("0.15"), price=4000),
    ]
    split.kubes = [ProcessKube(kube_id=world.kube_a.id, capacity_per_week=Decimal(1000))]
    charcoal = ChainProcess(key="arang", name="Arang tempurung", position=1)
    charcoal.flows = [
        ProcessFlow(direction="in", item="tempurung", item_name="Tempurung kelapa", unit="kg", amount=Decimal(1)),
        ProcessFlow(direction="out", item="arang-tempurung", item_name="Arang tempurung", unit="kg",
                    amount=Decimal("0.30"), price=6000),
    ]
    chain.processes = [split, charcoal]
    session.add(chain)
    session.flush()
    return chain


def chain_process_id(session: Session, key: str, slug: str = CHAIN_SLUG) -> int:
    """The id of a process of a chain made by make_chain, by its key."""
    return session.scalars(select(ChainProcess.id).join(SupplyChain).where(SupplyChain.slug == slug,
                                                                          ChainProcess.key == key)).one()


def chain_flow_id(session: Session, key: str, direction: str, item: str, slug: str = CHAIN_SLUG) -> int:
    """The id of an input or output of a process of a chain made by make_chain."""
    return session.scalars(select(ProcessFlow.id).where(ProcessFlow.process_id == chain_process_id(session, key, slug),
                                                        ProcessFlow.direction == direction,
                                                        ProcessFlow.item == item)).one()
