"""Timing a step and saying so on stderr as `[prefix] step: 1.2s` (benchmarks, EDA report)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def timed(prefix: str, step: str, fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn``; return what it returned and the seconds it took."""
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    print(f"[{prefix}] {step}: {elapsed:.1f}s", file=sys.stderr, flush=True)
    return out, elapsed
