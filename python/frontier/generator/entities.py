"""Reference and master data of the synthetic bank: regions, branches, customers, accounts, loans.

These tables are small (tens of thousands of rows at 10M transactions), so they are drawn with a
seeded NumPy generator and handed to Spark as pandas frames. Every customer carries a hidden
``risk`` in [0, 1] that shapes both the transactions they make (more cash, more gambling, thinner
balances) and whether their loans default, so a model can learn default from earlier behaviour.
Some customers also leave (a hidden day after which their accounts go quiet), so churn can be
learned from how activity fades. The hidden columns never reach the landing zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

REGIONS = (
    # region_id, name, population share
    (1, "Prague", 0.20),
    (2, "Central Bohemia", 0.12),
    (3, "South Bohemia", 0.10),
    (4, "West Bohemia", 0.09),
    (5, "North Bohemia", 0.11),
    (6, "East Bohemia", 0.12),
    (7, "South Moravia", 0.14),
    (8, "North Moravia", 0.12),
)
CITIES = {
    1: ("Prague 1", "Prague 4", "Prague 5", "Prague 9", "Prague 10"),
    2: ("Kladno", "Mlada Boleslav", "Kolin"),
    3: ("Ceske Budejovice", "Tabor", "Pisek"),
    4: ("Plzen", "Karlovy Vary", "Cheb"),
    5: ("Usti nad Labem", "Liberec", "Teplice"),
    6: ("Hradec Kralove", "Pardubice", "Jihlava"),
    7: ("Brno", "Zlin", "Znojmo", "Olomouc"),
    8: ("Ostrava", "Opava", "Frydek-Mistek", "Karvina"),
}
FIRST_NAMES = (
    "Jan", "Petr", "Jiri", "Pavel", "Tomas", "Martin", "Lukas", "Jakub", "Eva", "Jana",
    "Marie", "Hana", "Lucie", "Petra", "Tereza", "Katerina", "Anna", "Lenka", "Adam", "Ondrej",
)  # fmt: skip
LAST_NAMES = (
    "Novak", "Svoboda", "Novotny", "Dvorak", "Cerny", "Prochazka", "Kucera", "Vesely",
    "Horak", "Nemec", "Marek", "Pospisil", "Hajek", "Jelinek", "Kral", "Ruzicka",
)  # fmt: skip
SEGMENTS = (("retail", 0.80), ("premium", 0.12), ("small_business", 0.08))
INCOME_BANDS = ("low", "middle", "high", "very_high")
MONTHLY_INCOME_CZK = {"low": 24_000, "middle": 40_000, "high": 70_000, "very_high": 140_000}
INCOME_FACTOR = {"low": 0.7, "middle": 1.0, "high": 1.5, "very_high": 2.4}
LOAN_TERMS_MONTHS = (12, 24, 36, 48, 60)
NEVER = 10**6  # day index of an event that never happens (a customer who stays)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _dates(base: dt.date, offsets: np.ndarray) -> list[dt.date]:
    return [base + dt.timedelta(days=int(o)) for o in offsets]


def regions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region_id": [r[0] for r in REGIONS],
            "region_name": [r[1] for r in REGIONS],
            "country_code": "CZ",
        }
    )


def branches(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for region_id, cities in CITIES.items():
        for city in cities:
            rows.append(
                {
                    "branch_id": 100 + len(rows) + 1,
                    "branch_name": f"{city} branch",
                    "city": city,
                    "region_id": region_id,
                    "opened_date": dt.date(1992, 1, 1)
                    + dt.timedelta(days=int(rng.integers(0, 6000))),
                }
            )
    return pd.DataFrame(rows)


def customers(rng: np.random.Generator, n: int, period: Period, branch_df: pd.DataFrame):
    """Customers with their hidden ``risk`` and ``monthly_income_czk`` (dropped before landing)."""
    region_share = np.array([r[2] for r in REGIONS])
    region_of = rng.choice([r[0] for r in REGIONS], size=n, p=region_share / region_share.sum())
    branch_ids = branch_df.groupby("region_id")["branch_id"].apply(list).to_dict()
    home_branch = [branch_ids[r][int(rng.integers(0, len(branch_ids[r])))] for r in region_of]

    segment = rng.choice([s[0] for s in SEGMENTS], size=n, p=[s[1] for s in SEGMENTS])
    # Income band leans on segment: premium customers earn more.
    band_probs = {
        "retail": [0.35, 0.45, 0.17, 0.03],
        "premium": [0.02, 0.18, 0.45, 0.35],
        "small_business": [0.15, 0.40, 0.30, 0.15],
    }
    income_band = np.array([rng.choice(INCOME_BANDS, p=band_probs[s]) for s in segment])
    age_years = np.clip(rng.normal(44, 14, size=n), 18, 90)
    birth_offsets = -(age_years * 365.25).astype(int) - rng.integers(0, 365, size=n)
    joined_offsets = -rng.integers(0, 15 * 365, size=n) + rng.integers(0, period.days - 90, size=n)
    joined_offsets = np.minimum(joined_offsets, period.days - 90)

    # Hidden propensity to get into trouble: skewed low, higher for the young and low earners.
    youth = np.clip((40 - age_years) / 40, 0, 1)
    low_income = np.isin(income_band, ["low"]).astype(float)
    risk = np.clip(rng.beta(1.6, 5.0, size=n) + 0.15 * youth + 0.10 * low_income, 0, 1)

    monthly_income = np.array([MONTHLY_INCOME_CZK[b] for b in income_band]) * rng.lognormal(
        0, 0.15, size=n
    )
    first = rng.choice(FIRST_NAMES, size=n)
    last = rng.choice(LAST_NAMES, size=n)
    # Attrition: some customers go quiet for good (riskier ones more often) on a day between 120
    # days after joining and a year past the period; only the silence in their postings shows it.
    joined_idx = np.maximum(joined_offsets, 0)
    leaves = rng.random(n) < 0.25 + 0.30 * risk
    leave_day = joined_idx + 120 + (rng.random(n) * (period.days + 365 - joined_idx)).astype(int)
    return pd.DataFrame(
        {
            "customer_id": np.arange(100_001, 100_001 + n),
            "full_name": [f"{f} {ln}" for f, ln in zip(first, last, strict=True)],
            "birth_date": _dates(period.end, birth_offsets),
            "segment": segment,
            "income_band": income_band,
            "home_branch_id": home_branch,
            "joined_date": _dates(period.start, joined_offsets),
            "risk": risk,
            "monthly_income_czk": monthly_income.round(2),
            "leaves_idx": np.where(leaves, leave_day, NEVER),
        }
    )


def accounts(rng: np.random.Generator, n: int, period: Period, cust: pd.DataFrame) -> pd.DataFrame:
    """Accounts: every customer has one; the rest go to random customers."""
    n_cust = len(cust)
    owner_idx = np.concatenate(
        [np.arange(n_cust), rng.integers(0, n_cust, size=max(0, n - n_cust))]
    )
    owner_idx = owner_idx[:n]
    owners = cust.iloc[owner_idx].reset_index(drop=True)
    first_account = np.arange(n) < n_cust

    account_type = np.where(
        owners["segment"].to_numpy() == "small_business",
        "business",
        np.where(
            first_account, "current", rng.choice(["current", "savings"], size=n, p=[0.6, 0.4])
        ),
    )
    joined = np.array([(d - period.start).days for d in owners["joined_date"]])
    # First account opens when the customer joins; later ones at a random later date.
    later = joined + (rng.random(n) * np.maximum(period.days - 30 - joined, 1)).astype(int)
    opened = np.where(first_account, joined, np.minimum(later, period.days - 30))
    branch = np.where(
        rng.random(n) < 0.9,
        owners["home_branch_id"].to_numpy(),
        rng.choice(owners["home_branch_id"].unique(), size=n),
    )
    account_id = np.arange(1_000_001, 1_000_001 + n)
    check = (account_id * 7919) % 97
    account_number = [f"CZ{c:02d}0800{a:016d}" for c, a in zip(check, account_id, strict=True)]
    # How busy an account is: heavy-tailed, savings accounts are quiet.
    activity = rng.lognormal(0, 0.6, size=n) * np.where(account_type == "savings", 0.15, 1.0)
    income_factor = owners["income_band"].map(INCOME_FACTOR).to_numpy() * np.where(
        account_type == "business", 2.0, 1.0
    )
    opening_balance = (
        owners["monthly_income_czk"].to_numpy() * rng.uniform(0.3, 3.0, size=n)
    ).round(2)
    return pd.DataFrame(
        {
            "account_id": account_id,
            "customer_id": owners["customer_id"].to_numpy(),
            "branch_id": branch,
            "account_number": account_number,
            "account_type": account_type,
            "currency": "CZK",
            "opened_date": _dates(period.start, opened),
            "opening_balance": opening_balance,
            # hidden profile, used to draw transactions
            "opened_idx": opened,
            "closed_idx": owners["leaves_idx"].to_numpy(),
            "activity": activity,
            "income_factor": income_factor,
            "risk": owners["risk"].to_numpy(),
        }
    )


def loans(rng: np.random.Generator, period: Period, cust: pd.DataFrame, acct: pd.DataFrame):
    """Loans applied for inside the period; the outcome depends on the hidden risk and burden.

    Applications start 120 days into the period so every loan has transaction history before it.
    Status codes follow the PKDD'99 convention: A paid off, B defaulted after maturity,
    C running and fine, D running and in arrears. B and D count as default.
    """
    current = acct[acct["account_type"].isin(["current", "business"])]
    first_account = current.drop_duplicates("customer_id").set_index("customer_id")
    eligible = cust[cust["customer_id"].isin(first_account.index)].reset_index(drop=True)
    takes_loan = rng.random(len(eligible)) < (0.22 + 0.15 * eligible["risk"].to_numpy())
    borrowers = eligible[takes_loan].reset_index(drop=True)
    n = len(borrowers)

    acct_of = first_account.loc[borrowers["customer_id"]]
    earliest = np.maximum(acct_of["opened_idx"].to_numpy() + 120, 120)
    application = earliest + (rng.random(n) * np.maximum(period.days - 30 - earliest, 1)).astype(
        int
    )
    term = rng.choice(LOAN_TERMS_MONTHS, size=n)
    income = borrowers["monthly_income_czk"].to_numpy()
    amount = (income * rng.uniform(2, 18, size=n)).round(-3)
    burden = amount / (income * 12)
    risk = borrowers["risk"].to_numpy()
    # Default odds rise with the hidden risk (visible in behaviour) and with the loan burden.
    logit = -4.3 + 6.5 * risk + 0.9 * burden + rng.normal(0, 0.4, size=n)
    defaults = rng.random(n) < 1 / (1 + np.exp(-logit))
    matured = application + term * 30 <= period.days - 1
    status = np.where(defaults, np.where(matured, "B", "D"), np.where(matured, "A", "C"))
    # The bank prices on what it sees: income and burden, plus noise; not the hidden risk.
    rate = (0.049 + 0.012 * burden + 0.02 * (income < 30_000) + rng.normal(0, 0.004, size=n)).round(
        4
    )
    return pd.DataFrame(
        {
            "loan_id": np.arange(5_001, 5_001 + n),
            "account_id": acct_of["account_id"].to_numpy(),
            "application_date": _dates(period.start, application),
            "amount": amount,
            "term_months": term,
            "interest_rate": rate,
            "status": status,
            "status_updated_date": period.end,
        }
    )
