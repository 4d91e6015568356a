// CI systems: third-party CI verdicts from Gerrit (docs/design.md section 2).
// Reserved: the navigation entry and the route exist so links stay valid
// once the API serves the CI endpoints (to be added to api.js).

import { h, replace } from '../dom.js';
import { panel } from '../components.js';
import { pageHeader } from './common.js';

export async function render(ctx) {
  ctx.setTitle('CI systems');
  const p = panel({ title: 'Third-party CI systems' });
  replace(p.body, h('div', { class: 'state state-empty' },
    h('span', { class: 'state-icon', 'aria-hidden': 'true' }, '\u2026'),
    h('div', {},
      h('div', {}, 'Coming soon: how each third-party CI system is doing: its verdicts on patch sets, its coverage, and its flaky jobs.'),
      h('div', { class: 'muted' }, 'This page will list the CI systems that comment on Gerrit changes, with a page per system.'))));
  replace(ctx.root, pageHeader(ctx, { kicker: 'CI systems', title: 'CI systems', subtitle: null }), p.el);
  return 'ready';
}
