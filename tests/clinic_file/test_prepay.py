"""Prepayment in the clinic file: read and written exactly, refused by path."""

from __future__ import annotations

import pytest

from bookbot import clinic_file
from bookbot.engine.policy import Prepay
from bookbot.errors import Invalid
from bookbot.services.clinic import export_clinic, import_clinic
from bookbot.store.db import Database
from tests.clinic_file.test_policy import clinic_text, problems

EUR = "currency: EUR\n"
STARS = "currency: XTR\n"


def test_a_deposit_and_an_online_service_read_in_minor_units() -> None:
    clinic = clinic_file.read(
        clinic_text(
            EUR,
            checkup=', price: "60.00", prepay: deposit, deposit: "20.50"',
            hygiene=', price: "95.00", prepay: full, online: true',
        )
    )
    checkup, hygiene = clinic.services
    assert (checkup.prepay, checkup.deposit, checkup.online) == (Prepay.DEPOSIT, 2050, False)
    assert (hygiene.prepay, hygiene.deposit, hygiene.online) == (Prepay.FULL, None, True)
    again = clinic_file.read(clinic_file.dump(clinic))
    assert again.services == clinic.services


@pytest.mark.parametrize(
    ("settings", "checkup", "expected"),
    [
        (EUR, ', price: "60.00", prepay: deposit', ("services[0].deposit", "file.deposit_missing")),
        (
            EUR,
            ', price: "60.00", deposit: "10.00"',
            ("services[0].deposit", "file.deposit_without_prepay"),
        ),
        (
            EUR,
            ', price: "60.00", prepay: deposit, deposit: "60.01"',
            ("services[0].deposit", "file.deposit_over_price"),
        ),
        (EUR, ", prepay: full", ("services[0].price", "file.prepay_without_price")),
        (EUR, ', price: "60.00", prepay: half', ("services[0].prepay", "file.not_prepay")),
        (EUR, ', price: "60.00", online: "yes"', ("services[0].online", "file.not_a_switch")),
        (
            EUR,
            ', price: "60.00", prepay: deposit, deposit: "1.001"',
            ("services[0].deposit", "file.price_too_precise"),
        ),
        ("", ", prepay: deposit", ("services[0].prepay", "file.prepay_without_currency")),
        (STARS, ", price: 100, prepay: full", ("services[0].online", "file.stars_not_online")),
        (
            EUR + "policy: {payment_hold: 25h}\n",
            "",
            ("policy.payment_hold", "file.duration_out_of_range"),
        ),
    ],
)
def test_prepayment_that_cannot_be_is_refused_by_path(
    settings: str, checkup: str, expected: tuple[str, str]
) -> None:
    assert expected in problems(clinic_text(settings, checkup=checkup))


def test_stars_for_an_online_service_need_no_provider() -> None:
    clinic = clinic_file.read(
        clinic_text(STARS, checkup=", price: 100, prepay: full, online: true")
    )
    assert clinic.services[0].price == 100


async def test_the_import_refuses_prepayment_without_a_provider_token(db: Database) -> None:
    clinic = clinic_file.read(
        clinic_text(EUR, checkup=', price: "60.00", prepay: deposit, deposit: "20.00"')
    )
    with pytest.raises(Invalid) as caught:
        await import_clinic(db, clinic)
    assert [(p.path, p.key) for p in caught.value.problems] == [
        ("services[0].prepay", "file.no_payment_provider")
    ]
    await import_clinic(db, clinic, provider=True)
    assert (await export_clinic(db)).services == clinic.services
