// Who has CI: per project, the third-party CI systems declared for it or seen
// reporting on it (status, last report, 7-day coverage), the upstream CI
// apart, and the projects without any third-party CI.

import { h, replace } from '../dom.js';
import { panel, load } from '../components.js';
import { formatCount, formatPercent, formatInterval, formatDateTime } from '../format.js';
import { pageHeader, timeCell } from './common.js';
import { statusBadge, ciTabs } from './ci_common.js';

export async function render(ctx) {
  const { state, api, signal, root } = ctx;
  ctx.setTitle('Who has CI');
  const stop = state.end ? new Date(state.end) : new Date(Math.ceil(Date.now() / 60000) * 60000);
  const without = panel({ title: 'Projects without third-party CI' });
  const table = panel({ title: 'CI systems per project', subtitle: 'Declared: named for the project in ci-systems.yaml; discovered: reported on it in the 7 days. Coverage over those 7 days.' });
  replace(root, pageHeader(ctx, {
    kicker: 'CI systems', title: 'Who has CI', actions: ciTabs(ctx, 'ciProjects'),
    subtitle: `The 7 days until ${state.end ? formatDateTime(state.end) : 'now'}`,
  }), without.el, table.el);

  const dataP = api.getCiProjects({ stop, signal });
  return Promise.all([
    load(without.body, {
      what: 'the projects without CI', signal, fetch: () => dataP, isEmpty: (d) => !d.without_ci.length,
      empty: 'Every project has a third-party CI.',
      render: (body, d) => replace(body, h('ul', { class: 'ci-without' }, d.without_ci.map((p) => h('li', {},
        h('a', { href: ctx.href('ciGrid', { project: p }) }, p))))),
    }),
    load(table.body, {
      what: 'who has CI', signal, fetch: () => dataP, isEmpty: (d) => !d.projects.length, empty: 'No project seen yet.',
      render: (body, d) => replace(body, h('div', { class: 'table-wrap' }, h('table', { class: 'data ci-who' },
        h('thead', {}, h('tr', {}, ['Project', 'CI system', 'How known', 'Status', 'Last report', 'Coverage (7 days)'].map((t) => h('th', {}, t)))),
        h('tbody', {}, d.projects.flatMap((p) => projectRows(ctx, p)))))),
    }),
  ]);
}

function projectRows(ctx, p) {
  const systems = [...p.systems, ...p.upstream.map((s) => ({ ...s, upstream: true }))];
  const projectCell = (n) => h('th', { scope: 'row', rowspan: String(n), class: 'ci-project' }, h('a', { href: ctx.href('ciGrid', { project: p.project }) }, p.project));
  if (!systems.length) {
    return [h('tr', { dataset: { project: p.project } }, projectCell(1), h('td', { colspan: '5', class: 'muted' }, 'No CI system'))];
  }
  return systems.map((s, i) => h('tr', { dataset: { project: p.project, system: s.system } },
    i === 0 ? projectCell(systems.length) : null,
    h('td', {}, h('a', { href: ctx.href('ciSystem', { ciName: s.system }) }, s.display_name), s.upstream ? h('span', { class: 'muted' }, ' (upstream)') : null),
    h('td', {}, [s.declared ? 'declared' : null, s.discovered ? 'discovered' : null].filter(Boolean).join(', ')),
    h('td', {}, statusBadge(s.status)),
    h('td', {}, timeCell(s.last_report)),
    h('td', { class: 'num' }, s.eligible ? `${formatPercent(s.coverage)} (${formatCount(s.covered)}/${formatCount(s.eligible)}) ${formatInterval(s.ci_low, s.ci_high)}` : '\u2014')));
}
