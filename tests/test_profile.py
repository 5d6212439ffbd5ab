"""`frontier profile`: task seconds per dbt node from a Spark event log (no Spark needed)."""

from __future__ import annotations

import json

from frontier import config, profile


def _task(stage, launch, finish, run_ms):
    return {
        "Event": "SparkListenerTaskEnd",
        "Stage ID": stage,
        "Task Info": {"Launch Time": launch, "Finish Time": finish},
        "Task Metrics": {"Executor Run Time": run_ms},
    }


def _job(stages, description=None):
    properties = {"spark.job.description": description} if description else {}
    return {"Event": "SparkListenerJobStart", "Stage IDs": stages, "Properties": properties}


EVENTS = [
    {"Event": "SparkListenerApplicationStart", "Timestamp": 1_000},
    _job([0, 1], "model.frontier.fct_transactions"),
    _task(0, 2_000, 5_000, 3_000),
    _task(1, 4_000, 9_000, 4_500),
    _job([2]),  # e.g. the driver's own query before dbt starts
    _task(2, 9_000, 9_500, 500),
    _job([3], "test.frontier.unique_x"),
    _task(3, 9_500, 11_000, 1_000),
]


def test_task_time_adds_up_per_node_most_expensive_first():
    costs = profile.node_costs(EVENTS)
    assert [c.node for c in costs] == [
        "model.frontier.fct_transactions", "test.frontier.unique_x", profile.UNLABELLED,
    ]  # fmt: skip
    fct = costs[0]
    assert (fct.task_seconds, fct.tasks) == (7.5, 2)
    assert (fct.first_start_s, fct.last_end_s) == (1.0, 8.0)  # from the application's start


def test_report_reads_the_newest_rolling_log(tmp_path):
    old = tmp_path / "eventlog_v2_local-1"
    old.mkdir()
    (old / "events_1_local-1").write_text(json.dumps(EVENTS[0]) + "\n")
    new = tmp_path / "eventlog_v2_local-2"
    new.mkdir()
    # a rolling log in two parts; part 10 sorts after part 2 by number, not by name
    (new / "events_2_local-2").write_text("".join(json.dumps(e) + "\n" for e in EVENTS[:4]))
    (new / "events_10_local-2").write_text("".join(json.dumps(e) + "\n" for e in EVENTS[4:]))
    (new / "appstatus_local-2").write_text("")
    text = profile.report(tmp_path)
    assert "eventlog_v2_local-2" in text
    assert "model.frontier.fct_transactions" in text
    assert text.splitlines()[-1].split()[0] == "9.0"  # 3 + 4.5 + 0.5 + 1 task seconds


def test_event_log_is_written_uncompressed_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("FRONTIER_EVENT_LOG", raising=False)
    assert "spark.eventLog.enabled" not in config.spark_conf()
    monkeypatch.setenv("FRONTIER_EVENT_LOG", str(tmp_path / "events"))
    conf = config.spark_conf()
    assert conf["spark.eventLog.enabled"] == "true"
    assert conf["spark.eventLog.dir"] == (tmp_path / "events").as_uri()
    assert conf["spark.eventLog.compress"] == "false"
    assert (tmp_path / "events").is_dir()  # Spark refuses to start on a missing folder
