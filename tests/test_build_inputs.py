"""What `frontier build` compares with the last whole-project build (no Spark: records only)."""

from __future__ import annotations

import json

from frontier import build_inputs

# The transactions source as last recorded: (relation, digest).
TRANSACTIONS = {"core.transactions": ("raw.core_transactions", "t1")}


def _record(monkeypatch, home, sources: dict[str, tuple[str, str]]) -> None:
    """A warehouse at ``home`` whose record, as build_inputs.record writes it, holds
    ``sources`` (source name -> (relation, digest))."""
    monkeypatch.setenv("FRONTIER_WAREHOUSE", str(home))
    # dbt's last invocation, as target/run_results.json would say
    monkeypatch.setattr(build_inputs, "_last_invocation_id", lambda: "invocation-1")
    (home / "last_build.json").write_text(
        json.dumps(
            {
                "invocation_id": "invocation-1",
                "project": "project-digest",
                "sources": {
                    name: {"relation": relation, "digest": digest}
                    for name, (relation, digest) in sources.items()
                },
            }
        )
    )


def test_only_sources_whose_digest_changed_are_selected(monkeypatch, tmp_path):
    _record(monkeypatch, tmp_path, {**TRANSACTIONS, "core.accounts": ("raw.core_accounts", "a1")})
    inputs = {
        "project": "project-digest",
        "tables": {"raw.core_transactions": "t1", "raw.core_accounts": "a1"},
    }
    assert build_inputs.changed_sources(inputs) == []
    inputs["tables"]["raw.core_transactions"] = "t2"
    assert build_inputs.changed_sources(inputs) == ["core.transactions"]
    # a source table dropped since counts as changed
    del inputs["tables"]["raw.core_accounts"]
    assert build_inputs.changed_sources(inputs) == ["core.accounts", "core.transactions"]
    # other code or settings: everything
    assert build_inputs.changed_sources({**inputs, "project": "other"}) is None


def test_a_source_outside_raw_makes_every_build_whole(monkeypatch, tmp_path):
    """Only `raw` tables are digested: a source elsewhere cannot be told unchanged."""
    _record(monkeypatch, tmp_path, {**TRANSACTIONS, "partner.rates": ("partner.rates", "missing")})
    inputs = {"project": "project-digest", "tables": {"raw.core_transactions": "t1"}}
    assert build_inputs.changed_sources(inputs) is None


def test_no_record_means_a_whole_build(monkeypatch, tmp_path):
    monkeypatch.setenv("FRONTIER_WAREHOUSE", str(tmp_path))
    assert build_inputs.changed_sources({"project": "project-digest", "tables": {}}) is None
    _record(monkeypatch, tmp_path, {})
    build_inputs.forget()
    assert not (tmp_path / "last_build.json").exists()


def test_another_dbt_invocation_since_means_a_whole_build(monkeypatch, tmp_path):
    """A plain `dbt run -s …` since the record: what it rebuilt is unknown."""
    _record(monkeypatch, tmp_path, TRANSACTIONS)
    inputs = {"project": "project-digest", "tables": {"raw.core_transactions": "t1"}}
    assert build_inputs.changed_sources(inputs) == []
    monkeypatch.setattr(build_inputs, "_last_invocation_id", lambda: "invocation-2")
    assert build_inputs.changed_sources(inputs) is None
