"""SQLAlchemy 2 ORM classes, mapped onto the Core tables of
health_api.db.tables (the one definition of the schema; see there).

Everything that works on tables (queries, ingest, migrations) may import the
table objects from here or, to stay clear of the ORM's import cost (the
ingest path does), from health_api.db.tables.
"""
from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from .tables import (OWN_INDEXES, SUBUNIT2SQL_TABLES,  # noqa: F401 - re-exported
                     AttachmentBlob, Id, TestIdString, attachments, job_daily, metadata,
                     rolled_runs, run_metadata, runs, test_daily, test_metadata,
                     test_run_metadata, test_runs, tests)
from .tables_extra import (CI_TABLES, LongText, NameString, alert_state,  # noqa: F401
                        alerts, analysis, api_tokens, changes, ci_comments, ci_daily_jobs,
                        ci_daily_reports, ci_first_reports, ci_job_results,
                        ci_recheck_requests, ci_systems, ci_verifications, cluster_labels,
                        collector_state, patch_sets)


class Base(DeclarativeBase):
    metadata = metadata


class Test(Base):
    __table__ = tests


class Run(Base):
    __table__ = runs


class TestRun(Base):
    __table__ = test_runs


class RunMetadata(Base):
    __table__ = run_metadata


class TestRunMetadata(Base):
    __table__ = test_run_metadata


class TestMetadata(Base):
    __table__ = test_metadata


class Attachment(Base):
    __table__ = attachments


class JobDaily(Base):
    __table__ = job_daily


class TestDaily(Base):
    __table__ = test_daily


class RolledRun(Base):
    __table__ = rolled_runs


class CiSystem(Base):
    __table__ = ci_systems


class GerritChange(Base):
    __table__ = changes


class PatchSet(Base):
    __table__ = patch_sets


class CiComment(Base):
    __table__ = ci_comments


class CiJobResult(Base):
    __table__ = ci_job_results


class CiVerification(Base):
    __table__ = ci_verifications


class CiRecheckRequest(Base):
    __table__ = ci_recheck_requests


class CiDailyJobs(Base):
    __table__ = ci_daily_jobs


class CiDailyReports(Base):
    __table__ = ci_daily_reports


class CiFirstReport(Base):
    __table__ = ci_first_reports


class CollectorState(Base):
    __table__ = collector_state


class ApiToken(Base):
    __table__ = api_tokens


class Analysis(Base):
    __table__ = analysis


class ClusterLabel(Base):
    __table__ = cluster_labels


class AlertState(Base):
    __table__ = alert_state


class Alert(Base):
    __table__ = alerts
