"""Button data is decoded strictly: only ASCII digits, and ids the database can hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbot.bot import callbacks
from bookbot.config import load
from bookbot.errors import BadInput


@pytest.mark.parametrize(
    "data",
    [
        "c:١",
        "x:１２",
        "y:99999999999",
        "r:2147483648",
        "w:2147483648-5",
        "w:١-5",
        "c:0",
        "g:007",
        "d:２０２６１２０１",
        "m:٢٠٢٦١٢",
        "q:p.١",
        "q:t２０２６１２０１.1",
        "W:999912319999123100",  # a year past 2099: no date sums to overflow
        "J:20261201199912310",
        "W:20261301202612310",  # no 13th month
        "W:20261201202612313",  # no fourth choice of dates
        "J:20261201202612318",  # parts are three bits
    ],
)
def test_forged_digits_and_ids_past_the_column_are_no_tap(data: str) -> None:
    assert callbacks.decode(data) is None


def test_the_largest_id_the_database_holds_is_still_a_tap() -> None:
    tap = callbacks.decode("y:2147483647")
    assert tap is not None and tap.number() == 2**31 - 1
    rated = callbacks.decode("w:2147483647-5")
    assert rated is not None


@pytest.mark.parametrize("value", ["١٢٣", "-5", "0", str(2**53), "12,abc", "9" * 40])
def test_admin_ids_in_the_environment_are_ascii_telegram_ids(value: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput) as refused:
        load({"BOOKBOT_ADMINS": value}, tmp_path / ".env")
    assert refused.value.params["name"] == "BOOKBOT_ADMINS"


def test_admin_ids_that_fit_are_read(tmp_path: Path) -> None:
    assert load({"BOOKBOT_ADMINS": "42, 2097152"}, tmp_path / ".env").admins == {42, 2097152}
