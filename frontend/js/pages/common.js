// Pieces shared by the page modules.

import { h } from '../dom.js';
import { periodLabel } from '../state.js';
import {
  formatPercent, formatInterval, formatDateTime, formatRelative, splitTestId, DASH,
} from '../format.js';
import { rateValue } from '../series.js';

const RESOLUTION_WORDS = { sec: 'per-second', min: 'per-minute', hour: 'hourly', day: 'daily' };
const WINDOW_WORDS = { sec: 'an hour', min: '2 days', hour: '31 days', day: '10 years' };

/** 'Last 7 days until now · hourly buckets (auto)' */
export function windowLabel(ctx) {
  const { state, resolution } = ctx;
  if (!state.period) return null;
  const atNewest = ctx.window && ctx.window.atNewest;
  const parts = [`Last ${periodLabel(state.period)}`, state.end ? `until ${formatDateTime(state.end)}`
    : atNewest ? `until the newest run, ${formatDateTime(ctx.window.stop)} (${formatRelative(ctx.window.stop)})` : 'until now'];
  let text = parts.join(' ');
  if (resolution) {
    text += ` \u00b7 ${RESOLUTION_WORDS[resolution.resolution]} buckets`;
    if (resolution.auto) text += ' (auto)';
  }
  return text;
}

/** 'No runs in the last 7 days.' (or '... in the 7 days until 2026-10-01 00:00 UTC.') */
export function noData(ctx, what = 'runs') {
  const { state } = ctx;
  if (!state.period) return `No ${what}.`;
  const span = periodLabel(state.period);
  return state.end ? `No ${what} in the ${span} until ${formatDateTime(state.end)}.` : `No ${what} in the last ${span}.`;
}

/** The page heading: kicker (page kind), title, subtitle line, actions on the right. */
export function pageHeader(ctx, { kicker = null, title, titleNode = null, subtitle = undefined, actions = null }) {
  const sub = subtitle === undefined ? windowLabel(ctx) : subtitle;
  const notes = [];
  if (ctx.resolution && ctx.resolution.coarsened) {
    const why = ctx.resolution.reason === 'window'
      ? `The API serves ${RESOLUTION_WORDS[ctx.state.resolution]} buckets for ${WINDOW_WORDS[ctx.state.resolution]} at most`
      : `The ${ctx.state.resolution} resolution would draw more than 2,000 points for this period`;
    notes.push(h('div', { class: 'note', role: 'note' },
      `${why}: charts use ${RESOLUTION_WORDS[ctx.resolution.resolution]} buckets.`));
  }
  return h('header', { class: 'page-header' },
    h('div', { class: 'page-heading' },
      kicker ? h('div', { class: 'kicker' }, kicker) : null,
      h('h1', { class: 'page-title' }, titleNode || title),
      sub ? h('div', { class: 'page-subtitle' }, sub) : null,
      notes),
    actions ? h('div', { class: 'page-actions' }, actions) : null);
}

/**
 * A failure rate cell from an API object with the rate fields (failure_rate,
 * n, ci_low, ci_high): the percentage, coloured by severity, its interval below.
 */
export function rateCell(rate) {
  const value = rateValue(rate);
  if (value === null) return h('span', { class: 'muted' }, rate && rate.n === 0 ? 'no runs' : DASH);
  const tone = value >= 0.2 ? 'rate-high' : value >= 0.05 ? 'rate-mid' : 'rate-low';
  return h('span', { class: ['rate', tone], title: Number.isFinite(rate.n) ? `95% interval, n=${rate.n}` : null },
    h('span', { class: 'rate-value' }, formatPercent(value)),
    Number.isFinite(rate.ci_low) ? h('span', { class: 'rate-interval' }, formatInterval(rate.ci_low, rate.ci_high)) : null);
}

/** A test id as module path (dim) + Class.test_method, all text; a link when href is given. */
export function testIdNode(testId, href = null) {
  const { prefix, name } = splitTestId(testId);
  const content = [prefix ? h('span', { class: 'test-prefix' }, breakable(prefix)) : null, h('span', { class: 'test-name' }, breakable(name))];
  return href
    ? h('a', { class: 'test-id', href, title: String(testId) }, content)
    : h('span', { class: 'test-id', title: String(testId) }, content);
}

/** '3 hours ago' with the exact UTC time as tooltip; older than a week, the date beside it. */
export function timeCell(value) {
  if (!value) return h('span', { class: 'muted' }, DASH);
  const old = Date.now() - Date.parse(value) > 7 * 86400e3;
  return h('time', { datetime: String(value), title: formatDateTime(value) },
    old ? `${formatRelative(value)} (${formatDateTime(value)})` : formatRelative(value));
}

/** A colour swatch + name. */
export function swatchLabel(name, color) {
  return h('span', { class: 'swatch-label' },
    h('span', { class: 'swatch', style: { backgroundColor: color }, 'aria-hidden': 'true' }), String(name));
}

/** Two or more panels side by side on wide screens. */
export function grid(...panels) {
  return h('div', { class: 'grid' }, panels);
}

/** Text with line-break opportunities after dots (long dotted ids wrap at a dot, not mid-word). */
export function breakable(text) {
  const out = [];
  for (const part of String(text).split(/(?<=\.)/)) out.push(part, h('wbr'));
  out.pop();
  return out;
}
