"""What the warehouse holds: every table per layer with its row count."""

from __future__ import annotations

from frontier import config
from frontier.spark import get_spark


def table_counts() -> list[tuple[str, str, int]]:
    spark = get_spark()
    rows = []
    for layer in config.LAYERS:
        for table in spark.catalog.listTables(layer):
            name = f"{layer}.{table.name}"
            rows.append((name, table.tableType.lower(), spark.table(name).count()))
    return rows


def print_summary() -> None:
    print(f"{'table':48s} {'type':10s} {'rows':>12s}")
    for name, kind, count in table_counts():
        print(f"{name:48s} {kind:10s} {count:>12,}")
