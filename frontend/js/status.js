// Data freshness: the stale-data banner. Pure functions (no DOM).

import { toDate } from './format.js';

const AGE_RE = /^(\d{1,5})\s*(m|min|h|d)$/i;
const UNIT_MS = { m: 60e3, min: 60e3, h: 3600e3, d: 86400e3 };

/** The default age after which data is stale: 24 hours. */
export const DEFAULT_STALE_AFTER_MS = 24 * 3600e3;

/**
 * '90m', '6h', '2d' -> milliseconds; anything else -> `fallback`.
 * Configured with `<meta name="ci-health:stale-after" content="24h">` in index.html.
 */
export function parseAge(value, fallback = DEFAULT_STALE_AFTER_MS) {
  const m = AGE_RE.exec(String(value ?? '').trim());
  if (!m) return fallback;
  const msValue = Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
  return msValue > 0 ? msValue : fallback;
}

/**
 * {stale, ageMs, newest} for the status response's `newest_run_at`:
 * stale when there is no run at all or the newest is older than maxAgeMs.
 */
export function staleness(newestRunAt, now = new Date(), maxAgeMs = DEFAULT_STALE_AFTER_MS) {
  const newest = toDate(newestRunAt);
  if (!newest) return { stale: true, ageMs: null, newest: null };
  const ageMs = toDate(now).getTime() - newest.getTime();
  return { stale: ageMs > maxAgeMs, ageMs, newest };
}

/** 86400000 -> '24 hours', 5400000 -> '90 minutes', 172800000 -> '2 days'. */
export function ageLabel(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return '';
  const plural = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (ms % 86400e3 === 0 && ms > 86400e3) return plural(ms / 86400e3, 'day');
  if (ms % 3600e3 === 0) return plural(ms / 3600e3, 'hour');
  return plural(Math.round(ms / 60e3), 'minute');
}

/** How far behind its primary a read replica may be before the banner shows: 5 minutes. */
export const DEFAULT_REPLICA_LAG_MS = 5 * 60e3;

/**
 * {behind, lagMs} for the status response's `replica` (null unless the API
 * reads from a PostgreSQL standby): behind when its lag is over maxLagMs, or
 * unknown while it is not streaming from the primary.
 */
export function replicaLag(replica, maxLagMs = DEFAULT_REPLICA_LAG_MS) {
  if (!replica) return { behind: false, lagMs: null };
  const seconds = replica.lag_seconds;
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) {
    return { behind: !replica.streaming, lagMs: null };
  }
  const lagMs = Number(seconds) * 1000;
  return { behind: lagMs > maxLagMs, lagMs };
}

/** 42000 -> '42 seconds', 5400000 -> '90 minutes' (a replica's lag). */
export function lagLabel(ms) {
  if (!Number.isFinite(ms) || ms < 0) return 'an unknown time';
  if (ms < 120e3) return `${Math.round(ms / 1000)} seconds`;
  return ageLabel(Math.round(ms / 60e3) * 60e3);
}
