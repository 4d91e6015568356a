// Insight: failure intelligence the API computed (ci-health analyze): flaky
// tests ranked by impact, failure clusters, broken since, suspect metadata,
// the explained-failure rate and flaky CI jobs. Every figure is served; this
// page only draws it, as text (h() never renders markup).

import { h, replace } from '../dom.js';
import { panel, load, dataTable, link, badge, statTiles, sparkline } from '../components.js';
import { formatCount, formatPercent } from '../format.js';
import { pageHeader, rateCell, testIdNode, timeCell } from './common.js';

const safeUrl = (url) => (typeof url === 'string' && /^https?:\/\//.test(url) ? url : null);
const pct = (value) => (Number.isFinite(value) ? formatPercent(value) : '\u2014');

function section(root, title, subtitle) {
  const p = panel({ title, subtitle });
  root.append(p.el);
  return p.body;
}

export async function render(ctx) {
  const { api, signal, root } = ctx;
  ctx.setTitle('Insight');
  replace(root, pageHeader(ctx, { kicker: 'Insight', title: 'Failure intelligence',
    subtitle: 'Computed by ci-health analyze over the last period' }));
  const get = (kind, params = {}) => api.getInsight(kind, params, { signal });
  const jobs = [];

  jobs.push(load(section(root, 'Flaky tests', 'Failed and passed on the same change and patch set; ranked by impact (failed runs where it was the only failing test)'), {
    what: 'the flaky tests', signal,
    fetch: () => get('flakyTests', { limit: 500 }),
    isEmpty: (d) => !d.tests || d.tests.length === 0,
    empty: 'No test failed and passed on the same patch set in the period.',
    render: (body, d) => replace(body, dataTable({
      rows: d.tests, rowKey: (t) => t.test_id, sort: '-impact',
      columns: [
        { key: 'test_id', label: 'Test', className: 'cell-test', render: (t) => testIdNode(t.test_id, ctx.href('test', { testId: t.test_id })) },
        { key: 'flaky', label: 'Verdict', render: (t) => (t.flaky ? badge('failed', 'flaky')
          : h('span', { class: 'muted' }, t.more_runs_needed ? `needs ~${formatCount(t.more_runs_needed)} more runs` : 'not enough to tell')) },
        { key: 'impact', label: 'Impact', numeric: true, render: (t) => formatCount(t.impact) },
        { key: 'evidence', label: 'Evidence', numeric: true, render: (t) => formatCount(t.evidence) },
        { key: 'failure_rate', label: 'Failure rate', numeric: true, render: (t) => rateCell(t) },
        { key: 'flip_rate', label: 'Flip rate', numeric: true, render: (t) => pct(t.flip_rate) },
        { key: 'last_flaky', label: 'Last flaky', render: (t) => timeCell(t.last_flaky) },
      ],
    })),
  }));

  jobs.push(load(section(root, 'Failure clusters', 'Failures grouped by normalised error signature'), {
    what: 'the failure clusters', signal,
    fetch: () => get('clusters', { limit: 200 }),
    isEmpty: (d) => !d.clusters || d.clusters.length === 0,
    empty: 'No failure with a traceback in the period.',
    render: (body, d) => replace(body, dataTable({
      rows: d.clusters, rowKey: (c) => c.id, sort: '-failures',
      columns: [
        { key: 'signature', label: 'Signature', className: 'cell-test', render: (c) => h('span', {},
          c.new ? badge('failed', 'new') : null, ' ', h('code', { title: c.id }, c.signature)) },
        { key: 'failures', label: 'Failures', numeric: true, render: (c) => formatCount(c.failures) },
        { key: 'per_day', label: 'Per day', render: (c) => {
          const counts = (c.per_day || []).map((p) => p.failures);
          const top = Math.max(1, ...counts);
          return sparkline(counts.map((n) => n / top), { label: `failures per day, at most ${top}` });
        } },
        { key: 'tests', label: 'Tests', numeric: true, render: (c) => formatCount(c.tests) },
        { key: 'jobs', label: 'Jobs', numeric: true, render: (c) => formatCount(c.jobs) },
        { key: 'first_seen', label: 'First seen', render: (c) => timeCell(c.first_seen) },
        { key: 'label', label: 'Label', render: (c) => (c.label ? (safeUrl(c.bug_url) ? link(safeUrl(c.bug_url), c.label) : c.label) : h('span', { class: 'muted' }, c.id)) },
        { key: 'example', label: 'Example', render: (c) => {
          const ex = (c.examples || [])[0];
          return ex && safeUrl(ex.link) ? link(safeUrl(ex.link), 'logs') : '\u2014';
        } },
      ],
    })),
  }));

  jobs.push(load(section(root, 'Broken since', 'Bayesian change point: the first failing run, rates before and after, posterior probability'), {
    what: 'the broken tests and jobs', signal,
    fetch: () => get('broken'),
    isEmpty: (d) => !d.episodes || d.episodes.length === 0,
    empty: 'Nothing went from stable to failing in the period.',
    render: (body, d) => replace(body, dataTable({
      rows: d.episodes, rowKey: (e) => `${e.kind}|${e.job}|${e.test_id}|${e.broken_since}`, sort: '-broken_since',
      columns: [
        { key: 'job', label: 'Job', render: (e) => link(ctx.href('job', { name: e.job }), e.job) },
        { key: 'test_id', label: 'Test', className: 'cell-test', render: (e) => (e.test_id ? testIdNode(e.test_id, ctx.href('test', { testId: e.test_id })) : h('span', { class: 'muted' }, 'the whole job')) },
        { key: 'broken_since', label: 'Broken since', render: (e) => timeCell(e.broken_since) },
        { key: 'fixed_at', label: 'Fixed', render: (e) => (e.fixed_at ? timeCell(e.fixed_at) : badge('failed', 'still broken')) },
        { key: 'before', label: 'Before', numeric: true, render: (e) => (e.before ? rateCell(e.before) : '\u2014') },
        { key: 'after', label: 'After', numeric: true, render: (e) => rateCell(e.after) },
        { key: 'probability', label: 'Confidence', numeric: true, render: (e) => pct(e.probability) },
      ],
    })),
  }));

  jobs.push(load(section(root, 'Suspect metadata', 'Values whose runs fail more than the rest (Fisher exact, Bonferroni over the windows tried)'), {
    what: 'the suspects', signal,
    fetch: () => get('suspects'),
    isEmpty: (d) => !d.suspects || d.suspects.length === 0,
    empty: 'No metadata value fails more than the rest.',
    render: (body, d) => replace(body, dataTable({
      rows: d.suspects, rowKey: (s) => `${s.key}=${s.value}`, sort: 'p_value',
      columns: [
        { key: 'value', label: 'Value', render: (s) => `${s.key}: ${s.value}` },
        { key: 'p_value', label: 'p (corrected)', numeric: true, render: (s) => (s.p_value < 0.001 ? '<0.001' : s.p_value.toFixed(3)) },
        { key: 'window_start', label: 'Window', render: (s) => timeCell(s.window_start) },
        { key: 'window', label: 'Its runs', numeric: true, render: (s) => rateCell(s.window) },
        { key: 'window_rest', label: 'The rest', numeric: true, render: (s) => rateCell(s.window_rest) },
        { key: 'period', label: 'Its period rate', numeric: true, render: (s) => rateCell(s.period) },
      ],
    })),
  }));

  jobs.push(load(section(root, 'Explained failures', 'Failed runs whose every failure is a labelled cluster or a flaky test'), {
    what: 'the explained-failure rate', signal,
    fetch: () => get('explained', { limit: 50 }),
    isEmpty: (d) => !d.failed_runs,
    empty: 'No failed run in the period.',
    render: (body, d) => replace(body,
      statTiles([{ label: 'Explained', value: pct(d.explained_rate), sub: `${formatCount(d.explained)} of ${formatCount(d.failed_runs)} failed runs` },
        { label: 'Unexplained', value: formatCount(d.unexplained_total), tone: d.unexplained_total ? 'bad' : 'good' },
        { label: 'Explained per day', value: sparkline((d.points || []).map((p) => p.explained_rate), { label: 'explained-failure rate per day' }) }]),
      dataTable({
        rows: d.unexplained, rowKey: (r) => String(r.run_id), sort: '-run_at',
        columns: [
          { key: 'run_at', label: 'Run', render: (r) => link(ctx.href('run', { runId: String(r.run_id) }), r.uuid || String(r.run_id)) },
          { key: 'job', label: 'Job', render: (r) => r.job || '\u2014' },
          { key: 'fails', label: 'Failures', numeric: true, render: (r) => formatCount(r.fails) },
          { key: 'unexplained_tests', label: 'Unexplained tests', render: (r) => (r.unexplained_tests || []).join(', ') },
        ],
      })),
  }));

  jobs.push(load(section(root, 'Flaky CI jobs', 'From Gerrit verdicts: the result changed on the same patch set after a recheck request (a new patch set is not a flip)'), {
    what: 'the flaky CI jobs', signal,
    fetch: () => get('flakyJobs'),
    isEmpty: (d) => !d.jobs || d.jobs.length === 0,
    empty: 'No CI verdicts in the period.',
    render: (body, d) => replace(body, dataTable({
      rows: d.jobs, rowKey: (j) => `${j.ci_system}|${j.job}`, sort: '-flaky_rate',
      columns: [
        { key: 'ci_system', label: 'CI system', render: (j) => j.ci_system },
        { key: 'job', label: 'Job', render: (j) => j.job },
        { key: 'flaky', label: 'Flaky', numeric: true, render: (j) => formatCount(j.flaky) },
        { key: 'rechecked', label: 'Rechecked', numeric: true, render: (j) => formatCount(j.rechecked) },
        { key: 'changes_without_recheck', label: 'Changed, no recheck', numeric: true, render: (j) => formatCount(j.changes_without_recheck) },
        { key: 'patch_sets', label: 'Patch sets', numeric: true, render: (j) => formatCount(j.patch_sets) },
        { key: 'flaky_rate', label: 'Flaky rate', numeric: true, render: (j) => rateCell({ ...j, failure_rate: j.flaky_rate }) },
      ],
    })),
  }));
  return Promise.all(jobs);
}
