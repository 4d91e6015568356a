// Pieces the CI pages share: CI status and job results shown with a symbol
// and a word (or letter) beside the colour, so nothing depends on colour
// alone; success-rate cells.

import { h } from '../dom.js';
import { formatPercent, formatInterval, DASH } from '../format.js';

const STATUS = {
  reporting: { symbol: '\u2713', label: 'Reporting', tone: 'passed' },
  silent: { symbol: '\u26a0', label: 'Silent', tone: 'warn' },
  never_seen: { symbol: '\u2715', label: 'Never seen', tone: 'failed' },
};

/** A CI system's status: symbol + word on a coloured badge. */
export function statusBadge(status) {
  const s = STATUS[status] || { symbol: '?', label: String(status ?? DASH), tone: 'other' };
  return h('span', { class: ['badge', `badge-${s.tone}`, 'ci-status'], dataset: { status: String(status) } },
    h('span', { 'aria-hidden': 'true' }, `${s.symbol} `), s.label);
}

/** CI job result classes, mirroring health_api/rules.py CI_RESULT_CLASS. */
const INFRA = new Set(['NODE_FAILURE', 'RETRY_LIMIT', 'POST_FAILURE', 'TIMED_OUT']);
const NEUTRAL = new Set(['SKIPPED', 'CANCELED', 'ABORTED', 'NOT_REGISTERED', 'NEUTRAL', 'NO_JOBS']);

/** {cls, symbol, letter} of a result word: S(uccess), F(ailure), I(nfrastructure), N(eutral), M(issed). */
export function resultKind(result) {
  if (result === 'SUCCESS') return { cls: 'pass', symbol: '\u2713', letter: 'S' };
  if (result === 'missed') return { cls: 'missed', symbol: '\u2205', letter: 'M' };
  if (result === 'REPORTED') return { cls: 'neutral', symbol: '?', letter: 'R' };
  if (INFRA.has(result)) return { cls: 'infra', symbol: '\u26a0', letter: 'I' };
  if (NEUTRAL.has(result)) return { cls: 'neutral', symbol: '\u2013', letter: 'N' };
  return { cls: 'fail', symbol: '\u2717', letter: 'F' };
}

/** A result as coloured chip with its symbol and the result word. */
export function resultChip(result) {
  if (!result) return h('span', { class: 'muted' }, DASH);
  const k = resultKind(result);
  return h('span', { class: ['ci-result', `ci-result-${k.cls}`], title: result },
    h('span', { class: 'ci-result-symbol', 'aria-hidden': 'true' }, k.symbol), ` ${result}`);
}

/** A success-rate cell: the share (green when high) and its 95% interval below,
 * from a row as the API serves it: {success_rate, n, ci_low, ci_high}. */
export function successCell(row) {
  const value = row && row.n > 0 && Number.isFinite(row.success_rate) ? row.success_rate : null;
  if (value === null) return h('span', { class: 'muted' }, row && row.n === 0 ? 'no verdict' : DASH);
  const tone = value >= 0.9 ? 'rate-low' : value >= 0.75 ? 'rate-mid' : 'rate-high';
  return h('span', { class: ['rate', tone], title: `95% interval, n=${row.n}` },
    h('span', { class: 'rate-value' }, formatPercent(value)),
    Number.isFinite(row.ci_low) ? h('span', { class: 'rate-interval' }, formatInterval(row.ci_low, row.ci_high)) : null);
}

/** The CI pages' tabs: scoreboard and who-has-CI. */
export function ciTabs(ctx, current) {
  const tab = (page, label) => h('a', { class: ['button', 'small', page === current ? 'primary' : ''], href: ctx.href(page) }, label);
  return [tab('ci', 'Scoreboard'), ' ', tab('ciProjects', 'Who has CI')];
}
