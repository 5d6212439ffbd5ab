"""The PKDD'99 loader's decoding, on hand-made rows and on the real files (pandas only, no Spark).

The whole path (`frontier load berka`, `build --full-refresh`, `train`) is measured in the
README; here: dates, birth numbers, codes and the booking order the running balance implies.
"""

from __future__ import annotations

import pandas as pd
import pytest

from frontier.sources import berka


def test_dates_and_birth_numbers():
    assert berka.yymmdd(pd.Series(["930705", "931107 00:00:00", "9313xx"])).tolist() == [
        "1993-07-05", "1993-11-07", "",
    ]  # fmt: skip
    birth, sex = berka.birth_number(pd.Series(["706213", "450204", "x"]))
    assert birth.tolist() == ["1970-12-13", "1945-02-04", ""]
    assert sex.tolist() == ["female", "male", ""]


def test_booking_order_follows_the_running_balance_not_the_ids():
    # One day of account 7: interest (id 9) was booked before the fee (id 5).
    t = pd.DataFrame({
        "trans_id": ["1", "5", "9", "12"],
        "account_id": ["7", "7", "7", "7"],
        "date": ["930101", "930131", "930131", "930201"],
        "type": ["PRIJEM", "VYDAJ", "PRIJEM", "VYDAJ"],
        "amount": ["1000.00", "14.60", "203.00", "100.00"],
        "balance": ["1000.00", "1188.40", "1203.00", "1088.40"],
    })  # fmt: skip
    assert berka.booking_sequence(t).tolist() == ["1", "3", "2", "4"]


@pytest.fixture(scope="module")
def extracts():
    folder = berka.default_path()
    if not folder.is_dir():
        pytest.skip(f"the PKDD'99 files are not at {folder}")
    return berka.extracts(folder)


def test_real_files_decode_completely(extracts):
    loans = extracts["loans"]
    assert len(loans) == 682 and loans.status.isin(["B", "D"]).sum() == 76
    t = extracts["transactions"]
    assert len(t) == 98_845
    assert set(t.transaction_type) == {"credit", "withdrawal", "cash_withdrawal"}
    assert set(t.operation) - {""} <= set(berka.OPERATION.values())
    assert set(t.purpose) - {"", " "} <= set(berka.PURPOSE.values())
    clients = extracts["clients"]
    assert (clients.birth_date != "").all() and set(clients.sex) == {"female", "male"}
    assert set(extracts["accounts"].statement_frequency) == set(berka.FREQUENCY.values())


def test_real_balances_chain_in_booking_order(extracts):
    t = (
        extracts["transactions"]
        .assign(
            amount=lambda f: f.amount.astype(float),
            balance=lambda f: f.balance.astype(float),
            sequence=lambda f: f.booking_sequence.astype(int),
        )
        .sort_values(["account_id", "sequence"])
    )
    signed = t.amount.where(t.transaction_type == "credit", -t.amount)
    gap = (t.balance - t.groupby("account_id").balance.shift() - signed).abs()
    # Each posting's balance is the previous one's plus its amount; the bank rounded some
    # amounts by 0.10 against its balances, and two postings disagree by more.
    assert (gap > 1).sum() <= 2
    assert (gap > 0.01).sum() < 0.05 * len(t)
