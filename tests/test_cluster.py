"""The same pipeline on a Spark standalone cluster gives the same warehouse as ``local[2]``.

Marked ``cluster`` and run by ``make test-cluster`` (CI runs it after ``make test``): it starts a
master and two workers with ``frontier cluster up``, then runs ``frontier generate``, ``build``
and ``train`` as a user would, once with ``--master local[2]`` and once with ``--master
spark://…``, each on its own warehouse (embedded metastore), and compares what they produced.
It needs no session of the suite's: the only Spark applications are the commands it runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

TRANSACTIONS, SEED = 3000, 5
FRONTIER = str(Path(sys.executable).with_name("frontier"))
# Row counts and sums of every layer's main tables, and the trained model's holdout metrics.
FINGERPRINT = """
select 'rows ' || t as k, cast(n as double) as v from (
    select 'raw.core_transactions' as t, count(*) as n from raw.core_transactions
    union all select 'marts.fct_transactions', count(*) from marts.fct_transactions
    union all select 'marts.fct_daily_account_balances', count(*)
        from marts.fct_daily_account_balances
    union all select 'features.feat_loan_default', count(*) from features.feat_loan_default
    union all select 'features.feat_customer_monthly', count(*)
        from features.feat_customer_monthly
)
union all select 'sum amount_czk', cast(sum(amount_czk) as double) from marts.fct_transactions
union all select 'sum closing_balance_czk', cast(sum(closing_balance_czk) as double)
    from marts.fct_daily_account_balances
union all select 'sum txn_count_lookback', cast(sum(txn_count_lookback) as double)
    from features.feat_loan_default
union all select algorithm || ' ' || metric, value from ml.model_metrics
    where model_name = 'customer_churn' and decile is null
"""


def frontier(home: Path, *args: str) -> str:
    env = dict(os.environ, FRONTIER_WAREHOUSE=str(home), FRONTIER_METASTORE="derby")
    done = subprocess.run([FRONTIER, *args], env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"frontier {' '.join(args)}:\n{done.stderr[-3000:]}"
    return done.stdout


def pipeline(home: Path, master: str) -> dict[str, float]:
    frontier(home, "--master", master, "generate", "--transactions", str(TRANSACTIONS),
             "--seed", str(SEED))  # fmt: skip
    frontier(home, "--master", master, "build", "--full-refresh")
    frontier(home, "--master", master, "train", "customer_churn")
    out = frontier(home, "--master", master, "sql", " ".join(FINGERPRINT.split()),
                   "--format", "json", "--limit", "1000")  # fmt: skip
    rows = json.loads(out.strip().splitlines()[-1])
    return {r["k"]: r["v"] for r in rows}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A master and two workers, stopped (and their folders removed) at the end."""
    home = tmp_path_factory.mktemp("cluster")
    out = frontier(home, "cluster", "up", "--workers", "2", "--worker-memory", "3g")
    assert "2 worker(s) alive" in out, out
    try:
        yield out.split()[1].rstrip(":")  # "master spark://127.0.0.1:7077: ..."
    finally:
        frontier(home, "cluster", "down")
        shutil.rmtree(home, ignore_errors=True)


def test_cluster_run_equals_local_run(cluster, tmp_path_factory):
    assert cluster.startswith("spark://")
    local = pipeline(tmp_path_factory.mktemp("local"), "local[2]")
    remote = pipeline(tmp_path_factory.mktemp("remote"), cluster)
    assert local["rows marts.fct_transactions"] > 0 and "gbt auc_roc" in local
    assert remote.keys() == local.keys()
    different = {k: (local[k], remote[k]) for k in local if not _same(local[k], remote[k])}
    assert not different, f"local vs cluster: {different}; all local figures: {local}"


def _same(a: float | None, b: float | None) -> bool:
    """Equal up to float rounding; a metric that is undefined (None) must be so on both."""
    if a is None or b is None:
        return a is b
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)
