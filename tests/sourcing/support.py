"""Sourcing test data, made through the services: requests, quotes, contracts, lots, deliveries, a small chain."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from marketplace.auth.models import OrderTakerProfile, User
from marketplace.chains.models import ChainProcess, ProcessFlow, ProcessKube, SupplyChain
from marketplace.sourcing import services
from marketplace.sourcing.models import ContractDelivery, Lot, Quote, SourcingRequest, SupplyContract
from marketplace.sourcing.views import quantity as shown
from tests import factories
from tests.factories import World

CHAIN = "kelapa-uji"
D = Decimal


def make_order_taker(session: Session, who: str, company: str = "CV Arang Jaya") -> User:
    user = factories.make_user(session, who)
    session.add(OrderTakerProfile(user_id=user.id, company_name=company))
    session.flush()
    session.refresh(user)
    return user


def post_request(session: Session, taker: User, *, item_name: str = "Arang tempurung", quantity: str = "100",
                 schedule: str = "once", starts_on: date | None = None, until: date | None = None,
                 province: str = "72", chain: str | None = None, item: str | None = None,
                 today: date | None = None) -> SourcingRequest:
    return services.create_request(session, taker, services.RequestInput(
        item_name=item_name, quantity=quantity, unit="kg", schedule=schedule, starts_on=starts_on or date.today(),
        until=until, province_code=province, target_price=18_000, chain_slug=chain, item=item), today=today)


def quote_of_a(session: Session, world: World, request: SourcingRequest, *, price: int = 20_000,
               quantity: str | None = None) -> Quote:
    return services.make_quote(session, world.ketua_a, request.id, price_per_unit=price,
                               quantity=quantity or shown(request.quantity), kube_id=world.kube_a.id,
                               note="Siap kirim")


def contract_of_a(session: Session, world: World, *, taker: User | None = None, today: date | None = None,
                  **request_fields: object) -> SupplyContract:
    """A request of the order taker, quoted by KUBE A's ketua and accepted (a 2 % fee)."""
    request = post_request(session, taker or world.order_taker, today=today, **request_fields)  # type: ignore[arg-type]
    quote = quote_of_a(session, world, request)
    return services.accept_quote(session, taker or world.order_taker, quote.id, 200, today=today)


def late_contract_of_a(session: Session, world: World) -> SupplyContract:
    """Weekly from two weeks ago to two weeks ahead: two deliveries late, two due within a week."""
    start = date.today() - timedelta(days=14)
    return contract_of_a(session, world, schedule="weekly", starts_on=start, until=date.today() + timedelta(days=14),
                         today=start)


def lot_of_a(session: Session, world: World, *, quantity: str = "500", item_name: str = "Arang tempurung",
             sources: tuple[tuple[str, object], ...] = ()) -> Lot:
    return services.record_lot(session, world.anggota_a, services.LotInput(
        kube_id=world.kube_a.id, item="", quantity=quantity, made_on=date.today(), item_name=item_name, unit="kg",
        sources=sources))


def deliver(session: Session, world: World, contract: SupplyContract, lot: Lot, quantity: str = "40",
            due_on: date | None = None) -> ContractDelivery:
    return services.record_delivery(session, world.anggota_a, contract.id, lot_code=lot.code, quantity=quantity,
                                    due_on=due_on or contract.starts_on)


def make_chain(session: Session, world: World) -> SupplyChain:
    """KUBE B splits nuts (shell at Rp4.000/kg); KUBE A burns the shell to charcoal (Rp6.000/kg)."""
    split = ChainProcess(key="belah", name="Belah kelapa", position=0)
    split.flows = [ProcessFlow(direction="in", item="kelapa-butir", item_name="Kelapa butir", unit="butir",
                               amount=D(1)),
                   ProcessFlow(direction="out", item="tempurung", item_name="Tempurung kelapa", unit="kg",
                               amount=D("0.15"), price=4_000)]
    split.kubes = [ProcessKube(kube_id=world.kube_b.id, capacity_per_week=D(1000))]
    burn = ChainProcess(key="arang", name="Pembakaran arang", position=1)
    burn.flows = [ProcessFlow(direction="in", item="tempurung", item_name="Tempurung kelapa", unit="kg", amount=D(1)),
                  ProcessFlow(direction="out", item="arang-tempurung", item_name="Arang tempurung", unit="kg",
                              amount=D("0.30"), price=6_000)]
    burn.kubes = [ProcessKube(kube_id=world.kube_a.id, capacity_per_week=D(100))]
    chain = SupplyChain(slug=CHAIN, name="Kelapa Uji", processes=[split, burn])
    session.add(chain)
    session.flush()
    return chain


def chain_lots(session: Session, world: World) -> tuple[Lot, Lot]:
    """KUBE B's 100 kg of shell, all of it burnt by KUBE A into 30 kg of charcoal."""
    shell = services.record_lot(session, world.ketua_b, services.LotInput(
        kube_id=world.kube_b.id, item="tempurung", quantity="100", made_on=date.today(), chain_slug=CHAIN,
        process_key="belah"))
    services.hand_over(session, world.ketua_b, shell.code, world.kube_a.id)
    charcoal = services.record_lot(session, world.anggota_a, services.LotInput(
        kube_id=world.kube_a.id, item="arang-tempurung", quantity="30", made_on=date.today(), chain_slug=CHAIN,
        process_key="arang", sources=[(shell.code, "100")]))
    return shell, charcoal


def paid_chain_delivery(session: Session, world: World) -> tuple[SupplyContract, ContractDelivery, Lot, Lot]:
    """The chain's charcoal contracted by the order taker from KUBE A, delivered (30 kg), received and paid."""
    make_chain(session, world)
    shell, charcoal = chain_lots(session, world)
    contract = contract_of_a(session, world, item_name="", quantity="30", chain=CHAIN, item="arang-tempurung")
    delivery = deliver(session, world, contract, charcoal, quantity="30")
    services.confirm_received(session, world.order_taker, delivery.id)
    services.record_delivery_payment(session, world.operator, delivery.id, "BCA 0001")
    return contract, delivery, shell, charcoal
