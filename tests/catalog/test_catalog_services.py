"""Catalogue rules, tested without HTTP."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog import services
from marketplace.catalog.models import KubeStatus, MemberRole, Product, ProductStatus
from marketplace.catalog.permissions import Action, allowed_actions, member_role
from marketplace.common import ConflictError, NotFoundError, PermissionDenied, ValidationError
from tests import factories
from tests.factories import World

GOOD = {"name": "Minyak Kelapa Murni", "category": "coconut", "unit": "botol", "price": 45000, "stock": 12,
        "min_order_qty": 1, "weight_grams": 300, "description": "VCO 250 ml"}


def _limits(tmp_path: Path) -> services.ImageLimits:
    return services.ImageLimits(str(tmp_path / "media"), 2 * 1024 * 1024, 4_000_000)


def test_members_create_products_as_drafts(session: Session, world: World) -> None:
    product = services.create_product(session, world.anggota_a, world.kube_a.id, GOOD)
    assert product.status == ProductStatus.DRAFT
    assert product.slug == "minyak-kelapa-murni"
    assert product.price == 45000 and isinstance(product.price, int)
    again = services.create_product(session, world.ketua_a, world.kube_a.id, GOOD, submit=True)
    assert again.slug == "minyak-kelapa-murni-2"
    assert again.status == ProductStatus.PENDING_REVIEW


@pytest.mark.parametrize("who", ["buyer", "ketua_b", "facilitator_b", "order_taker"])
def test_outsiders_cannot_create_products(session: Session, world: World, who: str) -> None:
    with pytest.raises((PermissionDenied, NotFoundError)):
        services.create_product(session, getattr(world, who), world.kube_a.id, GOOD)
    assert session.scalar(select(func.count()).select_from(Product).where(Product.kube_id == world.kube_a.id)) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"price": -1}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": 1.5}, "price"),
        ({"price": True}, "price"),
        ({"stock": -3}, "stock"),
        ({"min_order_qty": 0}, "min_order_qty"),
        ({"unit": "ton"}, "unit"),
        ({"category": "nope"}, "category"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_product_input_saves_nothing(session: Session, world: World, change: dict[str, object],
                                         field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_product(session, world.ketua_a, world.kube_a.id, GOOD | change)
    assert caught.value.field == field
    with pytest.raises(ValidationError):
        services.update_product(session, world.ketua_a, world.product_a.id, change)
    session.rollback()
    assert session.get(Product, world.product_a.id).price == 15000  # type: ignore[union-attr]


def test_prices_accept_indonesian_thousands(session: Session, world: World) -> None:
    product = services.update_product(session, world.ketua_a, world.product_a.id, {"price": "15.500"})
    assert product.price == 15500


def test_review_flow(session: Session, world: World) -> None:
    product = services.create_product(session, world.anggota_a, world.kube_a.id, GOOD)
    with pytest.raises(ConflictError):
        services.approve_product(session, world.facilitator_a, product.id)
    services.submit_product(session, world.anggota_a, product.id)
    with pytest.raises(PermissionDenied):
        services.approve_product(session, world.facilitator_b, product.id)
    with pytest.raises(PermissionDenied):
        services.approve_product(session, world.ketua_a, product.id)
    services.reject_product(session, world.facilitator_a, product.id, "Foto kurang jelas")
    assert product.status == ProductStatus.DRAFT and product.review_note == "Foto kurang jelas"
    services.submit_product(session, world.anggota_a, product.id)
    services.approve_product(session, world.operator, product.id)
    assert product.status == ProductStatus.PUBLISHED and product.published_at is not None
    # Price and stock changes keep it published; a new name goes back to review.
    services.update_product(session, world.anggota_a, product.id, {"price": 50000, "stock": 3})
    assert product.status == ProductStatus.PUBLISHED
    services.update_product(session, world.anggota_a, product.id, {"name": "VCO Premium"})
    assert product.status == ProductStatus.PENDING_REVIEW
    # A reviewer's own edit does not need another review.
    services.approve_product(session, world.facilitator_a, product.id)
    services.update_product(session, world.facilitator_a, product.id, {"description": "Lebih jelas"})
    assert product.status == ProductStatus.PUBLISHED


def test_archive_and_restore(session: Session, world: World) -> None:
    services.archive_product(session, world.anggota_a, world.product_a.id)
    assert world.product_a.status == ProductStatus.ARCHIVED
    with pytest.raises(ConflictError):
        services.update_product(session, world.anggota_a, world.product_a.id, {"price": 1})
    services.restore_product(session, world.anggota_a, world.product_a.id)
    assert world.product_a.status == ProductStatus.DRAFT


def test_suspended_kube_products_are_frozen(session: Session, world: World) -> None:
    services.suspend_kube(session, world.facilitator_a, world.kube_a.id)
    with pytest.raises(ConflictError):
        services.set_stock(session, world.ketua_a, world.product_a.id, 5)
    assert world.product_a not in services.public_products(session, services.ProductFilters()).items


def test_public_listing_hides_drafts_and_private_kubes(session: Session, world: World) -> None:
    draft_kube = factories.make_kube(session, "KUBE Baru", status=KubeStatus.DRAFT)
    factories.make_product(session, draft_kube, world.category, "Hidden")
    names = {p.name for p in services.public_products(session, services.ProductFilters()).items}
    assert names == {"Minyak Kelapa A", "Tas Anyaman B"}
    with pytest.raises(NotFoundError):
        services.kube_by_slug(session, draft_kube.slug, world.buyer)
    with pytest.raises(NotFoundError):
        services.product_for_viewer(session, world.draft_b.id, world.ketua_a)
    assert services.product_for_viewer(session, world.draft_b.id, world.ketua_b) is world.draft_b
    assert services.product_for_viewer(session, world.draft_b.id, world.facilitator_b) is world.draft_b
    assert services.kube_by_slug(session, draft_kube.slug, world.operator) is draft_kube


def test_filters_and_sorting(session: Session, world: World) -> None:
    f = services.ProductFilters
    assert [p.name for p in services.public_products(session, f(province="72")).items] == ["Minyak Kelapa A"]
    assert [p.name for p in services.public_products(session, f(kube=world.kube_b.slug)).items] == ["Tas Anyaman B"]
    world.product_b.price = 99000
    session.flush()
    cheap_first = services.public_products(session, f(sort="price_asc")).items
    assert [p.price for p in cheap_first] == [15000, 99000]
    assert services.public_products(session, f(min_price=20000)).total == 1
    assert services.public_products(session, f(q="anyaman")).total == 1
    assert services.public_products(session, f(q="kube kelapa")).total == 1  # by the KUBE's name too
    assert services.public_products(session, f(category="no-such")).total == 0
    with pytest.raises(ValidationError):
        services.public_products(session, f(sort="random"))


def test_subcategory_products_show_under_parent(session: Session, world: World) -> None:
    child = factories.make_category(session, "oils", parent=world.category)
    factories.make_product(session, world.kube_a, child, "VCO")
    assert services.public_products(session, services.ProductFilters(category="coconut")).total == 3


def test_pagination_never_repeats(session: Session, world: World) -> None:
    for i in range(7):
        factories.make_product(session, world.kube_a, world.category, f"Barang {i}", price=1000 + i)
    seen: list[int] = []
    for page in (1, 2, 3):
        result = services.public_products(session, services.ProductFilters(sort="price_asc"), page=page,
                                          per_page=4)
        seen += [p.id for p in result.items]
        assert result.total == 9
    assert len(seen) == len(set(seen)) == 9


def test_kube_lifecycle_and_members(session: Session, world: World) -> None:
    new = services.create_kube(session, world.facilitator_a, services.KubeInput(
        name="KUBE Sinar Tempurung", village_code=factories.BANGGAI_VILLAGE, business_kind="production",
        founded_on=date(2021, 3, 1)))
    assert new.status == KubeStatus.DRAFT and new.regency_code == "72.01" and new.province_code == "72"
    assert Action.REVIEW in allowed_actions(session, world.facilitator_a, new)
    with pytest.raises(ValidationError):
        services.verify_kube(session, world.facilitator_a, new.id)  # no ketua yet
    ketua = factories.make_user(session, "ketua_new")
    services.add_member(session, world.facilitator_a, new.id, email=ketua.email, role="ketua")
    with pytest.raises(ConflictError):
        services.add_member(session, world.facilitator_a, new.id, email=world.buyer.email, role="ketua")
    with pytest.raises(NotFoundError):
        services.add_member(session, world.facilitator_a, new.id, email="ghost@example.com", role="anggota")
    with pytest.raises(ValidationError, match="at least 5"):
        services.verify_kube(session, world.facilitator_a, new.id)  # a KUBE is 5-20 households
    for i in range(4):
        household = factories.make_user(session, f"household_{i}")
        services.add_member(session, world.facilitator_a, new.id, email=household.email, role="anggota")
    for outsider in (world.facilitator_b, world.buyer):  # they do not even learn that a draft KUBE exists
        with pytest.raises(NotFoundError):
            services.verify_kube(session, outsider, new.id)
    services.verify_kube(session, world.facilitator_a, new.id)
    assert new.status == KubeStatus.VERIFIED and new.is_public
    with pytest.raises(PermissionDenied):  # public now, but not theirs
        services.suspend_kube(session, world.facilitator_b, new.id)
    services.activate_kube(session, ketua, new.id)
    assert new.status == KubeStatus.ACTIVE
    with pytest.raises(ConflictError):
        services.verify_kube(session, world.facilitator_a, new.id)


def test_kube_input_validation(session: Session, world: World) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_kube(session, world.operator, services.KubeInput(
            name="X", village_code="99.99.99.9999", business_kind="production"))
    assert caught.value.field == "village_code"
    with pytest.raises(ValidationError) as caught:
        services.create_kube(session, world.operator, services.KubeInput(
            name="X", village_code=factories.BANGGAI_VILLAGE, business_kind="mining"))
    assert caught.value.field == "business_kind"
    with pytest.raises(PermissionDenied):
        services.create_kube(session, world.ketua_a, services.KubeInput(
            name="X", village_code=factories.BANGGAI_VILLAGE, business_kind="production"))


def test_roles_inside_a_kube(session: Session, world: World) -> None:
    kube = world.kube_a
    assert Action.MANAGE_SHOP in allowed_actions(session, world.ketua_a, kube)
    assert Action.EDIT_BANK in allowed_actions(session, world.ketua_a, kube)
    anggota = allowed_actions(session, world.anggota_a, kube)
    assert Action.EDIT_PRODUCTS in anggota and Action.MANAGE_SHOP not in anggota and Action.VIEW_BANK not in anggota
    assert Action.VIEW_BANK in allowed_actions(session, world.facilitator_a, kube)
    assert Action.EDIT_BANK not in allowed_actions(session, world.facilitator_a, kube)
    assert allowed_actions(session, world.facilitator_b, kube) == frozenset()
    assert allowed_actions(session, world.buyer, kube) == frozenset()
    assert allowed_actions(session, None, kube) == frozenset()
    with pytest.raises(PermissionDenied):
        services.update_bank_account(session, world.anggota_a, kube.id, bank_name="BRI",
                                     account_number="123456789", account_holder="X")
    with pytest.raises(ValidationError):
        services.update_bank_account(session, world.ketua_a, kube.id, bank_name="BRI",
                                     account_number="12ab", account_holder="X")
    services.update_bank_account(session, world.ketua_a, kube.id, bank_name="BNI",
                                 account_number="0987 6543 21", account_holder="KUBE Kelapa A")
    assert kube.bank_account_number == "0987654321"
    member = services.add_member(session, world.ketua_a, kube.id, email=world.buyer.email, role="anggota")
    services.change_member_role(session, world.ketua_a, member.id, "bendahara")
    assert member.role == MemberRole.BENDAHARA
    with pytest.raises(PermissionDenied):
        services.remove_member(session, world.anggota_a, member.id)
    services.remove_member(session, world.ketua_a, member.id)


def test_the_ketua_hands_over_but_never_vanishes(session: Session, world: World) -> None:
    ketua = member_role(session, world.ketua_a, world.kube_a.id)
    anggota = member_role(session, world.anggota_a, world.kube_a.id)
    assert ketua is not None and anggota is not None
    with pytest.raises(ValidationError):
        services.change_member_role(session, world.ketua_a, ketua.id, "anggota")
    services.change_member_role(session, world.ketua_a, anggota.id, "ketua")
    assert anggota.role == MemberRole.KETUA and ketua.role == MemberRole.ANGGOTA
    assert Action.MANAGE_SHOP not in allowed_actions(session, world.ketua_a, world.kube_a)


def test_officers_cannot_seize_the_chair(session: Session, world: World) -> None:
    sekretaris = factories.make_user(session, "sekretaris_a")
    services.add_member(session, world.ketua_a, world.kube_a.id, email=sekretaris.email, role="sekretaris")
    ketua = member_role(session, world.ketua_a, world.kube_a.id)
    own = member_role(session, sekretaris, world.kube_a.id)
    anggota = member_role(session, world.anggota_a, world.kube_a.id)
    assert ketua is not None and own is not None and anggota is not None
    with pytest.raises(ValidationError):
        services.change_member_role(session, sekretaris, ketua.id, "anggota")
    with pytest.raises(ValidationError):
        services.remove_member(session, sekretaris, ketua.id)
    with pytest.raises(PermissionDenied):
        services.change_member_role(session, sekretaris, own.id, "ketua")
    with pytest.raises(PermissionDenied):
        services.change_member_role(session, sekretaris, anggota.id, "ketua")
    with pytest.raises(PermissionDenied):
        services.change_member_role(session, sekretaris, own.id, "bendahara")
    assert ketua.role == MemberRole.KETUA and own.role == MemberRole.SEKRETARIS
    # Officers still manage ordinary roles, and the facilitator may hand the chair over.
    services.change_member_role(session, sekretaris, anggota.id, "bendahara")
    services.change_member_role(session, world.facilitator_a, own.id, "ketua")
    assert own.role == MemberRole.KETUA and ketua.role == MemberRole.ANGGOTA
    services.remove_member(session, world.facilitator_a, own.id)
    # Now without a ketua: the remaining officers cannot name one, the facilitator can.
    outsider = factories.make_user(session, "outsider")
    with pytest.raises(PermissionDenied):
        services.add_member(session, anggota.user, world.kube_a.id, email=outsider.email, role="ketua")
    services.add_member(session, world.facilitator_a, world.kube_a.id, email=outsider.email, role="ketua")


def test_nobody_facilitates_their_own_kube(session: Session, world: World) -> None:
    world.anggota_a.is_facilitator = True
    with pytest.raises(ValidationError):
        services.assign_facilitator(session, world.operator, world.kube_a.id, world.anggota_a.id)
    with pytest.raises(ConflictError):
        services.add_member(session, world.operator, world.kube_a.id, email=world.facilitator_a.email,
                            role="anggota")


def test_category_names_are_unique_among_siblings(session: Session, world: World) -> None:
    services.save_category(session, world.operator, name_id="Madu Hutan", name_en="Forest honey")
    with pytest.raises(ConflictError):
        services.save_category(session, world.operator, name_id="madu hutan", name_en="Wild honey")
    child = services.save_category(session, world.operator, name_id="Madu Hutan", name_en="Forest honey",
                                   parent_id=world.category.id)  # the same name under another parent is fine
    services.save_category(session, world.operator, name_id="Madu Hutan", name_en="Forest honey (raw)",
                           parent_id=world.category.id, category_id=child.id)  # renaming itself is fine


def _jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (1200, 900), (30, 120, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (6.0, 30.0, 0.0)}  # GPS
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_photos_are_reencoded_without_exif(session: Session, world: World, tmp_path: Path) -> None:
    photo = services.add_product_photo(session, world.ketua_a, world.product_a.id, _jpeg_with_exif(),
                                       _limits(tmp_path))
    stored = tmp_path / "media" / photo.key[:2] / f"{photo.key}.jpg"
    thumb = tmp_path / "media" / photo.key[:2] / f"{photo.key}_thumb.jpg"
    with Image.open(stored) as img:
        assert img.format == "JPEG" and not img.getexif()
    with Image.open(thumb) as img:
        assert max(img.size) <= 480
    session.commit()
    services.remove_product_photo(session, world.ketua_a, photo.id, tmp_path / "media")
    assert stored.exists()  # until the removal is committed
    session.commit()
    assert not stored.exists() and not thumb.exists()


def _files(root: Path) -> set[str]:
    return {p.name for p in root.rglob("*.jpg")} if root.exists() else set()


def test_picture_files_follow_the_transaction(session: Session, world: World, tmp_path: Path) -> None:
    limits, root = _limits(tmp_path), tmp_path / "media"
    services.add_product_photo(session, world.ketua_a, world.product_a.id, factories.png_bytes(), limits)
    assert len(_files(root)) == 2  # picture and thumbnail
    session.rollback()
    assert _files(root) == set()  # the row never existed, neither do its files

    services.set_kube_photo(session, world.ketua_a, world.kube_a.id, factories.png_bytes(), limits)
    session.commit()
    first = _files(root)
    assert len(first) == 2
    services.set_kube_photo(session, world.ketua_a, world.kube_a.id, factories.png_bytes(), limits)
    session.rollback()
    assert _files(root) == first  # a failed replacement keeps the old picture
    services.set_kube_photo(session, world.ketua_a, world.kube_a.id, factories.png_bytes(), limits)
    session.commit()
    assert len(_files(root)) == 2 and _files(root).isdisjoint(first)  # the replaced one is gone


@pytest.mark.parametrize(
    "data",
    [
        b"this is really a text file, not a PNG",
        b"",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a PNG signature with nothing behind it
    ],
)
def test_fake_images_are_refused(session: Session, world: World, tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ValidationError) as caught:
        services.add_product_photo(session, world.ketua_a, world.product_a.id, data, _limits(tmp_path))
    assert caught.value.field == "photo"
    assert world.product_a.photos == []


def test_oversized_and_bomb_images_are_refused(session: Session, world: World, tmp_path: Path) -> None:
    limits = _limits(tmp_path)
    with pytest.raises(ValidationError):
        services.add_product_photo(session, world.ketua_a, world.product_a.id, b"x" * (limits.max_bytes + 1),
                                   limits)
    # A tiny file that decodes to a huge canvas: refused from the header, before decoding.
    bomb = io.BytesIO()
    Image.new("1", (5000, 5000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(ValidationError):
        services.add_product_photo(session, world.ketua_a, world.product_a.id, bomb.getvalue(), limits)
    assert world.product_a.photos == []


def test_category_admin(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.save_category(session, world.ketua_a, name_id="Kopi", name_en="Coffee")
    parent = services.save_category(session, world.operator, name_id="Minuman", name_en="Drinks")
    child = services.save_category(session, world.operator, name_id="Kopi", name_en="Coffee", parent_id=parent.id)
    assert child.slug == "coffee" and child.parent is parent
    with pytest.raises(ValidationError):
        services.save_category(session, world.operator, name_id="X", name_en="X", parent_id=child.id)
    with pytest.raises(ConflictError):
        services.delete_category(session, world.operator, world.category.id)  # has products
    services.delete_category(session, world.operator, child.id)
    tree = services.category_tree(session)
    assert {c.slug for c in tree} == {"coconut", "drinks"}


def test_review_queue_is_scoped(session: Session, world: World) -> None:
    services.submit_product(session, world.ketua_b, world.draft_b.id)
    assert services.review_queue(session, world.facilitator_a).products == []
    assert [p.id for p in services.review_queue(session, world.facilitator_b).products] == [world.draft_b.id]
    assert [p.id for p in services.review_queue(session, world.operator).products] == [world.draft_b.id]
    with pytest.raises(PermissionDenied):
        services.review_queue(session, world.ketua_b)


def test_any_photo_can_become_the_main_one(session: Session, world: World, tmp_path: Path) -> None:
    limits = _limits(tmp_path)
    first, second, third = (services.add_product_photo(session, world.anggota_a, world.product_a.id,
                                                       factories.png_bytes(colour=(i * 60, 90, 40)), limits)
                            for i in range(3))
    services.make_main_photo(session, world.anggota_a, third.id)
    assert [p.id for p in world.product_a.photos] == [third.id, first.id, second.id]
    assert world.product_a.main_photo is third
    with pytest.raises(NotFoundError):  # new photos sent it back to review: outsiders do not see it at all
        services.make_main_photo(session, world.ketua_b, first.id)
    with pytest.raises(NotFoundError):
        services.make_main_photo(session, world.anggota_a, 999_999)
    assert world.product_a.photos[0] is third
