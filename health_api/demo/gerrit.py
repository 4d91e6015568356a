"""A deterministic Gerrit history for the demo: changes, patch sets and CI verdicts.

Changes on the demo projects get 1-4 patch sets; the upstream Zuul and 20+
third-party CI systems (each declared for some projects) report on them
with their own success rates; humans ask for rechecks after failures and
every CI reports again. Planted for the analytics to find (and listed in
the returned ``GerritTruth``):

* silent CIs: declared for projects, never comment (coverage 0);
* flaky CIs: some jobs fail at random on the first run and pass on the
  recheck of the same patch set (docs/design.md, "flaky job");
* per-CI success rates;
* missed patch sets: a CI skips a patch set now and then (``missed``), and
  recheck flips, a job's FAILURE turned SUCCESS by a recheck (``recheck_flips``).

Everything goes through ``GerritStore.store_raw_events`` as raw stream-event
dicts (the path of the listener and replay), sorted by time; the same seed gives the same rows.
"""
from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from ..gerrit.store import GerritStore
from ..gerrit.systems import CiOverrides, CiSystemConfig

UTC = dt.timezone.utc
PROJECTS = ("openstack/nova", "openstack/neutron", "openstack/cinder", "openstack/glance",
            "openstack/keystone", "openstack/swift", "openstack/tempest", "openstack/ironic",
            "openstack/horizon", "openstack/manila")
PROJECT_WEIGHTS = (10, 9, 7, 4, 4, 3, 5, 4, 3, 3)
HUMANS = ("ada", "grace", "linus", "margaret", "ken", "barbara", "dennis", "frances")

# (username, display name, projects, jobs, success rate)
THIRD_PARTY = (
    ("acme-storage-ci", "Acme Storage CI", ("openstack/cinder",), ("acme-iscsi", "acme-nvme"), 0.93),
    ("nimbus-ci", "Nimbus Hardware CI", ("openstack/nova", "openstack/ironic"), ("nimbus-bm",), 0.88),
    ("purestor-ci", "PureStor CI", ("openstack/cinder", "openstack/manila"), ("pure-fc", "pure-iscsi"), 0.95),
    ("netapp-ci", "NetApp CI", ("openstack/cinder", "openstack/manila"), ("netapp-nfs", "netapp-ontap"), 0.9),
    ("dell-emc-ci", "Dell EMC CI", ("openstack/cinder",), ("powermax", "unity", "powerflex"), 0.86),
    ("hpe-3par-ci", "HPE 3PAR CI", ("openstack/cinder",), ("3par-fc",), 0.8),
    ("ibm-storage-ci", "IBM Storage CI", ("openstack/cinder",), ("ds8k", "svc"), 0.9),
    ("hitachi-ci", "Hitachi VSP CI", ("openstack/cinder",), ("vsp-fc",), 0.84),
    ("mellanox-ci", "Mellanox CI", ("openstack/neutron", "openstack/nova"), ("sriov", "ovs-offload"), 0.91),
    ("arista-ci", "Arista CI", ("openstack/neutron",), ("arista-ml2",), 0.94),
    ("cisco-ci", "Cisco CI", ("openstack/neutron",), ("cisco-aci", "cisco-nexus"), 0.78),
    ("odl-ci", "OpenDaylight CI", ("openstack/neutron",), ("odl-tempest",), 0.7),
    ("ovn-perf-ci", "OVN Perf CI", ("openstack/neutron",), ("ovn-rally",), 0.97),
    ("vmware-nsx-ci", "VMware NSX CI", ("openstack/neutron", "openstack/nova"), ("nsx-t",), 0.83),
    ("hyperv-ci", "Hyper-V CI", ("openstack/nova",), ("hyperv-tempest",), 0.87),
    ("powervm-ci", "PowerVM CI", ("openstack/nova",), ("powervm-tempest",), 0.9),
    ("zvm-ci", "z/VM CI", ("openstack/nova",), ("zvm-tempest",), 0.92),
    ("xen-ci", "XenServer CI", ("openstack/nova",), ("xen-tempest", "xen-neutron"), 0.76),
    ("ceph-ci", "Ceph CI", ("openstack/cinder", "openstack/glance", "openstack/nova"), ("ceph-rbd",), 0.93),
    ("swift-perf-ci", "Swift Perf CI", ("openstack/swift",), ("swift-bench",), 0.96),
    ("keystone-ldap-ci", "Keystone LDAP CI", ("openstack/keystone",), ("ldap-functional",), 0.95),
    ("horizon-selenium-ci", "Horizon Selenium CI", ("openstack/horizon",), ("selenium",), 0.82),
)
SILENT = (("oldvendor-ci", "Old Vendor CI", ("openstack/cinder",)),
          ("abandoned-hv-ci", "Abandoned HV CI", ("openstack/nova",)),
          ("sleepy-net-ci", "Sleepy Net CI", ("openstack/neutron",)))
FLAKY = {"cisco-ci": 0.3, "xen-ci": 0.35}  # chance a first run fails, passing on recheck
ZUUL_JOBS = ("openstack-tox-pep8", "openstack-tox-py312", "openstack-tox-docs",
             "tempest-full-py3", "grenade")


@dataclass
class GerritTruth:
    start: str
    end: str
    seed: int
    changes: int = 0
    patch_sets: int = 0
    ci_comments: int = 0
    rechecks: int = 0
    ci_systems: list[dict] = field(default_factory=list)
    silent_cis: list[str] = field(default_factory=list)
    flaky_cis: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    #: every patch set: [change, patch set, project, created (ISO), superseded or abandoned (ISO|None)]
    patch_set_list: list[list] = field(default_factory=list)
    #: username -> [[change, patch set], ...] it reported on (at least once, before ``end``)
    reported: dict = field(default_factory=dict)
    #: username -> job -> FAILURE-then-SUCCESS flips on one patch set (both reports before ``end``)
    recheck_flips: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def declared_ci_systems() -> dict[str, CiSystemConfig]:
    declared = {"zuul": CiSystemConfig("zuul", account_id=22348,
                                       overrides=CiOverrides(display_name="Zuul", trusted=True))}
    for i, (name, display, projects, *_rest) in enumerate(THIRD_PARTY + SILENT):
        declared[name] = CiSystemConfig(name, account_id=30000 + i, overrides=CiOverrides(
            display_name=display, projects=tuple(projects)))
    return declared


def _account(username: str) -> dict:
    return {"name": username.replace("-", " ").title(), "username": username,
            "email": f"{username}@example.org"}


class _Builder:
    def __init__(self, rng: random.Random, end: dt.datetime):
        self.rng = rng
        self.end = end
        self.events: list[dict] = []
        self.truth_rechecks = 0
        self.comments = 0
        self.reported: dict[str, set] = {}

    def add(self, event: dict, at: dt.datetime) -> None:
        if at <= self.end:
            event["eventCreatedOn"] = int(at.timestamp())
            self.events.append(event)

    def report(self, change, ps, username, jobs, at, pipeline="check"):
        failed = any(result != "SUCCESS" for _, result, _ in jobs)
        header = f"Build {'failed' if failed else 'succeeded'} ({pipeline} pipeline)."
        lines = [f"Patch Set {ps['number']}: Verified{'-1' if failed else '+1'}", "", header, ""]
        for job, result, seconds in jobs:
            minutes, secs = divmod(seconds, 60)
            lines.append(f"- {job} https://logs.example.org/{username}/{change['number']}/"
                         f"{ps['number']}/{job} : {result} in {minutes}m {secs:02d}s")
        self.add({"type": "comment-added", "change": change, "patchSet": ps,
                  "author": _account(username), "comment": "\n".join(lines),
                  "approvals": [{"type": "Verified", "description": "Verified",
                                 "value": "-1" if failed else "1"}]}, at)
        self.comments += at <= self.end
        if at <= self.end:
            self.reported.setdefault(username, set()).add((change["number"], ps["number"]))
        return not failed


def generate_gerrit(engine: Engine, *, start: dt.datetime, end: dt.datetime, seed: int = 0,
                    changes_per_day: int = 40, truth: str | Path | None = None) -> GerritTruth:
    """Write a Gerrit history between ``start`` and ``end`` (UTC) through the store."""
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    end = end.replace(tzinfo=UTC) if end.tzinfo is None else end.astimezone(UTC)
    rng = random.Random(seed)
    build = _Builder(rng, end)
    result = GerritTruth(start=start.isoformat(), end=end.isoformat(), seed=seed)
    cis = [("zuul", "Zuul", PROJECTS, ZUUL_JOBS, 0.82)] + list(THIRD_PARTY)
    days = max(1, int((end - start).total_seconds() // 86400) or 1)
    number = 900000 + rng.randrange(1000)
    for _day in range(days * changes_per_day):
        number += 1
        created = start + dt.timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
        project = rng.choices(PROJECTS, PROJECT_WEIGHTS)[0]
        owner = rng.choice(HUMANS)
        change = {"project": project, "branch": "master", "id": f"I{number:040x}",
                  "number": number, "subject": f"Demo change {number}",
                  "owner": _account(owner), "url": f"https://review.example.org/{number}",
                  "status": "NEW"}
        result.changes += 1
        at = created
        change_patch_sets: list[list] = []
        for ps_number in range(1, rng.choice((1, 1, 2, 2, 3, 4)) + 1):
            ps = {"number": ps_number, "revision": f"{rng.getrandbits(160):040x}",
                  "ref": f"refs/changes/{number % 100:02d}/{number}/{ps_number}",
                  "uploader": _account(owner), "createdOn": int(at.timestamp()),
                  "kind": "REWORK" if ps_number == 1 or rng.random() < 0.7 else "TRIVIAL_REBASE"}
            build.add({"type": "patchset-created", "change": change, "patchSet": ps,
                       "uploader": _account(owner)}, at)
            result.patch_sets += at <= end
            if at <= end:
                if change_patch_sets:
                    change_patch_sets[-1][4] = at.isoformat()
                change_patch_sets.append([number, ps_number, project, at.isoformat(), None])
            flaky_failed = set()
            zuul_ok = True
            job_reports: dict = {}
            # a human asks for the recheck once the first reports are in; the
            # second reports come after it (so a flip is a recheck flip)
            recheck_at, first_reports = at, [at]
            for attempt in range(2):
                for username, _display, projects, jobs, rate in cis:
                    if project not in projects or rng.random() > 0.97:
                        continue
                    delay = rng.uniform(1800, 5400) if username == "zuul" else rng.uniform(1200, 21600)
                    report_at = (at if attempt == 0 else recheck_at) + dt.timedelta(seconds=delay)
                    first_reports.append(report_at)
                    outcomes = []
                    for job in jobs:
                        if username in FLAKY and attempt == 0 and rng.random() < FLAKY[username]:
                            outcome = "FAILURE"
                            flaky_failed.add((username, job))
                        elif (username, job) in flaky_failed:
                            outcome = "SUCCESS"  # the recheck passes: flaky, not broken
                        elif rng.random() < rate ** (1 / len(jobs)):
                            outcome = "SUCCESS"
                        else:
                            outcome = rng.choice(("FAILURE", "FAILURE", "POST_FAILURE",
                                                  "TIMED_OUT", "NODE_FAILURE"))
                        outcomes.append((job, outcome, rng.randrange(120, 7200)))
                        if report_at <= end:
                            job_reports.setdefault((username, job), []).append(
                                (int(report_at.timestamp()), outcome))
                    ok = build.report(change, ps, username, outcomes, report_at)
                    if username == "zuul":
                        zuul_ok = ok
                if attempt == 0 and (not zuul_ok or flaky_failed) and rng.random() < 0.7:
                    recheck_at = max(first_reports) + dt.timedelta(seconds=600)
                    build.add({"type": "comment-added", "change": change, "patchSet": ps,
                               "author": _account(rng.choice(HUMANS)),
                               "comment": f"Patch Set {ps_number}:\n\nrecheck"}, recheck_at)
                    build.truth_rechecks += 1
                else:
                    break
            for (username, job), reports in job_reports.items():
                outcomes_in_order = [outcome for _at, outcome in sorted(reports)]
                if outcomes_in_order[:2] == ["FAILURE", "SUCCESS"]:
                    flips = result.recheck_flips.setdefault(username, {})
                    flips[job] = flips.get(job, 0) + 1
            at += dt.timedelta(hours=rng.uniform(4, 48))
        result.patch_set_list.extend(change_patch_sets)
        final = rng.random()
        if final < 0.55:
            kind, who = "change-merged", "submitter"
        elif final < 0.7:
            kind, who = "change-abandoned", "abandoner"
            if change_patch_sets and at + dt.timedelta(hours=1) <= end:
                change_patch_sets[-1][4] = (at + dt.timedelta(hours=1)).isoformat()
        else:
            continue
        build.add({"type": kind, "change": change, who: _account(rng.choice(HUMANS))},
                  at + dt.timedelta(hours=1))

    build.events.sort(key=lambda e: e["eventCreatedOn"])
    store = GerritStore(engine, declared_ci_systems())
    stats = store.store_raw_events(build.events)
    result.ci_comments = stats.comments
    result.rechecks = build.truth_rechecks
    result.reported = {name: sorted(map(list, pairs)) for name, pairs in build.reported.items()}
    result.stats = stats.as_dict()
    result.ci_systems = [{"username": name, "display_name": display, "projects": list(projects),
                          "jobs": list(jobs), "success_rate": rate,
                          "flaky_first_run_failure": FLAKY.get(name)}
                         for name, display, projects, jobs, rate in cis]
    result.silent_cis = [name for name, _display, _projects in SILENT]
    result.flaky_cis = [{"username": name, "first_run_failure": p} for name, p in FLAKY.items()]
    if truth is not None:
        Path(truth).write_text(json.dumps(result.as_dict(), indent=2, sort_keys=True) + "\n",
                               encoding="utf-8")
    return result


def ci_systems_yaml() -> str:
    """``declared_ci_systems()`` as a ci-systems.yaml (etc/ci-systems.demo.yaml, which
    ``make run`` uses, is this text; a test keeps the two equal)."""
    import yaml

    document = {}
    for name, config in declared_ci_systems().items():
        entry: dict = {"display_name": config.display_name, "account_id": config.account_id}
        if config.overrides.projects:
            entry["projects"] = list(config.overrides.projects)
        if config.trusted:
            entry["trusted"] = True
        document[name] = entry
    return ("# The demo data's CI systems (health_api.demo.gerrit.declared_ci_systems);\n"
            "# `make run` serves the demo with this file. Fields: ci-systems.yaml.sample.\n"
            + yaml.safe_dump(document, sort_keys=False))
