"""``frontier dashboard``: live transactions, alerts, forecasts, loan risk and model health.

Built with Dash (Plotly): a dashboard is a Flask app whose panels are Python callbacks, charts
are interactive Plotly figures, and ``dcc.Interval`` refreshes the live panels every few seconds,
with no JavaScript to write. (Streamlit reruns the whole script per refresh, which would re-run
every query, and its widget tree is harder to address from a browser test.)

It reads the warehouse as a BI tool does: over HiveServer2 from the Thrift server when
``frontier serve`` answers, otherwise through an embedded Spark session, and says which on the
page. Each panel runs its own query; an empty or missing table shows what to run to fill it,
never a stack trace.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import plotly.express as px
from dash import Dash, Input, Output, dcc, html

from frontier import serve

REFRESH_MS = 5_000


class Warehouse:
    """Runs SQL and returns pandas frames; ``describe`` says how it reaches the warehouse."""

    describe = ""

    def query(self, sql: str) -> pd.DataFrame:  # pragma: no cover - interface
        raise NotImplementedError


class ThriftWarehouse(Warehouse):
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.describe = f"reading through the Thrift server at {host}:{port} (HiveServer2)"
        self._local = threading.local()

    def query(self, sql: str) -> pd.DataFrame:
        from pyhive import hive

        if not hasattr(self._local, "conn"):  # one connection per serving thread
            self._local.conn = hive.connect(host=self.host, port=self.port, username="dashboard")
        cursor = self._local.conn.cursor()
        cursor.execute(sql)
        names = [d[0].split(".")[-1] for d in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=names)


class SparkWarehouse(Warehouse):
    describe = (
        "the Thrift server is not running (`frontier serve`): reading the warehouse with an "
        "embedded Spark session"
    )

    def query(self, sql: str) -> pd.DataFrame:
        from frontier.spark import get_spark

        return get_spark().sql(sql).toPandas()


def connect() -> Warehouse:
    status = serve.status()
    if status.answering:
        return ThriftWarehouse(status.host, status.port)
    return SparkWarehouse()


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    empty: str  # what to run when there is nothing to show
    live: bool  # refreshed every REFRESH_MS


PANELS = (
    Panel("live", "Live transactions per minute (last hour of the stream)",
          "No streamed transactions yet: run `frontier stream` and feed it "
          "(`frontier simulate --rate 200`).", live=True),
    Panel("alerts", "Latest anomaly alerts",
          "No alerts yet: the stream raises them once `frontier train txn_anomaly` has a champion.",
          live=True),
    Panel("forecast", "Daily volume: forecast vs actual, 90 % interval",
          "No forecast yet: run `frontier train txn_volume_count`.", live=False),
    Panel("risk", "Loan default risk by segment (ml.predict_loan_default)",
          "No loan scores yet: run `frontier train loan_default` then "
          "`frontier build --select tag:ml`.", live=False),
    Panel("health", "Model health: champions' holdout metrics and drift",
          "No trained models yet: run `frontier train`.", live=False),
)  # fmt: skip


# -- each panel: its query and how its rows are drawn -----------------------------------------


def live_panel(db: Warehouse) -> tuple[str, list]:
    by_minute = db.query(
        "select minute_at, channel, sum(transaction_count) as transactions "
        "from marts.live_volume_minute "
        "where minute_at >= (select max(minute_at) from marts.live_volume_minute) "
        "- interval 60 minutes group by minute_at, channel order by minute_at"
    )
    if by_minute.empty:
        return "", []
    by_region = db.query(
        "select concat('region ', cast(region_id as string)) as region, "
        "sum(transaction_count) as transactions, sum(amount_czk) as amount_czk "
        "from marts.live_volume_minute "
        "where minute_at >= (select max(minute_at) from marts.live_volume_minute) "
        "- interval 60 minutes group by region_id order by region_id"
    )
    total = int(by_minute["transactions"].sum())
    latest = pd.to_datetime(by_minute["minute_at"]).max()
    summary = f"{total:,} transactions in the hour up to {latest:%Y-%m-%d %H:%M} UTC"
    return summary, [
        dcc.Graph(
            figure=px.line(
                by_minute, x="minute_at", y="transactions", color="channel", markers=True
            )
        ),
        dcc.Graph(
            figure=px.bar(by_region, x="region", y="transactions", hover_data=["amount_czk"])
        ),
    ]


def alerts_panel(db: Warehouse) -> tuple[str, list]:
    alerts = db.query(
        "select detected_at, transaction_id, account_id, amount_czk, channel, country_code, "
        "round(anomaly_score, 3) as score, reasons from marts.transaction_alerts "
        "order by detected_at desc, anomaly_score desc limit 20"
    )
    if alerts.empty:
        return "", []
    count = int(db.query("select count(*) as n from marts.transaction_alerts")["n"].iloc[0])
    summary = f"{count:,} alerts; the latest {len(alerts)} (highest score {alerts['score'].max()})"
    return summary, [_table(alerts)]


def forecast_panel(db: Warehouse) -> tuple[str, list]:
    daily = db.query(
        "select forecast_date, sum(actual) as actual, sum(predicted) as predicted, "
        "sum(lower) as lower, sum(upper) as upper, max(is_future) as is_future "
        "from marts.forecast_daily_volume where measure = 'transaction_count' "
        "group by forecast_date order by forecast_date"
    )
    if daily.empty:
        return "", []
    future = daily[daily["is_future"].astype(bool)]
    summary = (
        f"{len(daily) - len(future)} holdout days with actuals, {len(future)} days ahead; "
        f"next 7 days forecast {int(future['predicted'].head(7).sum()):,} transactions"
    )
    long = daily.melt("forecast_date", ["actual", "predicted", "lower", "upper"], "series")
    figure = px.line(long, x="forecast_date", y="value", color="series")
    return summary, [dcc.Graph(figure=figure)]


def risk_panel(db: Warehouse) -> tuple[str, list]:
    scores = db.query(
        "select segment, risk_band, count(*) as loans, "
        "avg(default_probability) as mean_probability from marts.fct_loan_default_scores "
        "group by segment, risk_band order by segment, risk_band"
    )
    if scores.empty:
        return "", []
    mean = (scores["mean_probability"] * scores["loans"]).sum() / scores["loans"].sum()
    summary = f"{int(scores['loans'].sum()):,} loans scored, mean default probability {mean:.1%}"
    figure = px.bar(scores, x="segment", y="loans", color="risk_band", barmode="stack")
    return summary, [dcc.Graph(figure=figure)]


def health_panel(db: Warehouse) -> tuple[str, list]:
    metrics = db.query(
        "select m.model_name, m.version, m.metric, round(m.value, 4) as value "
        "from ml.model_metrics m join ml.model_registry r "
        "on m.model_name = r.model_name and m.version = r.version "
        "where r.status = 'champion' and m.dataset in ('holdout', 'cross_validation') "
        "and m.decile is null "
        "and m.metric in ('auc_roc', 'auc_pr', 'mase', 'mae', 'r2') "
        "order by m.model_name, m.metric"
    )
    if metrics.empty:
        return "", []
    drift = db.query(
        "select model_name, feature, round(psi, 3) as psi, drift_level from ml.feature_drift "
        "order by psi desc limit 8"
    )
    summary = f"{metrics['model_name'].nunique()} champions"
    if not drift.empty:
        summary += f"; largest drift PSI {drift['psi'].max()} ({drift['feature'].iloc[0]})"
    return summary, [_table(metrics), _table(drift)] if not drift.empty else [_table(metrics)]


BUILDERS: dict[str, Callable[[Warehouse], tuple[str, list]]] = {
    "live": live_panel,
    "alerts": alerts_panel,
    "forecast": forecast_panel,
    "risk": risk_panel,
    "health": health_panel,
}


def _table(frame: pd.DataFrame) -> html.Table:
    head = html.Tr([html.Th(c) for c in frame.columns])
    rows = [html.Tr([html.Td(str(v)) for v in row]) for row in frame.itertuples(index=False)]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="frame")


def render_panel(db: Warehouse, panel: Panel) -> list:
    """The panel's summary line and content, or the explanation of why it is empty."""
    try:
        summary, content = BUILDERS[panel.key](db)
    except Exception as exc:  # a missing table or a failing query: say so, keep the page up
        message = str(exc).splitlines()[0][:300]
        return [html.P(panel.empty, className="empty"), html.Small(f"({message})")]
    if not content:
        return [html.P(panel.empty, className="empty")]
    return [html.P(summary, id=f"{panel.key}-summary", className="summary"), *content]


def create_app(db: Warehouse) -> Dash:
    app = Dash(__name__, title="Frontier dashboard")
    app.layout = html.Div(
        [
            html.H1("Financial Forecasting Frontier"),
            html.P(db.describe, id="source"),
            dcc.Interval(id="tick", interval=REFRESH_MS),
            *[
                html.Section([html.H2(p.title), html.Div(id=f"panel-{p.key}")], className="panel")
                for p in PANELS
            ],
        ]
    )
    for panel in PANELS:
        trigger = Input("tick", "n_intervals") if panel.live else Input("source", "children")

        def update(_, panel=panel):
            return render_panel(db, panel)

        app.callback(Output(f"panel-{panel.key}", "children"), trigger)(update)
    return app


def serve_forever(host: str, port: int) -> None:
    db = connect()
    print(f"[dashboard] {db.describe}; open http://{host}:{port}/", flush=True)
    create_app(db).run(host=host, port=port, debug=False)
