"""One Spark session and one small warehouse for the whole suite.

The warehouse lives in a temporary folder (FRONTIER_WAREHOUSE), so tests never touch the demo's.
dbt runs in-process and shares the session (see frontier.dbt).
"""

from __future__ import annotations

import os

import pytest

TEST_TRANSACTIONS = 20_000
TEST_SEED = 11


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    os.environ["FRONTIER_WAREHOUSE"] = str(tmp_path_factory.mktemp("warehouse"))
    os.environ.setdefault("FRONTIER_DRIVER_MEMORY", "3g")
    from frontier.spark import get_spark

    session = get_spark()
    yield session
    session.stop()


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
