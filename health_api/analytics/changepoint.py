"""Change points in pass/fail sequences: a Bayesian beta-binomial split.

For a sequence of n Bernoulli outcomes, the marginal likelihood of "one rate"
against "one rate before index k, another from k on" (uniform Beta(1, 1)
priors on each rate) is closed-form with the beta function. With a uniform
prior over the split position and prior odds of 1:1 for "a change" against
"none", the posterior probability of a change, and of each position, follows.
Binary segmentation applies the split again inside each segment, so a window
that starts and ends (broken, then fixed) gives two change points; where no
single split is probable enough, a window (two change points at once) is
weighed the same way, since a short window inside a long stable sequence
hides from a single split.
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


def _log_marginal(failed, n):
    """log of the Beta(1, 1)-binomial marginal likelihood of a segment."""
    return betaln(failed + 1, n - failed + 1)


def _window_scores(cum: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log marginal likelihood of "a window [a, b)" for each pair (a, b)."""
    n = len(cum) - 1
    inside, n_in = cum[b] - cum[a], b - a
    return _log_marginal(inside, n_in) + _log_marginal(cum[n] - inside, n - n_in)


def _pairs(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.meshgrid(first, second, indexing="ij")
    keep = a < b
    return a[keep], b[keep]


def window_posterior(outcomes: np.ndarray, max_points: int = 200
                     ) -> tuple[int | None, int | None, float]:
    """The "epidemic" alternative: one rate before index a, another in [a, b),
    the first again from b on (a test broken for a while, then fixed). A single
    split averages a short window in the middle of a long stable sequence
    away; this model does not. Returns (a, b, posterior probability of such a
    window against "one rate", prior odds 1:1, uniform over (a, b)). The
    average is taken on a grid of at most ``max_points`` positions (an
    approximation of the uniform prior), the best pair then refined around its
    grid points at full resolution."""
    x = np.asarray(outcomes, dtype=np.int64)
    n = len(x)
    total = int(x.sum())
    if n < 6 or total < 2 or total > n - 2:
        return None, None, 0.0
    cum = np.concatenate(([0], np.cumsum(x)))
    grid = np.unique(np.linspace(1, n - 1, min(n - 1, max_points)).astype(np.int64))
    a, b = _pairs(grid, grid)
    scores = _window_scores(cum, a, b)
    log_window = logsumexp(scores) - np.log(len(a))
    p = float(1.0 / (1.0 + np.exp(_log_marginal(cum[n], n) - log_window)))
    best = int(np.argmax(scores))
    step = int(np.ceil((n - 1) / max(1, len(grid) - 1)))
    near = [np.arange(max(1, v - step), min(n - 1, v + step) + 1) for v in (a[best], b[best])]
    fa, fb = _pairs(*near)
    fine = int(np.argmax(_window_scores(cum, fa, fb)))
    return int(fa[fine]), int(fb[fine]), p


def segments(outcomes, min_probability: float = 0.99, min_size: int = 3) -> list[dict]:
    """Binary segmentation: [{start, stop, failed, n, p_change}] in order, where
    p_change is the posterior probability of the change point opening the segment."""
    x = np.asarray(outcomes, dtype=np.int64)
    cuts: dict[int, float] = {}

    def walk(lo: int, hi: int) -> None:
        k, p = split_posterior(x[lo:hi])
        if k is not None and p >= min_probability and min_size <= k <= hi - lo - min_size:
            cuts[lo + k] = p
            walk(lo, lo + k)
            walk(lo + k, hi)
            return
        a, b, p = window_posterior(x[lo:hi])
        if a is None or p < min_probability or b - a < min_size \
                or a < min_size or hi - lo - b < min_size:
            return
        cuts[lo + a] = cuts[lo + b] = p
        walk(lo, lo + a)
        walk(lo + a, lo + b)
        walk(lo + b, hi)
    walk(0, len(x))
    bounds = [0, *sorted(cuts), len(x)]
    return [{"start": a, "stop": b, "failed": int(x[a:b].sum()), "n": b - a,
             "p_change": cuts.get(a)} for a, b in zip(bounds, bounds[1:]) if b > a]
