// One CI system: its verdicts' success rate and report count over time, its
// jobs, its coverage with the patch sets it missed, and how often it agrees
// with the upstream CI.

import { h, replace } from '../dom.js';
import { panel, load, statTiles } from '../components.js';
import { lineChart, stackedBars, rateBand } from '../charts.js';
import { colorFor, STATUS_COLORS } from '../colors.js';
import { formatCount, formatDuration, formatPercent, formatInterval, formatDateTime } from '../format.js';
import { pageHeader, timeCell, grid, noData } from './common.js';
import { statusBadge, resultChip, ciTabs } from './ci_common.js';
import { jobTable } from './ci.js';

const MISSED = 50;

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  const { start, stop } = ctx.window;
  const resolution = ctx.resolution.resolution === 'hour' ? 'hour' : 'day';
  const name = state.ciName;
  ctx.setTitle(name);

  const dataP = api.getCiSystem(name, { start, stop, resolution, missed: MISSED, signal });
  const tiles = panel({ title: 'Summary', className: 'panel-tiles' });
  const rate = panel({ title: 'Success rate', subtitle: `Share of the CI's verdicts that were SUCCESS, per ${resolution}; shaded: 95% Wilson interval`, chart: 'ci-success-rate' });
  const count = panel({ title: 'Reports', subtitle: `Comments of the CI per ${resolution}`, chart: 'ci-report-count' });
  const jobs = panel({ title: 'Jobs', subtitle: 'Per job over the period; infrastructure results counted apart. Click a header to sort.' });
  const missed = panel({ title: 'Missed patch sets', subtitle: `Eligible patch sets (on the CI's declared projects, current for the minimum age) it never commented on, newest first (at most ${MISSED})` });

  replace(root,
    pageHeader(ctx, { kicker: 'CI system', title: name, actions: ciTabs(ctx, null) }),
    tiles.el, grid(rate.el, count.el), jobs.el, missed.el);

  const empty = noData(ctx, 'report of this CI');
  return Promise.all([
    load(tiles.body, {
      what: 'the CI system', signal, fetch: () => dataP,
      render: (body, d) => renderTiles(root, body, d),
    }),
    load(rate.body, {
      what: 'the success rate', signal, fetch: () => dataP, isEmpty: (d) => !d.reports, empty,
      render: (body, d) => lineChart(body, [{
        key: 'Success rate', color: STATUS_COLORS.passed,
        values: d.points.map((p) => ({ x: Date.parse(p.bucket), y: p.n ? p.success_rate : null, rate: p })),
      }], { resolution, yDomain: [0, 1], band: rateBand }),
    }),
    load(count.body, {
      what: 'the report count', signal, fetch: () => dataP, isEmpty: (d) => !d.reports, empty,
      render: (body, d) => stackedBars(body, [
        { key: 'SUCCESS', color: STATUS_COLORS.passed, values: d.points.map((p) => ({ x: Date.parse(p.bucket), y: p.success })) },
        { key: 'Other', color: STATUS_COLORS.failed, values: d.points.map((p) => ({ x: Date.parse(p.bucket), y: p.reports - p.success })) },
      ], { resolution }),
    }),
    load(jobs.body, {
      what: 'the jobs', signal, fetch: () => dataP, isEmpty: (d) => !d.jobs.length, empty: noData(ctx, 'job result of this CI'),
      render: (body, d) => {
        const draw = () => replace(body, jobTable(ctx, d.jobs, {
          sort: ctx.state.sort, onSort: (sort) => { ctx.replaceState({ sort }); draw(); },
        }));
        draw();
      },
    }),
    load(missed.body, {
      what: 'the missed patch sets', signal, fetch: () => dataP, isEmpty: (d) => !d.missed_patch_sets.length,
      empty: 'No eligible patch set was missed in the period.',
      render: (body, d) => replace(body, h('div', { class: 'table-wrap' }, h('table', { class: 'data ci-missed' },
        h('thead', {}, h('tr', {}, ['Change', 'Project', 'Subject', 'Uploaded', 'Result'].map((t) => h('th', {}, t)))),
        h('tbody', {}, d.missed_patch_sets.map((p) => h('tr', {},
          h('td', { class: 'mono' }, `${p.change},${p.patch_set}`),
          h('td', {}, h('a', { href: ctx.href('ciGrid', { project: p.project }) }, p.project)),
          h('td', {}, p.subject ?? ''),
          h('td', {}, h('time', { datetime: p.created_on, title: formatDateTime(p.created_on) }, formatDateTime(p.created_on))),
          h('td', {}, resultChip(p.result)))))))),
    }),
  ]);
}

function renderTiles(root, body, d) {
  const cov = d.coverage;
  const agree = d.agreement;
  const heading = root.querySelector('.page-title');
  if (heading) replace(heading, h('span', { class: 'swatch-label' }, h('span', { class: 'swatch', style: { backgroundColor: colorFor(d.system) }, 'aria-hidden': 'true' }), d.display_name), ' ', statusBadge(d.status));
  replace(body, statTiles([
    { label: 'Reports', value: formatCount(d.reports), sub: `unparsed ${formatPercent(d.unparsed_share)}` },
    { label: 'Success rate', value: formatPercent(d.success_rate), sub: d.n ? `95% interval ${formatInterval(d.ci_low, d.ci_high)}, n=${formatCount(d.n)}` : 'no verdict' },
    { label: 'Coverage', value: formatPercent(cov.coverage), sub: cov.eligible ? `${formatCount(cov.covered)} of ${formatCount(cov.eligible)} eligible patch sets; 95% ${formatInterval(cov.ci_low, cov.ci_high)}` : 'no eligible patch set', tone: cov.missed ? 'bad' : null },
    { label: 'Agreement with upstream', value: agree ? formatPercent(agree.agreement) : '\u2014', sub: agree ? `${formatCount(agree.both_voted)} both voted; failed while upstream passed ${formatCount(agree.ci_failed_upstream_passed)}, passed while upstream failed ${formatCount(agree.ci_passed_upstream_failed)}` : 'no patch set both voted on' },
    { label: 'Upload to report', value: formatDuration(d.report_delay_median), sub: `median; p90 ${formatDuration(d.report_delay_p90)}` },
    { label: 'Last report', value: timeCell(d.last_seen), sub: h('span', {}, 'last success ', timeCell(d.last_success)) },
  ]));
}
