"""Builders for Gerrit stream events and REST change objects, and table dumps."""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

T0 = 1_790_000_000  # 2026-09-21, whole seconds like Gerrit
CI_TABLES = ("ci_systems", "changes", "patch_sets", "ci_comments", "ci_job_results")


def account(username, name=None):
    return {"name": name or username.title(), "email": f"{username}@example.org",
            "username": username}


def change(number, project="openstack/nova", branch="master", status="NEW"):
    return {"project": project, "branch": branch, "id": f"I{number:040d}", "number": number,
            "subject": f"Change {number}", "owner": account("ada"),
            "url": f"https://review.example.org/{number}", "status": status}


def patch_set(number, created=T0, uploader="ada"):
    return {"number": number, "revision": f"{number:02d}" * 20, "ref": f"refs/changes/{number}",
            "uploader": account(uploader), "createdOn": created, "kind": "REWORK"}


def created_event(change_no, ps=1, at=T0, project="openstack/nova"):
    return {"type": "patchset-created", "change": change(change_no, project),
            "patchSet": patch_set(ps, at), "uploader": account("ada"), "eventCreatedOn": at}


def zuul_report(jobs, pipeline="check", ps=1):
    failed = any(result != "SUCCESS" for _, result in jobs)
    vote = "Verified-1" if failed else "Verified+1"
    lines = [f"Patch Set {ps}: {vote}", "",
             f"Build {'failed' if failed else 'succeeded'} ({pipeline} pipeline).", ""]
    for job, result in jobs:
        lines.append(f"- {job} https://logs.example.org/{job}/1 : {result} in 3m 05s")
    return "\n".join(lines)


def comment_event(change_no, ps, text, at, author="zuul", verified=None, project="openstack/nova"):
    event = {"type": "comment-added", "change": change(change_no, project),
             "patchSet": patch_set(ps, T0), "author": account(author), "comment": text,
             "eventCreatedOn": at}
    if verified is not None:
        event["approvals"] = [{"type": "Verified", "description": "Verified",
                               "value": str(verified)}]
    return event


def status_event(kind, change_no, at):
    who = {"change-abandoned": "abandoner", "change-merged": "submitter",
           "change-restored": "restorer"}[kind]
    return {"type": kind, "change": change(change_no), "patchSet": patch_set(1),
            who: account("ada"), "eventCreatedOn": at}


def line(event) -> str:
    return json.dumps(event, ensure_ascii=False)


def rest_time(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000000000")


def rest_change(change_no, messages, *, project="openstack/nova", status="NEW", patch_sets=1,
                updated=T0):
    """A ChangeInfo as /changes/?o=MESSAGES&o=DETAILED_ACCOUNTS&o=ALL_REVISIONS returns it.
    messages: (message id, username, account id, epoch, revision number, text)."""
    return {
        "id": f"{project.replace('/', '%2F')}~master~I{change_no:040d}", "project": project,
        "branch": "master", "change_id": f"I{change_no:040d}", "subject": f"Change {change_no}",
        "status": status, "created": rest_time(T0), "updated": rest_time(updated),
        "_number": change_no, "owner": {"_account_id": 1000, "name": "Ada", "username": "ada"},
        "revisions": {f"{n:02d}" * 20: {"kind": "REWORK", "_number": n, "created": rest_time(T0),
                                        "uploader": {"_account_id": 1000, "username": "ada"},
                                        "ref": f"refs/changes/{change_no}/{n}"}
                      for n in range(1, patch_sets + 1)},
        "messages": [{"id": mid, "author": {"_account_id": aid, "name": user.title(),
                                            "username": user},
                      "real_author": {"_account_id": aid}, "date": rest_time(epoch),
                      "message": text, "_revision_number": rev}
                     for mid, user, aid, epoch, rev, text in messages],
    }


def dump(engine, tables=CI_TABLES, drop=("id",)) -> dict[str, list[tuple]]:
    """Every row of the CI tables, without surrogate ids, sorted: for equality checks."""
    out = {}
    with engine.connect() as conn:
        for name in tables:
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            cols = [c for c in table.c if c.name not in drop]
            rows = conn.execute(sa.select(*cols)).all()
            out[name] = sorted((tuple(str(v) for v in row) for row in rows))
    return out


def count(engine, table, where="") -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table} {where}").scalar()
