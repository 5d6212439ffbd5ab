"""Where a run's CPU went, per dbt node: ``frontier profile`` over Spark's event log.

Run anything with ``FRONTIER_EVENT_LOG=<folder>`` (see config.spark_conf) and Spark writes its
event log there. ``frontier build`` labels every Spark job with the dbt node that submitted it
(the job description, see frontier.dbt), so the tasks' run time adds up per model and test. On
two cores the nodes of a dbt build overlap and a model's own elapsed time says little; the task
seconds say what it costs, whatever ran beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

UNLABELLED = "(not a dbt node)"


@dataclass
class NodeCost:
    node: str
    task_seconds: float = 0.0
    tasks: int = 0
    first_start_s: float = float("inf")  # from the application's start
    last_end_s: float = 0.0


def latest_log(folder: Path) -> Path:
    """The newest application's event log in ``folder`` (a file, or a rolling log's folder)."""
    logs = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if not logs:
        raise FileNotFoundError(f"no Spark event log in {folder}")
    return max(logs, key=lambda p: p.stat().st_mtime)


def _events(log: Path) -> Iterator[dict]:
    files = sorted(log.glob("events_*"), key=_part) if log.is_dir() else [log]
    for path in files:
        if path.suffix in (".zstd", ".lz4", ".snappy", ".lzf"):
            raise ValueError(f"{path} is compressed: set spark.eventLog.compress=false")
        with open(path) as fh:
            for line in fh:
                yield json.loads(line)


def _part(path: Path) -> int:
    """A rolling log's part number (events_<n>_<app id>)."""
    return int(path.name.split("_")[1])


def node_costs(events: Iterable[dict]) -> list[NodeCost]:
    """Task run time per job description, most expensive first."""
    started = None
    stage_node: dict[int, str] = {}
    costs: dict[str, NodeCost] = {}
    for event in events:
        kind = event["Event"]
        if kind == "SparkListenerApplicationStart":
            started = event["Timestamp"]
        elif kind == "SparkListenerJobStart":
            node = (event.get("Properties") or {}).get("spark.job.description") or UNLABELLED
            for stage in event["Stage IDs"]:
                stage_node[stage] = node
        elif kind == "SparkListenerTaskEnd":
            node = stage_node.get(event["Stage ID"], UNLABELLED)
            cost = costs.setdefault(node, NodeCost(node))
            cost.task_seconds += (event.get("Task Metrics") or {}).get("Executor Run Time", 0) / 1e3
            cost.tasks += 1
            info = event["Task Info"]
            origin = started if started is not None else info["Launch Time"]
            cost.first_start_s = min(cost.first_start_s, (info["Launch Time"] - origin) / 1e3)
            cost.last_end_s = max(cost.last_end_s, (info["Finish Time"] - origin) / 1e3)
    return sorted(costs.values(), key=lambda c: c.task_seconds, reverse=True)


def report(folder: Path, top: int = 25) -> str:
    log = latest_log(folder)
    costs = node_costs(_events(log))
    total = sum(c.task_seconds for c in costs) or 1.0
    lines = [f"{log}", f"{'task s':>8} {'share':>6} {'tasks':>6} {'from s':>7} {'to s':>7}  node"]
    for c in costs[:top]:
        lines.append(
            f"{c.task_seconds:8.1f} {100 * c.task_seconds / total:5.1f}% {c.tasks:6d} "
            f"{c.first_start_s:7.1f} {c.last_end_s:7.1f}  {c.node}"
        )
    lines.append(f"{total:8.1f} task seconds in {len(costs)} nodes")
    return "\n".join(lines)
