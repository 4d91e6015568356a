"""Change points in pass/fail sequences: a Bayesian beta-binomial split.

For a sequence of n Bernoulli outcomes, the marginal likelihood of "one rate"
against "one rate before index k, another from k on" (uniform Beta(1, 1)
priors on each rate) is closed-form with the beta function. With a uniform
prior over the split position and prior odds of 1:1 for "a change" against
"none", the posterior probability of a change, and of each position, follows.
Binary segmentation applies the split again inside each segment, so a window
that starts and ends (broken, then fixed) gives two change points.
"""
from __future__ import annotations

import numpy as np
from scipy.special import betaln, logsumexp


def split_posterior(outcomes: np.ndarray) -> tuple[int | None, float]:
    """(the most probable split index, posterior probability that the rate changed)."""
    x = np.asarray(outcomes, dtype=np.int64)
    n = len(x)
    if n < 4:
        return None, 0.0
    cum = np.concatenate(([0], np.cumsum(x)))
    k = np.arange(1, n)                       # split before index k
    f1, n1 = cum[k], k
    f2, n2 = cum[n] - cum[k], n - k
    log_split = betaln(f1 + 1, n1 - f1 + 1) + betaln(f2 + 1, n2 - f2 + 1)
    log_one = betaln(cum[n] + 1, n - cum[n] + 1)
    log_change = logsumexp(log_split) - np.log(len(k))
    p_change = float(1.0 / (1.0 + np.exp(log_one - log_change)))
    return int(k[np.argmax(log_split)]), p_change


def segments(outcomes, min_probability: float = 0.99, min_size: int = 3) -> list[dict]:
    """Binary segmentation: [{start, stop, failed, n, p_change}] in order, where
    p_change is the posterior probability of the change point opening the segment."""
    x = np.asarray(outcomes, dtype=np.int64)
    cuts: dict[int, float] = {}

    def walk(lo: int, hi: int) -> None:
        k, p = split_posterior(x[lo:hi])
        if k is None or p < min_probability or k < min_size or hi - lo - k < min_size:
            return
        cuts[lo + k] = p
        walk(lo, lo + k)
        walk(lo + k, hi)
    walk(0, len(x))
    bounds = [0, *sorted(cuts), len(x)]
    return [{"start": a, "stop": b, "failed": int(x[a:b].sum()), "n": b - a,
             "p_change": cuts.get(a)} for a, b in zip(bounds, bounds[1:]) if b > a]
