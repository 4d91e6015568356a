"""The ``ci-health`` command line (exit codes and errors: see clitools.py).

Commands live in their own modules and are imported only when run (or asked
for their --help): ``ci-health --help`` loads click and nothing else, and
each command loads only what it uses. Add a command with one row in
``LAZY_COMMANDS`` at the end of this file.
"""
from __future__ import annotations

import importlib

import click

from . import __version__
from .clitools import open_engine  # noqa: F401  (kept importable from here)


class LazyGroup(click.Group):
    """A click group whose subcommands are ``module:attribute`` names,
    imported on first use; the group's --help shows their one-line help
    from the table without importing them."""

    def __init__(self, *args, lazy_commands=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = {name: (target, help_) for name, target, help_ in lazy_commands}

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None and name in self.lazy_commands:
            module_name, _, attribute = self.lazy_commands[name][0].partition(":")
            module = importlib.import_module(module_name, __package__)
            command = getattr(module, attribute)
            self.add_command(command, name)
        return command

    def format_commands(self, ctx, formatter):
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(formatter.width)))
            else:
                rows.append((name, self.lazy_commands[name][1]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="ci-health")
def main() -> None:
    """ci-health: CI health from subunit results and Gerrit CI verdicts."""


#: (command name, "module:attribute" relative to this package, one-line help)
LAZY_COMMANDS = [
    ("analyze", ".insight.cli:analyze",
     "Precompute failure intelligence (flaky tests, clusters, broken since) and fire alerts."),
    ("db", ".db_cli:db", "Schema management and data retention."),
    ("demo-data", ".demo.cli:demo_data",
     "Write a deterministic synthetic gate history (runs, tests, flaky tests)."),
    ("gerrit", ".cli_gerrit:gerrit", "Collect CI verdicts from Gerrit (stream events, REST backfill, journal replay)."),
    ("ingest", ".ingest.cli:ingest", "Store test results: one run per file."),
    ("report", ".report_cli:report", "Reports for a terminal (the CI scoreboard and missed patch sets)."),
    ("serve", ".serve_cli:serve", "Serve the API and the dashboard."),
    ("token", ".tokens_cli:token", "Bearer tokens for uploads and CI reports."),
    ("zuul", ".cli_zuul:zuul", "Import CI verdicts from a Zuul's builds API."),
]
main.lazy_commands.update({name: (target, help_) for name, target, help_ in LAZY_COMMANDS})


if __name__ == "__main__":  # pragma: no cover
    main()
