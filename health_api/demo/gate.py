"""A deterministic, realistic gate history written through the one bulk writer.

Tempest-like jobs share one pool of ~1,500 tests (each job runs its own
subset), unit jobs have their own tests. A few tests are flaky (they fail at
random and pass on recheck of the same patch set), a few are broken for some
days, one node provider has a bad spell, a few runs are empty (infra
failures). Everything planted is written to a truth file so analytics can be
checked against it.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import Engine, select

from ..db import bulk
from ..db import models as m
from ..ingest.parallel import can_fork, produce_in_child
from ..ingest.records import TestResult
from ..ingest.catalog import TestIdCache
from ..ingest.writer import RunOptions, RunWriter
from .tracebacks import cause_templates, record_causes, traceback_text

PROVIDERS = ("rax-dfw", "rax-ord", "ovh-bhs1", "ovh-gra1", "vexxhost-ca-ymq-1",
             "inmotion-iad3", "openmetal-iad3")
TEMPEST_SERVICES = ("compute.servers", "compute.images", "compute.volumes", "network",
                    "network.admin", "volume", "volume.admin", "image.v2", "identity.v3",
                    "object_storage", "scenario")
TEMPEST_JOBS = (("tempest-full-py3", "openstack/tempest", 1.0),
                ("tempest-integrated-compute", "openstack/nova", 0.8),
                ("tempest-integrated-networking", "openstack/neutron", 0.6),
                ("tempest-integrated-storage", "openstack/cinder", 0.55),
                ("tempest-slow-py3", "openstack/tempest", 0.25),
                ("nova-next", "openstack/nova", 0.7),
                ("nova-ceph-multistore", "openstack/nova", 0.5),
                ("neutron-ovn-tempest-ovs-release", "openstack/neutron", 0.65),
                ("neutron-tempest-plugin-api", "openstack/neutron", 0.4),
                ("cinder-tempest-plugin-lvm-lio-barbican", "openstack/cinder", 0.45),
                ("grenade", "openstack/grenade", 0.3),
                ("devstack-platform-ubuntu-noble", "openstack/devstack", 0.35),
                ("glance-multistore-cinder-import", "openstack/glance", 0.3),
                ("keystone-dsvm-py3-functional", "openstack/keystone", 0.2),
                ("swift-dsvm-functional", "openstack/swift", 0.15))
UNIT_PROJECTS = ("nova", "neutron", "cinder", "glance", "keystone", "swift", "oslo.db",
                 "ironic", "heat", "octavia", "manila", "designate", "placement", "horizon",
                 "barbican")
UNIT_TARGETS = ("py312", "py310", "pep8", "cover", "docs")
# Consecutive runs dirty the same index pages (every run touches every test),
# so committing a few dozen together writes a fraction of the pages. Real
# ingest keeps one transaction per run.
RUNS_PER_COMMIT = 25
# Into an empty SQLite store the whole history is one transaction, and these
# tables' secondary indexes are built once at its end: about twice as fast as
# keeping them up to date, and a killed load leaves nothing. Not on PostgreSQL:
# there every run's counter and rollup updates would pile up row versions that
# nothing can prune until the one transaction ends (gate-month went from 11 to
# over 20 minutes).
BULK_LOAD_TABLES = (m.test_runs, m.test_run_metadata, m.attachments)


@dataclass
class Job:
    name: str
    project: str
    tests: list[str]
    durations: list[float]
    skipped: frozenset[int] = frozenset()
    run_time_scale: float = 1.0


@dataclass
class Truth:
    """What the generator planted, for checking analytics against."""

    start: str
    end: str
    seed: int
    jobs: list[str] = field(default_factory=list)
    flaky_tests: list[dict] = field(default_factory=list)
    broken_tests: list[dict] = field(default_factory=list)
    bad_provider: dict = field(default_factory=dict)
    #: one entry per planted failure cause: its kind, the tests it fails and
    #: the exception line of its tracebacks (variable parts vary per failure)
    failure_causes: list[dict] = field(default_factory=list)
    runs: int = 0
    results: int = 0
    gerrit: dict = field(default_factory=dict)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def has_runs(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(m.runs.c.id).limit(1)).first() is not None


def tempest_pool(rng: random.Random, size: int = 1500) -> list[str]:
    ids = []
    for i in range(size):
        service = TEMPEST_SERVICES[i % len(TEMPEST_SERVICES)]
        module = f"test_{service.split('.')[-1]}_{i // 25}"
        kind = "scenario" if service == "scenario" else "api"
        ids.append(f"tempest.{kind}.{service}.{module}.{module.title().replace('_', '')}"
                   f"Test.test_{rng.choice(('create', 'list', 'show', 'delete', 'update', 'get'))}"
                   f"_{i}")
    return ids


def build_jobs(rng: random.Random, count: int, pool_size: int = 1500) -> list[Job]:
    pool = tempest_pool(rng, pool_size)
    pool_durations = [round(rng.lognormvariate(0.8, 1.0), 3) for _ in pool]
    jobs: list[Job] = []
    n_tempest = max(1, math.ceil(count * 2 / 3)) if count > 1 else 1
    for i in range(n_tempest):
        name, project, share = TEMPEST_JOBS[i % len(TEMPEST_JOBS)]
        if i >= len(TEMPEST_JOBS):
            name = f"{name}-{i // len(TEMPEST_JOBS) + 1}"
        chosen = sorted(rng.sample(range(len(pool)), max(50, int(len(pool) * share))))
        skipped = frozenset(j for j in range(len(chosen)) if rng.random() < 0.04)
        jobs.append(Job(name, project, [pool[k] for k in chosen],
                        [pool_durations[k] for k in chosen], skipped))
    for i in range(count - n_tempest):
        project = UNIT_PROJECTS[i % len(UNIT_PROJECTS)]
        target = UNIT_TARGETS[(i // len(UNIT_PROJECTS)) % len(UNIT_TARGETS)]
        size = rng.randint(pool_size // 5, pool_size * 3 // 5)
        base = project.replace(".", "_")
        tests = [f"{base}.tests.unit.test_{base}_{k // 30}.Test{k // 30}.test_case_{k}"
                 for k in range(size)]
        jobs.append(Job(f"openstack-tox-{target}-{project}", f"openstack/{project}", tests,
                        [round(rng.lognormvariate(-3.0, 1.0), 4) for _ in tests],
                        frozenset(j for j in range(size) if rng.random() < 0.01)))
    return jobs


def plant(rng: random.Random, jobs: list[Job], start: dt.datetime, days: int,
          truth: Truth) -> tuple[dict, dict]:
    """Choose flaky and broken tests; returns {(job, test): p} and {(job, test): (from, to)}."""
    flaky: dict[tuple[str, str], float] = {}
    broken: dict[tuple[str, str], tuple[dt.datetime, dt.datetime]] = {}
    tempest_jobs = [j for j in jobs if j.name.startswith(("tempest", "nova", "neutron",
                                                          "cinder", "grenade", "devstack",
                                                          "glance", "keystone", "swift"))]
    # A shared tempest test is flaky in every job that runs it, so a few of them
    # at a few percent each already make a gate that fails a fifth of its runs.
    for n in range(min(6, len(jobs[0].tests) // 10)):
        job = tempest_jobs[n % len(tempest_jobs)] if tempest_jobs else jobs[0]
        test = job.tests[rng.randrange(len(job.tests))]
        while any(test == f["test_id"] for f in truth.flaky_tests):  # one cause per test
            test = job.tests[rng.randrange(len(job.tests))]
        p = round(rng.uniform(0.02, 0.06), 3)
        holders = [j.name for j in jobs if test in set(j.tests)]
        for holder in holders:
            flaky[(holder, test)] = p
        truth.flaky_tests.append({"test_id": test, "jobs": holders, "failure_probability": p})
    for n in range(min(3, len(jobs))):
        job = jobs[(n * 5) % len(jobs)]
        index = rng.randrange(len(job.tests))
        # a test the job skips cannot break; a flaky or already broken one would
        # mix two causes (one traceback template per test)
        while index in job.skipped or (job.name, job.tests[index]) in flaky \
                or any(job.tests[index] == b["test_id"] for b in truth.broken_tests):
            index = rng.randrange(len(job.tests))
        test = job.tests[index]
        first = start + dt.timedelta(days=rng.randint(0, max(0, days - 3)))
        last = min(first + dt.timedelta(days=rng.randint(1, 3)), start + dt.timedelta(days=days))
        broken[(job.name, test)] = (first, last)
        truth.broken_tests.append({"test_id": test, "job": job.name,
                                   "from": first.isoformat() + "Z", "to": last.isoformat() + "Z"})
    return flaky, broken


def generate(engine: Engine, *, days: int, jobs: int, runs_per_day: int, seed: int = 0,
             end: dt.datetime | None = None, truth_path: Path | None = None,
             progress: Callable[[int, int], None] | None = None,
             changes_per_day: int = 0, pool_size: int = 1500) -> Truth:
    """Runs through the bulk writer, then (``changes_per_day`` > 0) the Gerrit
    history of the same period through the Gerrit store. ``pool_size``: the
    tempest tests the jobs draw from (smaller: a store quick to write, with
    the same planting, for the quality test)."""
    rng = random.Random(seed)
    if end is None:
        end = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, minute=0, second=0,
                                                       microsecond=0)
    start = end - dt.timedelta(days=days)
    truth = Truth(start=start.isoformat() + "Z", end=end.isoformat() + "Z", seed=seed)
    job_list = build_jobs(rng, jobs, pool_size)
    truth.jobs = [j.name for j in job_list]
    flaky, broken = plant(rng, job_list, start, days, truth)
    bad_provider = PROVIDERS[rng.randrange(len(PROVIDERS))]
    bad_from = start + dt.timedelta(days=rng.randint(0, max(0, days - 2)))
    bad_to = bad_from + dt.timedelta(hours=36)
    truth.bad_provider = {"node_provider": bad_provider, "from": bad_from.isoformat() + "Z",
                          "to": bad_to.isoformat() + "Z", "extra_failure_probability": 0.3}
    total_runs = days * len(job_list) * runs_per_day
    record_causes(truth)
    planned = _planned_runs(rng, job_list, start, days, total_runs, flaky, broken,
                            (bad_provider, bad_from, bad_to), cause_templates(truth))
    one_transaction = engine.dialect.name == "sqlite" and not has_runs(engine)
    write = _GroupedWriter(engine, total_runs, truth, progress, one_transaction)
    try:
        if can_fork():
            # Generating is pure Python: a child does it on the other core.
            produce_in_child(lambda sink: _feed(planned, sink), write, "demo-data generator",
                             batch_size=4)
        else:
            _feed(planned, write)
        write.commit()
    finally:
        write.close()
    if changes_per_day > 0:
        from .gerrit import generate_gerrit
        gerrit = generate_gerrit(engine, start=start, end=end, seed=seed,
                                 changes_per_day=changes_per_day)
        truth.gerrit = gerrit.as_dict()
    if engine.dialect.name == "postgresql":
        # Planner statistics for the tables just filled (autovacuum may be off,
        # or not get to millions of new rows before the first queries).
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    if truth_path is not None:
        truth.write(truth_path)
    return truth


def _feed(planned: Iterator, sink: Callable) -> int:
    count = 0
    for run in planned:
        sink(run)
        count += 1
    return count


def _planned_runs(rng: random.Random, job_list: list[Job], start: dt.datetime, days: int,
                  total_runs: int, flaky: dict, broken: dict,
                  bad: tuple[str, dt.datetime, dt.datetime], templates: dict
                  ) -> Iterator[tuple[RunOptions, list[TestResult]]]:
    """Every run of the history, in time order: its options and its results."""
    bad_provider, bad_from, bad_to = bad
    change = 900_000 + rng.randrange(10_000)
    recent: list[tuple[int, int]] = []
    for index in range(total_runs):
        # Runs spread evenly over the window, jobs interleaved, deterministic jitter.
        at = start + dt.timedelta(seconds=(index + rng.random()) * days * 86_400 / total_runs)
        job = job_list[index % len(job_list)]
        if recent and rng.random() < 0.25:  # a recheck of a recent patch set
            change_no, patchset = recent[rng.randrange(len(recent))]
        else:
            change += 1
            change_no, patchset = change, rng.randint(1, 6)
            recent = (recent + [(change_no, patchset)])[-50:]
        provider = PROVIDERS[rng.randrange(len(PROVIDERS))]
        queue = "gate" if rng.random() < 0.3 else "check"
        build_uuid = f"{rng.getrandbits(128):032x}"
        results = _run_results(rng, job, at, flaky, broken,
                               provider == bad_provider and bad_from <= at < bad_to, templates)
        options = RunOptions(
            uuid=build_uuid, run_at=at, store_attachments=True,
            artifacts=f"https://logs.example.org/{change_no % 100:02d}/{change_no}/{patchset}/"
                      f"{queue}/{job.name}/{build_uuid[:7]}/",
            metadata=[("build_name", job.name), ("project", job.project),
                      ("build_queue", queue), ("build_change", str(change_no)),
                      ("build_patchset", str(patchset)), ("build_uuid", build_uuid),
                      ("node_provider", provider), ("build_branch", "master")])
        yield options, results


class _GroupedWriter:
    """Writes planned runs, ``RUNS_PER_COMMIT`` to a transaction, or all in one
    with the bulk-load tables' secondary indexes built at the end
    (``one_transaction``: only for an empty store, see ``BULK_LOAD_TABLES``)."""

    def __init__(self, engine: Engine, total_runs: int, truth: Truth,
                 progress: Callable[[int, int], None] | None, one_transaction: bool = False):
        self.engine, self.total_runs, self.truth, self.progress = \
            engine, total_runs, truth, progress
        self.one_transaction = one_transaction
        self.cache = TestIdCache()
        self.conn = None
        self.pending: list[RunWriter] = []
        self.deferred_indexes: list = []

    def __call__(self, run: tuple[RunOptions, list[TestResult]]) -> None:
        options, results = run
        if self.conn is None:
            self._begin()
        with RunWriter(self.conn, options, cache=self.cache) as writer:
            writer.start()
            writer.add_all(results)
            writer.finish()
        if self.one_transaction:
            # The cache is this writer's alone and lives no longer than the
            # transaction, so ids learnt in it can be shared at once.
            writer.committed()
        else:
            self.pending.append(writer)
        self.truth.runs += 1
        self.truth.results += len(results)
        if len(self.pending) >= RUNS_PER_COMMIT:
            self.commit()
        if self.progress is not None:
            self.progress(self.truth.runs, self.total_runs)

    def _begin(self) -> None:
        self.conn = self.engine.connect()
        if self.conn.dialect.name == "sqlite":
            # A bulk load: a big page cache keeps the growing indexes in memory.
            self.conn.connection.driver_connection.execute("PRAGMA cache_size=-524288")
        self.conn.begin()
        if self.one_transaction:
            self.deferred_indexes = bulk.drop_secondary_indexes(self.conn, BULK_LOAD_TABLES)

    def commit(self) -> None:
        if self.conn is None:
            return
        if self.deferred_indexes:
            bulk.create_indexes(self.conn, self.deferred_indexes)
            self.deferred_indexes = []
        self.conn.commit()
        if self.one_transaction:
            # the whole database went through the write-ahead log: give its space back
            self.conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.close()
        for done in self.pending:
            done.committed()
        self.pending.clear()

    def close(self) -> None:
        """After an error mid-group, this rolls the group back."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _run_results(rng: random.Random, job: Job, at: dt.datetime, flaky: dict, broken: dict,
                 bad_node: bool, templates: dict) -> list[TestResult]:
    if rng.random() < 0.005:
        return []  # the node died before any test ran: an empty run
    results = []
    now = at
    scale = rng.uniform(0.85, 1.3)
    random_ = rng.random
    infra_failure_at = int(len(job.tests) * random_()) if bad_node and random_() < 0.3 else -1
    for i, test_id in enumerate(job.tests):
        duration = job.durations[i] * scale
        stop = now + dt.timedelta(seconds=duration)
        if i in job.skipped:
            status = "skip"
        else:
            status = "success"
            key = (job.name, test_id)
            window = broken.get(key)
            if window is not None and window[0] <= at < window[1]:
                status, cause = "fail", ("broken", test_id)
            elif random_() < flaky.get(key, 0.00005):
                status, cause = "fail", ("flaky", test_id) if key in flaky else ("noise", "")
            elif 0 <= infra_failure_at <= i < infra_failure_at + 40:
                status, cause = "fail", ("infra", "")
        attachments = []
        if status == "fail":
            attachments = [("traceback", traceback_text(templates[cause], test_id, i, at))]
        results.append(TestResult(test_id=test_id, status=status, start_time=now,
                                  stop_time=stop, attachments=attachments))
        now = stop
    return results

