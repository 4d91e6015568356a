"""Alerts: a job's failure rate crossing ``[alerts] raise_rate`` over the last
``window_hours`` with at least ``min_runs`` runs, or a new failure cluster.

Hysteresis: a raised job alert clears only below ``clear_rate``, and fires
again only after it cleared, so each crossing alerts once. Every alert is
logged (the Atom feed reads the log) and POSTed as JSON to ``webhook_url``
with retries (tenacity); one that could not be delivered is retried by the
next ``ci-health analyze``.
"""
from __future__ import annotations

import datetime as dt
import json
import urllib.request

from tenacity import retry, stop_after_attempt, wait_exponential

from ..analytics.jsonsafe import clean
from ..analytics.rates import rate
from ..queries import insight_store as store
from .options import AlertOptions, InsightOptions


def job_rates(runs, since: dt.datetime) -> dict[str, dict]:
    """Failure rate per job over the runs at or after ``since`` (pandas frame)."""
    recent = runs[(runs["run_at"] >= since)
                  & ((runs["fails"].fillna(0) > 0) | (runs["passes"].fillna(0) > 0))]
    out = {}
    for job, group in recent.dropna(subset=["job"]).groupby("job"):
        failed = int((group["fails"].fillna(0) > 0).sum())
        out[job] = rate(failed, len(group) - failed)
    return out


def decide(rates: dict[str, dict], raised: set[str], new_clusters: list[dict],
           options: AlertOptions) -> tuple[list[dict], dict[str, bool]]:
    """The alerts to fire and the subjects whose raised state changes (pure)."""
    fire, changes = [], {}
    for job, r in sorted(rates.items()):
        subject = f"job:{job}"
        if r["n"] < options.min_runs or r["failure_rate"] is None:
            continue
        if subject not in raised and r["failure_rate"] >= options.raise_rate:
            changes[subject] = True
            fire.append({"kind": "job_failure_rate", "subject": subject,
                         "title": f"{job}: failure rate {r['failure_rate']:.0%} over the last "
                                  f"{options.window_hours} h ({r['n']} runs)",
                         "job": job, **r, "raise_rate": options.raise_rate})
        elif subject in raised and r["failure_rate"] < options.clear_rate:
            changes[subject] = False
    if options.new_clusters:
        for c in new_clusters:
            subject = f"cluster:{c['id']}"
            if subject in raised:
                continue
            changes[subject] = True
            fire.append({"kind": "new_cluster", "subject": subject,
                         "title": f"New failure cluster ({c['failures']} failures, "
                                  f"{c['tests']} tests): {c['signature'][:200]}",
                         "cluster_id": c["id"], "signature": c["signature"],
                         "first_seen": c["first_seen"], "failures": c["failures"]})
    return fire, changes


@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.5, max=4), reraise=True)
def post_json(url: str, payload: dict, timeout: float = 10.0) -> None:
    body = json.dumps(payload).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": "ci-health-alerts"})
    with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 (configured URL)
        response.read()


def run_alerts(engine, runs, clusters: list[dict], options: AlertOptions,
               now: dt.datetime | None = None) -> dict:
    """Decide, log and deliver; returns {"fired": n, "delivered": n, "failed": n}."""
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    latest = runs["run_at"].max() if len(runs) else now
    since = latest - dt.timedelta(hours=options.window_hours)
    new_clusters = [c for c in clusters if c["new"]]
    with engine.begin() as conn:
        raised = store.raised_subjects(conn)
        fire, changes = decide(job_rates(runs, since), raised, new_clusters, options)
        for subject, state in changes.items():
            store.set_raised(conn, subject, state, now)
        for alert in fire:
            store.add_alert(conn, alert["kind"], alert["subject"], alert["title"],
                            json.dumps(clean(alert)), now)
    delivered = failed = 0
    if options.webhook_url:
        with engine.connect() as conn:
            pending = store.undelivered(conn)
        for row in pending:
            try:
                post_json(options.webhook_url, {"id": row.id, "kind": row.kind,
                                                "title": row.title, "fired_at": clean(row.fired_at),
                                                "detail": json.loads(row.payload)})
            except OSError:
                failed += 1
                continue
            with engine.begin() as conn:
                store.mark_delivered(conn, row.id, dt.datetime.now(dt.timezone.utc)
                                     .replace(tzinfo=None))
            delivered += 1
    return {"fired": len(fire), "delivered": delivered, "undelivered": failed}


def analyze_with_alerts(engine, insight: InsightOptions, alerts: AlertOptions) -> dict:
    """``ci-health analyze``: every analysis stored, then the alerts."""
    from .analyze import analyze_and_store, period, run_frame
    summary = analyze_and_store(engine, insight)
    with engine.connect() as conn:
        start, stop = period(conn, insight)
        runs = run_frame(conn, start, stop, insight)
        doc = store.load_analysis(conn, "clusters")
    clusters = json.loads(doc.payload)["clusters"] if doc else []
    summary["alerts"] = run_alerts(engine, runs, clusters, alerts)
    return summary

