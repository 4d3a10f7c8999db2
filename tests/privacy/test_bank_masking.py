"""The KUBE's payout account (personal financial data): shown only to officers, its facilitator and operators,
and even to them in full only where the number is needed (the officers' form, the operator's payout form)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.ledger import services as ledger
from marketplace.orders import services as orders
from tests.factories import World

Login = Callable[[str], FlaskClient]
Bearer = Callable[[str], dict[str, str]]
FULL = "0123456789012"  # tests.factories.make_kube's account number
MASKED = "\u2022" * 9 + "9012"


@pytest.mark.parametrize(("who", "shown"), [
    ("ketua_a", MASKED), ("facilitator_a", MASKED), ("operator", MASKED),
    ("anggota_a", None), ("buyer", None), ("ketua_b", None), ("facilitator_b", None),
])
def test_the_kube_page_masks_the_account(login_as: Login, world: World, who: str, shown: str | None) -> None:
    html = login_as(who).get(f"/kube/{world.kube_a.slug}").get_data(as_text=True)
    assert FULL not in html
    assert (MASKED in html) == (shown is not None)


def test_the_facilitator_reads_it_masked_and_officers_edit_it_in_full(login_as: Login, world: World) -> None:
    facilitator = login_as("facilitator_a").get(f"/my-kube/{world.kube_a.slug}/profile").get_data(as_text=True)
    assert MASKED in facilitator and FULL not in facilitator
    ketua = login_as("ketua_a").get(f"/my-kube/{world.kube_a.slug}/profile").get_data(as_text=True)
    assert f'value="{FULL}"' in ketua  # the form to change it needs the number


@pytest.mark.parametrize(("who", "number", "masked"), [
    ("ketua_a", FULL, False), ("facilitator_a", MASKED, True), ("operator", MASKED, True),
    ("anggota_a", None, None), ("buyer", None, None), ("ketua_b", None, None), ("anonymous", None, None),
])
def test_the_api_masks_it_for_all_but_officers(client: FlaskClient, bearer: Bearer, world: World, who: str,
                                               number: str | None, masked: bool | None) -> None:
    response = client.get(f"/api/v1/kubes/{world.kube_a.slug}", headers={} if who == "anonymous" else bearer(who))
    body = response.get_json()
    if number is None:
        assert "bank_account" not in body and FULL not in response.get_data(as_text=True)
    else:
        assert body["bank_account"]["account_number"] == number
        assert body["bank_account"]["account_number_masked"] is masked


def test_payout_histories_mask_it_and_the_payout_form_shows_it(session: Session, login_as: Login,
                                                               world: World) -> None:
    checkout = orders.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual")
    orders.confirm_payment(session, world.operator, checkout.id)
    ledger.record_payout(session, world.operator, world.kube_a.id, 10_000, "BRI 0001")
    session.commit()
    for who in ("ketua_a", "facilitator_a", "anggota_a"):
        html = login_as(who).get(f"/my-kube/{world.kube_a.slug}/ledger").get_data(as_text=True)
        assert FULL not in html, who
    assert MASKED in login_as("ketua_a").get(f"/my-kube/{world.kube_a.slug}/ledger").get_data(as_text=True)
    operator = login_as("operator").get(f"/admin/ledger/{world.kube_a.slug}").get_data(as_text=True)
    assert operator.count(FULL) == 1  # the account to transfer to; the history below is masked
    assert MASKED in operator
