"""Quality of the analyses against the demo generator's truth file: flaky-test
precision and recall, broken-since start error, clusters per planted cause,
the bad node provider's rank. Used by the tests and bench/insight.py."""
from __future__ import annotations

import datetime as dt

from ..analytics.signatures import normalise


def _time(value) -> dt.datetime:
    text = str(value).replace("Z", "").replace("T", " ")
    return dt.datetime.fromisoformat(text)


def flaky_quality(truth: dict, flaky_doc: dict) -> dict:
    planted = {f["test_id"] for f in truth["flaky_tests"]}
    found = {t["test_id"] for t in flaky_doc["tests"] if t["flaky"]}
    hits = planted & found
    return {"planted": len(planted), "found": len(found), "true_positives": len(hits),
            "precision": len(hits) / len(found) if found else None,
            "recall": len(hits) / len(planted) if planted else None,
            "false_positives": sorted(found - planted), "missed": sorted(planted - found)}


def broken_quality(truth: dict, broken_doc: dict) -> list[dict]:
    """Per planted window: the detected episode of that test and job whose start is
    nearest, and the error of its start in hours (None: not found)."""
    out = []
    for planted in truth["broken_tests"]:
        start = _time(planted["from"])
        episodes = [e for e in broken_doc["episodes"] if e["kind"] == "test"
                    and e["test_id"] == planted["test_id"] and e["job"] == planted["job"]]
        best = min(episodes, key=lambda e: abs(_time(e["broken_since"]) - start), default=None)
        error = abs(_time(best["broken_since"]) - start).total_seconds() / 3600 if best else None
        out.append({"test_id": planted["test_id"], "job": planted["job"],
                    "planted_from": planted["from"],
                    "found_since": best["broken_since"] if best else None,
                    "probability": best["probability"] if best else None,
                    "error_hours": error})
    return out


def cluster_quality(truth: dict, clusters_doc: dict, seen_causes: set[str] | None = None) -> dict:
    """Clusters per planted cause: the clusters whose signature is the cause's
    normalised exception line (one each, ideally), for causes that failed at all."""
    by_signature: dict[str, list[str]] = {}
    for c in clusters_doc["clusters"]:
        by_signature.setdefault(c["signature"], []).append(c["id"])
    per_cause = []
    for cause in truth.get("failure_causes", []):
        sig = normalise(cause["error"].replace("{{", "{").replace("}}", "}"))
        # the template's placeholders are masked like the values they stand for
        matches = [cid for s, ids in by_signature.items() for cid in ids
                   if _same_shape(s, sig)]
        per_cause.append({"kind": cause["kind"], "tests": cause["tests"],
                          "clusters": len(matches)})
    accounted = sum(1 for c in per_cause if c["clusters"] >= 1)
    return {"causes": per_cause, "clusters_total": len(clusters_doc["clusters"]),
            "causes_with_one_cluster": sum(1 for c in per_cause if c["clusters"] == 1),
            "causes_seen": accounted}


def _same_shape(signature: str, template_signature: str) -> bool:
    import re
    pattern = re.escape(template_signature)
    for token in ("\\{uuid\\}", "\\{ip\\}", "\\{n\\}", "\\{hex\\}", "\\{hex12\\}"):
        pattern = pattern.replace(token, "<[A-Z]+>")
    return re.fullmatch(pattern, signature) is not None


def suspect_rank(truth: dict, suspects_doc: dict) -> int | None:
    """1-based rank of the planted bad node provider among all suspects."""
    bad = truth.get("bad_provider", {}).get("node_provider")
    for rank, s in enumerate(suspects_doc["all"], 1):
        if s["key"] == "node_provider" and s["value"] == bad:
            return rank
    return None
