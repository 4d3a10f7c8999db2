"""The demo's field work: a facilitator's visit reports over the last six months (one edited into a second
version, the latest with a photo), and success stories (two published, one waiting for an operator).

Visits follow Permensos 2/2019 art. 9 (guidance, monitoring, reporting; shared/domain/KUBE.md). Loaded once:
nothing is added when any visit report or story exists.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import media
from marketplace.auth.models import User
from marketplace.catalog.models import FacilitatorAssignment, Kube
from marketplace.demo import data, images
from marketplace.facilitator.models import VisitPhoto, VisitReport
from marketplace.stories.models import Story, StoryPhoto, StoryStatus

MAX_BYTES, MAX_PIXELS = 8 * 1024 * 1024, 40_000_000

NOTES = (
    "Mendampingi pencatatan buku kas bersama bendahara dan memeriksa stok bahan baku.",
    "Memantau produksi minggu ini dan harga jual di pasar kecamatan.",
    "Rapat anggota bulanan: membahas pembagian laba dan rencana pemasaran di Pasar KUBE.",
    "Melatih anggota memotret produk dengan ponsel dan menulis deskripsi yang jelas.",
    "Memeriksa pesanan yang belum dikirim dan membantu mengatur pengiriman ke kurir.",
    "Membahas pengajuan KUR Super Mikro: syarat usaha berjalan 6 bulan dan catatan keuangan.",
)
PROBLEMS = (
    ("Oven pengering kopra sering mati; sebagian kopra berjamur.", "Ajukan perbaikan oven ke Dinas Sosial."),
    ("Dua anggota jarang hadir saat produksi.", "Bicarakan pembagian kerja di rapat berikutnya."),
    ("Harga kemasan botol naik 20 %.", "Cari pemasok kemasan di Luwuk bersama KUBE lain."),
)

STORIES = (
    ("kube-nyiur-melambai", "Dari kelapa butir ke penghasilan tetap",
     "Sepuluh keluarga di pesisir Banggai kini menjual minyak kelapa setiap minggu.",
     "Dua tahun lalu, anggota KUBE Nyiur Melambai menjual kelapa butir ke tengkulak dengan harga rendah.\n\n"
     "Dengan bantuan UEP dan pendampingan, mereka membeli alat parut dan belajar membuat minyak kelapa. "
     "Kini pesanan datang dari pembeli di Pasar KUBE dan dari eksportir sabun lewat rantai pasok kelapa "
     "terpadu.\n\nBuku kas dicatat setiap hari oleh bendahara, dan laba dibagi menurut hari kerja setiap "
     "anggota. Tiga keluarga sedang menyiapkan pengajuan KUR Super Mikro.", StoryStatus.PUBLISHED),
    ("kube-getas-bahari", "Kerupuk ikan Bangka sampai ke Jakarta",
     "Ibu-ibu nelayan di Bangka belajar berjualan daring dan mengirim ke seluruh Indonesia.",
     "Hasil tangkapan yang tidak terjual dulu terbuang. KUBE Getas Bahari mengolahnya menjadi kerupuk.\n\n"
     "Pendamping membantu memotret produk dan menghitung ongkos kirim. Sekarang sepertiga penjualan "
     "datang dari luar pulau.", StoryStatus.PUBLISHED),
    ("kube-mutiara-kelapa", "Belajar mencatat, belajar bertumbuh",
     "Buku kas yang rapi membuka jalan ke pembeli besar.",
     "Awalnya tidak ada yang mau menjadi bendahara. Setelah pelatihan pencatatan, anggota bergiliran "
     "mencatat setiap pengeluaran dan pemasukan.", StoryStatus.SUBMITTED),
)


def load_field(session: Session, now: datetime, media_root: str | Path, private_media_root: str | Path,
               *, image_scale: float = 1.0) -> int:
    """Visit reports and success stories (flushes). Returns how many reports and stories it added."""
    if session.scalar(select(func.count(VisitReport.id))) or session.scalar(select(func.count(Story.id))):
        return 0
    rng = random.Random(2019)
    size = (max(64, int(images.BANNER_SIZE[0] * image_scale)), max(32, int(images.BANNER_SIZE[1] * image_scale)))
    facilitators = {u.email: u for u in session.scalars(
        select(User).where(User.email.in_([data.FACILITATOR_BANGGAI, data.FACILITATOR_OTHERS])))}
    operator = session.scalar(select(User).where(User.is_operator.is_(True)).order_by(User.id))
    added = 0
    for assignment, visited in session.execute(
        select(FacilitatorAssignment, Kube).join(Kube, Kube.id == FacilitatorAssignment.kube_id)
        .where(FacilitatorAssignment.facilitator_id.in_([u.id for u in facilitators.values()]))
        .order_by(Kube.id)
    ):
        for months_ago in range(6, 0, -1):
            kube = visited
            day = (now - timedelta(days=30 * months_ago - rng.randint(0, 20))).date()
            problem = PROBLEMS[rng.randrange(len(PROBLEMS))] if rng.random() < 0.35 else None
            report = VisitReport(
                kube_id=kube.id, facilitator_id=assignment.facilitator_id, group_key=secrets.token_hex(16),
                version=1, visited_on=day, notes=NOTES[(kube.id + months_ago) % len(NOTES)],
                guidance_given=rng.random() < 0.8, business_monitored=True,
                bookkeeping_checked=rng.random() < 0.6, problems_found=problem is not None,
                problems=problem[0] if problem else "", follow_up=problem[1] if problem else "",
                created_at=datetime.combine(day, datetime.min.time(), now.tzinfo) + timedelta(hours=9),
            )
            session.add(report)
            added += 1
        if data.FACILITATOR_BANGGAI in facilitators and kube.slug == "kube-nyiur-melambai":
            session.flush()
            latest = report
            picture = images.kube_banner(kube.name, "Kunjungan lapangan", scene="coast", size=size)
            stored = media.store_image(picture, private_media_root, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
            media.keep_if_committed(session, private_media_root, stored.key)
            second = VisitReport(
                kube_id=kube.id, facilitator_id=latest.facilitator_id, group_key=latest.group_key, version=2,
                supersedes_id=latest.id, visited_on=latest.visited_on,
                notes=latest.notes + " Bendahara menunjukkan nota pembelian kelapa bulan ini.",
                guidance_given=True, business_monitored=True, bookkeeping_checked=True,
                problems_found=latest.problems_found, problems=latest.problems, follow_up=latest.follow_up,
                video_links="https://www.youtube.com/watch?v=pasarkube-demo",
                created_at=latest.created_at + timedelta(days=1),
            )
            second.photos.append(VisitPhoto(key=stored.key, width=stored.width, height=stored.height, position=0))
            session.add(second)
    kubes = {k.slug: k for k in session.scalars(select(Kube).where(Kube.slug.in_([s[0] for s in STORIES])))}
    for i, (slug, title, summary, body, status) in enumerate(STORIES):
        found = kubes.get(slug)
        if found is None:
            continue
        kube = found
        author = facilitators.get(data.FACILITATOR_BANGGAI if kube.regency_code == "72.01"
                                  else data.FACILITATOR_OTHERS)
        written = now - timedelta(days=40 - 10 * i)
        story = Story(kube_id=kube.id, author_id=author.id if author else None, slug=slug.removeprefix("kube-"),
                      title=title, summary=summary, body=body, status=status, created_at=written,
                      updated_at=written, submitted_at=written + timedelta(hours=2))
        if status == StoryStatus.PUBLISHED:
            story.published_at = written + timedelta(days=1)
            story.published_by_id = operator.id if operator else None
        picture = images.kube_banner(kube.name, title, scene="coast" if i < 2 else "town", size=size)
        stored = media.store_image(picture, media_root, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
        media.keep_if_committed(session, media_root, stored.key)
        story.photos.append(StoryPhoto(key=stored.key, width=stored.width, height=stored.height, position=0,
                                       caption=kube.name))
        session.add(story)
        added += 1
    session.flush()
    return added
