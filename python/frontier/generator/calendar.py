"""The bank's business calendar: how busy each day is relative to an ordinary weekday.

Weekly rhythm (quiet weekends), monthly rhythm (salary days around the 25th, bills at the start
of the month), public holidays (Czech calendar: the generator's bank is Czech, like the PKDD'99
data), the pre-Christmas rush and a slow upward trend. The generator samples transaction days from
these weights, so the daily-volume forecast has real seasonality to learn.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

WEEKDAY_FACTOR = (1.0, 1.0, 1.02, 1.04, 1.12, 0.82, 0.55)  # Monday .. Sunday
FIXED_HOLIDAYS = {
    (1, 1),
    (5, 1),
    (5, 8),
    (7, 5),
    (7, 6),
    (9, 28),
    (10, 28),
    (11, 17),
    (12, 24),
    (12, 25),
    (12, 26),
}
ANNUAL_GROWTH = 0.12


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def is_holiday(day: dt.date) -> bool:
    if (day.month, day.day) in FIXED_HOLIDAYS:
        return True
    easter = easter_sunday(day.year)
    return day in (easter - dt.timedelta(days=2), easter + dt.timedelta(days=1))


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
