"""One Spark session and one small warehouse for the whole suite.

The warehouse lives in a temporary folder (FRONTIER_WAREHOUSE), so tests never touch the demo's.
dbt runs in-process and shares the session (see frontier.dbt). With FRONTIER_METASTORE=postgres
(as CI runs it, after `make metastore`) the suite gets a fresh metastore database of its own,
dropped at the end, and the Thrift server tests share it with the suite's session.
"""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from frontier import config

TEST_TRANSACTIONS = 20_000
TEST_SEED = 11


def _postgres(*command: str) -> None:
    pg = config.postgres()
    subprocess.run(
        [command[0], "-h", pg.host, "-p", str(pg.port), "-U", pg.user, *command[1:]],
        env=dict(os.environ, PGPASSWORD=pg.password),
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    os.environ["FRONTIER_WAREHOUSE"] = str(tmp_path_factory.mktemp("warehouse"))
    os.environ.setdefault("FRONTIER_DRIVER_MEMORY", "3g")
    database = None
    if config.metastore_mode() == "postgres":
        database = f"frontier_test_{uuid.uuid4().hex[:8]}"
        _postgres("createdb", database)
        os.environ["FRONTIER_PG_DATABASE"] = database
    from frontier.spark import get_spark

    session = get_spark()
    yield session
    session.stop()
    if database:
        _postgres("dropdb", "--force", database)  # the JVM may still hold a connection


@pytest.fixture(scope="session")
def generated(spark):
    """The raw tables of a small generated bank: {table: row count}."""
    from frontier.generator import Spec, generate

    return generate(spark, Spec(TEST_TRANSACTIONS, TEST_SEED))


@pytest.fixture(scope="session")
def built(generated):
    """The generated bank after a full `dbt build` (models, tests and unit tests)."""
    from frontier import dbt

    dbt.build(full_refresh=True)
    return generated


SMALL_FORESTS = {
    "random_forest": {"numTrees": 5, "maxDepth": 3},
    "gbt": {"maxIter": 5, "maxDepth": 3},
}


@pytest.fixture(scope="session")
def trained(spark, built):
    """Small champions of loan_default, txn_anomaly and txn_volume_count, the loan scores mart
    and the volume forecast: what the stream, the Thrift server and the dashboard read."""
    import dataclasses

    from frontier import dbt
    from frontier.ml import declarations, forecast
    from frontier.ml.train import train

    load = declarations.load
    train(spark, dataclasses.replace(load("loan_default"), algorithms=SMALL_FORESTS,
                                     holdout_fraction=0.4, cv_folds=None))  # fmt: skip
    gbt = {"gbt": SMALL_FORESTS["gbt"]}
    train(spark, dataclasses.replace(load("txn_anomaly"), algorithms=gbt))
    volume = train(spark, dataclasses.replace(load("txn_volume_count"), algorithms=gbt))
    forecast.write(spark, volume)
    dbt.build(select="fct_loan_default_scores")


@pytest.fixture(scope="session")
def streamed(trained, tmp_path_factory):
    """Three seconds of simulated events (5 % bad) through the stream; the feed's manifest."""
    from frontier.stream import feed, job

    manifest = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    landed = feed.simulate(rate=300, seconds=3, bad_share=0.05, manifest=manifest)
    assert all(n > 0 for n in landed.bad.values()), landed
    assert job.run(available_now=True) >= 1
    return manifest
