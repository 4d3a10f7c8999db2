"""Demo sourcing on the Banggai coconut chain: three order takers (a soap exporter, a coconut-water buyer, a
charcoal buyer) with contracts running for some weeks, the lots each KUBE made for them, deliveries (paid,
waiting for the buyer's confirmation, one week short and late, this week's due) and open requests.

Everything goes through the sourcing services with back-dated days, so the demo obeys the same rules as
real use. Loaded once: nothing happens when any sourcing request exists.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.catalog.models import Kube, KubeMember, MemberRole
from marketplace.demo.chains import SLUG as CHAIN
from marketplace.demo.data import EMAIL_DOMAIN, FACILITATOR_BANGGAI
from marketplace.sourcing import services as sourcing
from marketplace.sourcing.models import Lot, SourcingRequest, SupplyContract
from marketplace.sourcing.services import LotInput, RequestInput

SOAP_TAKER = f"offtaker@{EMAIL_DOMAIN}"
WATER_TAKER = f"airkelapa@{EMAIL_DOMAIN}"
CHARCOAL_TAKER = f"arang@{EMAIL_DOMAIN}"
OPERATOR = f"admin@{EMAIL_DOMAIN}"


class _Sourcing:
    def __init__(self, session: Session, today: date, fee_bps: int) -> None:
        self.session = session
        self.today = today
        self.fee_bps = fee_bps
        emails = (SOAP_TAKER, WATER_TAKER, CHARCOAL_TAKER, OPERATOR, FACILITATOR_BANGGAI)
        self.users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
        self.kubes = {k.slug: k for k in session.scalars(select(Kube).where(Kube.regency_code == "72.01"))}
        self.ketua = {m.kube_id: m.user for m in session.scalars(
            select(KubeMember).where(KubeMember.role == MemberRole.KETUA,
                                     KubeMember.kube_id.in_([k.id for k in self.kubes.values()])))}

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def at(self, offset: int, hour: int = 10) -> datetime:
        return datetime.combine(self.day(offset), time(hour), tzinfo=UTC)

    def officer(self, slug: str) -> User:
        return self.ketua[self.kubes[slug].id]

    def request(self, taker: str, posted: int, **fields: object) -> SourcingRequest:
        values: dict[str, object] = dict(item_name="", unit="kg", until=None, province_code="72",
                                         regency_code="72.01", chain_slug=CHAIN)
        values.update(fields)
        request = sourcing.create_request(self.session, self.users[taker], RequestInput(**values),  # type: ignore[arg-type]
                                          today=self.day(posted))
        request.created_at = self.at(posted, 9)
        return request

    def contract(self, request: SourcingRequest, accepted: int, price: int, quantity: str,
                 kube: str | None = None) -> SupplyContract:
        quoter = self.officer(kube) if kube else self.users[FACILITATOR_BANGGAI]
        quote = sourcing.make_quote(self.session, quoter, request.id, price_per_unit=price, quantity=quantity,
                                    kube_id=self.kubes[kube].id if kube else None,
                                    chain_slug=None if kube else CHAIN)
        quote.created_at = self.at(accepted - 1, 14)
        contract = sourcing.accept_quote(self.session, request.order_taker, quote.id, self.fee_bps,
                                         today=self.day(accepted))
        contract.created_at = quote.decided_at = self.at(accepted, 11)
        return contract

    def lots(self, slug: str, made: int, process: str, outputs: list[tuple[str, object]],
             sources: list[tuple[Lot, str]]) -> list[Lot]:
        return sourcing.record_lots(self.session, self.officer(slug), LotInput(
            kube_id=self.kubes[slug].id, item="", quantity="", made_on=self.day(made), chain_slug=CHAIN,
            process_key=process, outputs=outputs, sources=[(lot.code, used) for lot, used in sources]),
            today=self.day(made))

    def hand(self, lot: Lot, owner: str, to: str) -> None:
        sourcing.hand_over(self.session, self.officer(owner), lot.code, self.kubes[to].id)

    def nuts(self, made: int, count: str) -> Lot:
        return sourcing.record_lot(self.session, self.officer("kube-nyiur-melambai"), LotInput(
            kube_id=self.kubes["kube-nyiur-melambai"].id, item="kelapa-butir", item_name="Kelapa butir",
            unit="butir", quantity=count, made_on=self.day(made), note="Dibeli dari petani Batui"),
            today=self.day(made))

    def deliver(self, contract: SupplyContract, lot: Lot, quantity: str, due: int, *, received: bool = True,
                paid: bool = True) -> None:
        slug = next(k for k in self.kubes.values() if k.id == lot.kube_id).slug
        delivery = sourcing.record_delivery(self.session, self.officer(slug), contract.id, lot_code=lot.code,
                                            quantity=quantity, due_on=self.day(due), today=self.day(due))
        delivery.created_at = self.at(due, 8)
        if received:
            sourcing.confirm_received(self.session, contract.order_taker, delivery.id)
            delivery.received_at = self.at(due + 1)
        if paid:
            sourcing.record_delivery_payment(self.session, self.users[OPERATOR], delivery.id,
                                             f"BNI {contract.code[-4:]}-{due % 100:02d}", now=self.at(due + 3))

    def split(self, made: int, nuts: Lot, count: str) -> dict[str, Lot]:
        """One split of `count` nuts: the four joint products at the chain's yields (per nut: 0.4375 kg
        husk, 0.15 kg shell, 0.35 kg meat, 0.3125 L water)."""
        n = Decimal(count)
        outputs: list[tuple[str, object]] = [
            ("sabut", n * Decimal("0.4375")), ("tempurung", n * Decimal("0.15")),
            ("daging-kelapa", n * Decimal("0.35")), ("air-kelapa", n * Decimal("0.3125"))]
        lots = self.lots("kube-nyiur-melambai", made, "kupas-belah", outputs, [(nuts, count)])
        return {lot.item: lot for lot in lots}

    def load(self) -> int:
        soap = self.request(SOAP_TAKER, -26, item="sabun-kelapa", quantity="200", schedule="weekly",
                            starts_on=self.day(-21), until=self.day(56), target_price="60000",
                            note="Sabun batang kelapa untuk ekspor; kemasan kertas cokelat, 100 g per batang.")
        soap_contract = self.contract(soap, -24, 58_000, "200")
        water = self.request(WATER_TAKER, -20, item="air-kelapa", quantity="300", schedule="weekly",
                             starts_on=self.day(-14), until=self.day(70), target_price="300", chain_slug=None,
                             item_name="Air kelapa", unit="liter",
                             note="Air kelapa tua segar, dikirim dalam jeriken bersih, dingin.")
        water_contract = self.contract(water, -18, 300, "300", kube="kube-nyiur-melambai")
        charcoal = self.request(CHARCOAL_TAKER, -25, item="arang-tempurung", quantity="50", schedule="monthly",
                                starts_on=self.day(-20), until=self.day(160), target_price="10000",
                                note="Arang tempurung kering, kadar air di bawah 8 %, dalam karung 25 kg.")
        charcoal_contract = self.contract(charcoal, -23, 9_500, "50")

        # Three weeks of the chain: nuts split, meat to oil, oil to soap; shells to charcoal; water sold.
        weeks = []
        for made in (-24, -17, -10):
            nuts = self.nuts(made - 1, "1120")
            weeks.append(self.split(made, nuts, "1120"))
        for week in weeks:  # the meat goes to the oil KUBE
            self.hand(week["daging-kelapa"], "kube-nyiur-melambai", "kube-mutiara-kelapa")
        self.hand(weeks[0]["tempurung"], "kube-nyiur-melambai", "kube-sinar-tempurung")
        oil = [self.lots("kube-mutiara-kelapa", -23, "minyak-kelapa", [("minyak-kelapa", "156")],
                         [(weeks[0]["daging-kelapa"], "390")])[0],
               self.lots("kube-mutiara-kelapa", -16, "minyak-kelapa", [("minyak-kelapa", "156")],
                         [(weeks[1]["daging-kelapa"], "390")])[0],
               self.lots("kube-mutiara-kelapa", -9, "minyak-kelapa", [("minyak-kelapa", "94")],
                         [(weeks[2]["daging-kelapa"], "235")])[0]]
        for lot in oil:
            self.hand(lot, "kube-mutiara-kelapa", "kube-busa-nyiur")
        soap_lots = [self.lots("kube-busa-nyiur", -22, "sabun", [("sabun-kelapa", "200")], [(oil[0], "156")])[0],
                     self.lots("kube-busa-nyiur", -15, "sabun", [("sabun-kelapa", "200")], [(oil[1], "156")])[0],
                     self.lots("kube-busa-nyiur", -8, "sabun", [("sabun-kelapa", "120")], [(oil[2], "93,6")])[0]]
        charcoal_lot = self.lots("kube-sinar-tempurung", -22, "arang-tempurung", [("arang-tempurung", "50")],
                                 [(weeks[0]["tempurung"], "166,667")])[0]

        self.deliver(soap_contract, soap_lots[0], "200", -21)
        self.deliver(soap_contract, soap_lots[1], "200", -14)
        self.deliver(soap_contract, soap_lots[2], "120", -7, received=False, paid=False)  # short, and late
        self.deliver(water_contract, weeks[1]["air-kelapa"], "300", -14)
        self.deliver(water_contract, weeks[2]["air-kelapa"], "300", -7, paid=False)
        self.deliver(charcoal_contract, charcoal_lot, "50", -20)

        # Open requests: one with a KUBE's quote waiting for the soap exporter, one nobody answered yet.
        oil_request = self.request(SOAP_TAKER, -3, item="minyak-kelapa", quantity="150", schedule="monthly",
                                   starts_on=self.day(7), until=self.day(180), target_price="20000",
                                   note="Minyak kelapa kopra untuk pabrik sabun kami di Surabaya.")
        quote = sourcing.make_quote(self.session, self.officer("kube-mutiara-kelapa"), oil_request.id,
                                    price_per_unit=19_000, quantity="150", kube_id=self.kubes["kube-mutiara-kelapa"].id,
                                    note="Minyak kelapa dari kopra KUBE Nyiur Melambai, bisa mulai minggu depan.")
        quote.created_at = self.at(-2, 15)
        self.request(CHARCOAL_TAKER, -1, item="serat-sabut", quantity="500", schedule="once",
                     starts_on=self.day(14), target_price="3500",
                     note="Serat sabut kering untuk matras; contoh 1 kg dikirim dulu.")
        self.session.flush()
        return 5


def load_sourcing(session: Session, now: datetime, fee_bps: int) -> int:
    """Load the demo sourcing once; returns the number of requests made (0 when already there)."""
    if session.scalar(select(SourcingRequest.id).limit(1)) is not None:
        return 0
    loader = _Sourcing(session, now.date(), fee_bps)
    needed = {"kube-nyiur-melambai", "kube-mutiara-kelapa", "kube-busa-nyiur", "kube-sinar-tempurung"}
    if len(loader.users) < 5 or not needed <= set(loader.kubes) or any(
            loader.kubes[slug].id not in loader.ketua for slug in needed):
        return 0
    return loader.load()
