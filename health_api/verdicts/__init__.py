"""CI verdicts, whatever their source: the contract collectors write through.

``writer.VerdictWriter`` stores ``writer.Verdict`` values (CI system,
change, patch set, pipeline, job, result, url, duration, voting, source;
the attempt is numbered on write); ``rows.VerdictRows`` is the part every
source shares (parents, attempts), the Gerrit comment writer included.
"""
from .writer import SOURCES, Verdict, VerdictError, VerdictWriter, WriteResult

__all__ = ["SOURCES", "Verdict", "VerdictError", "VerdictWriter", "WriteResult"]
