// Formatting of values shown from data. Pure functions (no DOM); every one
// accepts null/undefined/NaN and returns DASH for it instead of "NaN".

export const DASH = '\u2014';

function isNum(x) {
  return typeof x === 'number' && Number.isFinite(x);
}

/** A Date, or null, from a Date, an ISO 8601 string or epoch milliseconds. */
export function toDate(value) {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value : null;
  if (isNum(value)) return new Date(value);
  if (typeof value === 'string' && value.trim()) {
    const t = Date.parse(value);
    return Number.isFinite(t) ? new Date(t) : null;
  }
  return null;
}

/** 0.1234 -> '12.3%'. Rates are fractions in [0, 1]. */
export function formatPercent(rate, digits = 1) {
  if (!isNum(rate)) return DASH;
  const pct = rate * 100;
  // do not round a non-zero rate to 0% or a rate below 1 to 100%
  if (rate > 0 && pct < 10 ** -digits) return `<${(10 ** -digits).toFixed(digits)}%`;
  if (rate < 1 && pct > 100 - 10 ** -digits) return `>${(100 - 10 ** -digits).toFixed(digits)}%`;
  return `${pct.toFixed(digits)}%`;
}

/**
 * A rate with its 95% interval, as the API serves it
 * (`{failure_rate, n, ci_low, ci_high}`; docs/design.md, "Rules"):
 * `12.3% (8.1–17.9%, n=120)`. n = 0 gives 'no runs'.
 */
export function formatRate(rate, digits = 1) {
  if (!rate || typeof rate !== 'object') return DASH;
  const { failure_rate: value, ci_low: low, ci_high: high, n } = rate;
  if (n === 0) return 'no runs';
  if (!isNum(value)) return DASH;
  let out = formatPercent(value, digits);
  const parts = [];
  if (isNum(low) && isNum(high)) parts.push(formatInterval(low, high, digits));
  if (isNum(n)) parts.push(`n=${formatCount(n)}`);
  if (parts.length) out += ` (${parts.join(', ')})`;
  return out;
}

/** '8.1–17.9%' */
export function formatInterval(low, high, digits = 1) {
  if (!isNum(low) || !isNum(high)) return DASH;
  return `${(low * 100).toFixed(digits)}\u2013${(high * 100).toFixed(digits)}%`;
}

/** 14000 -> '14,000' */
export function formatCount(n) {
  if (!isNum(n)) return DASH;
  const sign = n < 0 ? '-' : '';
  const [int, frac] = Math.abs(n).toString().split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return sign + grouped + (frac ? `.${frac}` : '');
}

const pad2 = (n) => String(n).padStart(2, '0');

/**
 * Seconds -> '1h 02m 03s', '4m 05s', '7s', '0.25s', '2d 03h 04m'.
 * Below 10 s keeps two significant decimals; from one day on seconds are dropped.
 */
export function formatDuration(seconds) {
  if (!isNum(seconds) || seconds < 0) return DASH;
  if (seconds < 10) {
    if (seconds === 0) return '0s';
    if (seconds < 0.01) return `${Math.round(seconds * 1000 * 10) / 10}ms`;
    return `${Number(seconds.toPrecision(seconds < 1 ? 2 : 3))}s`;
  }
  const total = Math.round(seconds);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d > 0) return `${d}d ${pad2(h)}h ${pad2(m)}m`;
  if (h > 0) return `${h}h ${pad2(m)}m ${pad2(s)}s`;
  if (m > 0) return `${m}m ${pad2(s)}s`;
  return `${s}s`;
}

/** A compact duration for axis ticks: '45s', '12m 30s', '1h 57m', '2d 03h'. */
export function formatDurationTick(seconds) {
  if (!isNum(seconds) || seconds < 0) return '';
  if (seconds < 1) return seconds === 0 ? '0s' : `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${Number(seconds.toFixed(seconds < 10 ? 2 : 1))}s`;
  const total = Math.round(seconds);
  if (total < 3600) return total % 60 ? `${Math.floor(total / 60)}m ${pad2(total % 60)}s` : `${total / 60}m`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 1440) return minutes % 60 ? `${Math.floor(minutes / 60)}h ${pad2(minutes % 60)}m` : `${minutes / 60}h`;
  const hours = Math.round(seconds / 3600);
  return hours % 24 ? `${Math.floor(hours / 24)}d ${pad2(hours % 24)}h` : `${hours / 24}d`;
}

const RELATIVE_UNITS = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

/** '3 hours ago', 'in 5 minutes', 'just now' (under 45 s either way). */
export function formatRelative(value, now = new Date()) {
  const date = toDate(value);
  const ref = toDate(now);
  if (!date || !ref) return DASH;
  const diff = (ref.getTime() - date.getTime()) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return 'just now';
  let text = null;
  for (const [unit, size] of RELATIVE_UNITS) {
    if (abs >= size * 0.95 || unit === 'minute') {
      const n = Math.max(1, Math.round(abs / size));
      text = `${n} ${unit}${n === 1 ? '' : 's'}`;
      break;
    }
  }
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** '2026-10-01T12:34:56Z' (UTC, whole seconds). */
export function formatIsoDate(value) {
  const date = toDate(value);
  if (!date) return DASH;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** '2026-10-01' (UTC). */
export function formatDay(value) {
  const date = toDate(value);
  return date ? date.toISOString().slice(0, 10) : DASH;
}

/** '2026-10-01 12:34 UTC', for tables. */
export function formatDateTime(value) {
  const date = toDate(value);
  if (!date) return DASH;
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** Tick labels of a time axis at a resolution. */
export function formatTick(value, resolution) {
  const date = toDate(value);
  if (!date) return '';
  const iso = date.toISOString();
  if (resolution === 'day') return iso.slice(5, 10);
  if (resolution === 'hour') return iso.slice(11, 13) === '00' ? iso.slice(5, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  if (resolution === 'min') return iso.slice(11, 16);
  return iso.slice(11, 19);
}

/**
 * An href for a URL from data (run artifacts): http(s) only, else null, so a
 * `javascript:` URL in the data can never become a link.
 */
export function safeHref(value) {
  if (typeof value !== 'string') return null;
  const s = value.trim();
  if (!/^https?:\/\//i.test(s)) return null;
  try {
    const url = new URL(s);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * A test id split for display: {prefix, name} where name is the last two
 * dotted parts (Class.test_method) and prefix the module path before it.
 * 'tempest.api.compute.test_x.ServersTest.test_a' -> {prefix: 'tempest.api.compute.test_x.', name: 'ServersTest.test_a'}
 */
export function splitTestId(testId) {
  const s = String(testId ?? '');
  const parts = s.split('.');
  if (parts.length <= 2 || parts.some((p) => p === '')) return { prefix: '', name: s };
  const name = parts.slice(-2).join('.');
  return { prefix: s.slice(0, s.length - name.length), name };
}
