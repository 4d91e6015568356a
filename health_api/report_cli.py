"""``ci-health report ci``: the CI scoreboard and missed patch sets in a terminal.

The same figures as /api/v1/ci/scoreboard and /api/v1/ci/systems/<name>/coverage
(health_api.api.ci_reports computes both), for operators who live in a shell.
"""
from __future__ import annotations

import datetime as dt
import json

import click

from .clitools import CliError, db_option, fail_cleanly, parse_time

MISSED_LISTED = 50


@click.group()
def report() -> None:
    """Reports for the terminal."""


@report.command("ci")
@db_option
@click.option("--project", metavar="P", default=None, help="Only this Gerrit project.")
@click.option("--system", metavar="S", default=None,
              help="Only this CI system (Gerrit username): also lists its missed patch sets.")
@click.option("--days", type=click.IntRange(1, 365), default=7, show_default=True,
              help="The window: this many days before --until.")
@click.option("--until", metavar="TIME", default=None,
              help="End of the window (ISO 8601, UTC); default: now.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of tables.")
@fail_cleanly()
def report_ci(db_url, project, system, days, until, as_json):
    """The CI scoreboard and the patch sets CI systems missed."""
    from .analytics.jsonsafe import clean
    from .api.ci_reports import coverage, load_ci_settings, scoreboard
    from .api.errors import ApiError
    from .cli import open_engine
    from .config import load_config

    stop = parse_time(until, "--until") or dt.datetime.now(dt.timezone.utc).replace(
        tzinfo=None, microsecond=0)
    start = stop - dt.timedelta(days=days)
    settings = load_ci_settings(load_config())
    engine = open_engine(db_url)
    try:
        with engine.connect() as conn:
            board = scoreboard(conn, settings, start, stop, project)
            rows = [r for r in board["systems"] if system is None or r["system"] == system]
            if system is not None and not rows:
                raise CliError(f"--system: no CI system {system!r}")
            names = [r["system"] for r in rows if r["reports"] or r["declared"]]
            missed = {name: coverage(conn, settings, name, start, stop, "missed",
                                     MISSED_LISTED if system else 0, 0, project)
                      for name in names}
    except ApiError as exc:
        raise CliError(f"--{exc.field}: {exc.message}") from None
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(clean({"start": start, "stop": stop, "project": project,
                                     "systems": rows, "coverage": missed})))
        return
    click.echo(f"CI systems {_t(start)} .. {_t(stop)}" + (f", project {project}" if project else ""))
    click.echo(_table(["CI system", "status", "reports", "success", "95% interval", "unparsed",
                       "to report", "last report", "eligible", "missed"],
                      [[r["system"], r["status"].replace("_", " "), r["reports"],
                        _pct(r["success_rate"]), _interval(r["ci_low"], r["ci_high"]),
                        _pct(r["unparsed_share"]), _duration(r["report_delay_median"]),
                        _t(r["last_seen"]) if r["last_seen"] else "never",
                        missed[r["system"]]["eligible"] if r["system"] in missed else "",
                        missed[r["system"]]["missed"] if r["system"] in missed else ""]
                       for r in rows]))
    if system is not None and system in missed:
        listed = missed[system]["patch_sets"]
        click.echo("")
        click.echo(f"Missed patch sets of {system}: {missed[system]['missed']} "
                   f"(newest {len(listed)} listed)")
        if listed:
            click.echo(_table(["change,ps", "project", "uploaded", "subject"],
                              [[f"{p['change']},{p['patch_set']}", p["project"],
                                _t(p["created_on"]), p["subject"] or ""] for p in listed]))


def _t(value) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value).replace("T", " ").replace("Z", "")[:16]


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _interval(low, high) -> str:
    return "-" if low is None else f"{low * 100:.1f}-{high * 100:.1f}%"


def _duration(seconds) -> str:
    if seconds is None:
        return "-"
    minutes = int(seconds) // 60
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _table(header: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [all(_is_number(row[i]) for row in cells[1:]) and len(cells) > 1
               for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if numeric[i] else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    return text.replace(".", "", 1).replace("%", "").replace("-", "").isdigit() or text in ("-", "")
