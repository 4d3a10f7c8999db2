"""The demo supply chain "Kelapa Terpadu Banggai": Banggai's KUBEs each doing one step of the coconut.

Yields are the planner's defaults (see marketplace/chains/planner.py and the domain notes "Coconut yields"):
a 1.25 kg nut gives 35 % husk, 12 % shell, 28 % meat and 25 % water; meat gives 0.40 kg oil per kg (5 nuts a
kg of copra, 70 % oil from copra); 0.78 kg oil per kg of soap; shell to charcoal 30 %; husk to coir fibre 75 %.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Kube
from marketplace.chains.models import ChainProcess, ProcessFlow, ProcessKube, SupplyChain

SLUG = "kelapa-terpadu-banggai"
D = Decimal
# Chain prices (Rp per unit of each output) from the domain notes' indicative prices where there is one: raw
# shell 4.000-7.000/kg, shell charcoal 4.500-10.000/kg, coconut water about 250/L in bulk; meat 3.000/kg from
# copra 5.000-10.500/kg (5 nuts = 1 kg copra = 1.75 kg meat). Husk, oil, soap, bottled water and fibre have
# no published figure there: those are estimates the chain's managers are expected to set. Shell is priced
# below the market's 4.000-7.000/kg: at that price the charcoal step (3 1/3 kg shell per kg, sold at
# 4.500-10.000/kg) would lose money, so the chain prices it to leave every step a margin.
# key, name, whole runs, inputs (item, name, unit, per run) and outputs (the same and a price), source,
# KUBEs (slug, runs a week)
PROCESSES = (
    ("kupas-belah", "Kupas & belah kelapa", True,
     [("kelapa-butir", "Kelapa butir", "butir", D(1))],
     [("sabut", "Sabut kelapa", "kg", D("0.4375"), 800), ("tempurung", "Tempurung kelapa", "kg", D("0.15"), 2_500),
      ("daging-kelapa", "Daging kelapa", "kg", D("0.35"), 3_000),
      ("air-kelapa", "Air kelapa", "liter", D("0.3125"), 250)],
     "Nut 1.25 kg (Balai Penelitian Palma 2020); husk 35 %, shell 12 %, meat 28 %, water 25 % "
     "(Palungkun, via Kompas 2009)",
     [("kube-nyiur-melambai", D(6000)), ("kube-mutiara-kelapa", D(3000))]),
    ("minyak-kelapa", "Minyak kelapa", False,
     [("daging-kelapa", "Daging kelapa", "kg", D(1))], [("minyak-kelapa", "Minyak kelapa", "kg", D("0.40"), 18_000)],
     "5 nuts per kg copra (trubus.id), 70 % oil from copra (standard copra milling)",
     [("kube-mutiara-kelapa", D(1500))]),
    ("sabun", "Sabun kelapa", False,
     [("minyak-kelapa", "Minyak kelapa", "kg", D("0.78"))], [("sabun-kelapa", "Sabun kelapa", "kg", D(1), 45_000)],
     "0.78 kg oil per kg soap, an estimate from the saponification value 248-265 mg KOH/g (Codex Stan 210)",
     [("kube-busa-nyiur", D(800))]),
    ("arang-tempurung", "Arang tempurung", False,
     [("tempurung", "Tempurung kelapa", "kg", D(1))], [("arang-tempurung", "Arang tempurung", "kg", D("0.30"), 6_000)],
     "30 % (Hasibuan & Pardede 2023, 450 °C, 3 h)",
     [("kube-sinar-tempurung", D(1200))]),
    ("air-kelapa", "Air kelapa kemasan", False,
     [("air-kelapa", "Air kelapa", "liter", D(1))],
     [("air-kelapa-kemasan", "Air kelapa kemasan", "liter", D(1), 2_500)],
     "1 L bottled per L of water", [("kube-tirta-nyiur", D(2500))]),
    ("sabut", "Serat sabut", False,
     [("sabut", "Sabut kelapa", "kg", D(1))], [("serat-sabut", "Serat sabut (coco fibre)", "kg", D("0.75"), 3_000)],
     "75 % fibre (Abdullah et al. 2011)", [("kube-nyiur-melambai", D(1000))]),
)


def load_chain(session: Session) -> int:
    """Create the demo chain if it is not there yet; returns 1 when created, 0 otherwise."""
    if session.scalar(select(SupplyChain.id).where(SupplyChain.slug == SLUG)) is not None:
        return 0
    kubes = {k.slug: k for k in session.scalars(select(Kube).where(Kube.regency_code == "72.01"))}
    chain = SupplyChain(slug=SLUG, name="Kelapa Terpadu Banggai", regency_code="72.01",
                        description="Dari satu kelapa, banyak produk: KUBE-KUBE di Banggai masing-masing "
                                    "mengerjakan satu tahap, direncanakan dari permintaan para pembeli besar "
                                    "(sabun ekspor, air kelapa, arang tempurung).")
    for position, (key, name, whole, inputs, outputs, source, members) in enumerate(PROCESSES):
        process = ChainProcess(key=key, name=name, position=position, whole_runs=whole, yield_source=source)
        process.flows = [ProcessFlow(direction="in", item=i, item_name=n, unit=u, amount=a)
                         for i, n, u, a in inputs]
        process.flows += [ProcessFlow(direction="out", item=i, item_name=n, unit=u, amount=a, price=price)
                          for i, n, u, a, price in outputs]
        process.kubes = [ProcessKube(kube_id=kubes[slug].id, capacity_per_week=cap)
                         for slug, cap in members if slug in kubes]
        chain.processes.append(process)
    session.add(chain)
    session.flush()
    return 1
