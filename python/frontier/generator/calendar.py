"""The bank's business calendar: how busy each day is relative to an ordinary weekday.

Weekly rhythm (quiet weekends), monthly rhythm (salary days around the 25th, bills at the start
of the month), public holidays (the Czech calendar in ``seeds/public_holidays.csv``: the
generator's bank is Czech, like the PKDD'99 data), the pre-Christmas rush and a slow upward
trend. The generator samples transaction days from these weights, so the daily-volume forecast
has real seasonality to learn.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools

import numpy as np

from frontier import config

WEEKDAY_FACTOR = (1.0, 1.0, 1.02, 1.04, 1.12, 0.82, 0.55)  # Monday .. Sunday
ANNUAL_GROWTH = 0.12


@functools.cache
def holidays() -> frozenset[dt.date]:
    """Public holidays from the dbt seed, which the warehouse's calendar features read too."""
    with open(config.project_root() / "seeds" / "public_holidays.csv", newline="") as fh:
        return frozenset(dt.date.fromisoformat(row["holiday_date"]) for row in csv.DictReader(fh))


def is_holiday(day: dt.date) -> bool:
    return day in holidays()


def day_weight(day: dt.date, origin: dt.date) -> float:
    """Expected activity on ``day`` relative to an ordinary Monday at ``origin``."""
    weight = WEEKDAY_FACTOR[day.weekday()]
    if 24 <= day.day <= 27:
        weight *= 1.35  # salaries arrive and get spent
    elif day.day <= 2:
        weight *= 1.15  # rent, utilities, standing orders
    if day.month == 12 and 1 <= day.day <= 23:
        weight *= 1.25
    if is_holiday(day):
        weight *= 0.45
    years = (day - origin).days / 365.25
    return weight * (1.0 + ANNUAL_GROWTH) ** years


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def inverse_cdf_table(start: dt.date, end: dt.date, buckets: int) -> np.ndarray:
    """Day index (0 = ``start``) for each of ``buckets`` equal-probability quantiles."""
    weights = np.array([day_weight(d, start) for d in days(start, end)])
    cdf = np.cumsum(weights) / weights.sum()
    quantiles = (np.arange(buckets) + 0.5) / buckets
    return np.searchsorted(cdf, quantiles).astype(np.int32)


def cdf_at(start: dt.date, end: dt.date) -> np.ndarray:
    """Share of the period's activity that falls before each day (index 0 = ``start``)."""
    weights = np.array([day_weight(d, start) for d in days(start, end)])
    return np.concatenate([[0.0], np.cumsum(weights)[:-1]]) / weights.sum()
