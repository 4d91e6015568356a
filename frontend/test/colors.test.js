import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorFor, seriesStyles, hashString, rateColor, PALETTE, STATUS_COLORS } from '../js/colors.js';

test('a name always gets the same colour', () => {
  for (const name of ['tempest-full-py3', 'nova-grenade-multinode', '', '<script>', '\u00e9l\u00e8ve']) {
    assert.equal(colorFor(name), colorFor(String(name)));
    assert.ok(PALETTE.includes(colorFor(name)));
  }
  // known values: changing the hash or palette changes every user's colours
  assert.equal(hashString(''), 0x811c9dc5);
  assert.equal(hashString('a'), 0xe40c292c);
  assert.equal(colorFor('tempest-full-py3'), PALETTE[hashString('tempest-full-py3') % PALETTE.length]);
});

test('the palette is distinct and avoids the outcome colours', () => {
  assert.equal(new Set(PALETTE).size, PALETTE.length);
  for (const c of [STATUS_COLORS.passed, STATUS_COLORS.failed, STATUS_COLORS.empty]) assert.ok(!PALETTE.includes(c));
});

test('seriesStyles: distinct colours for the names shown, and a dash variant for each', () => {
  // find two names with the same colour
  const byColor = new Map();
  let pair = null;
  for (let i = 0; !pair; i += 1) {
    const name = `job-${i}`;
    const c = colorFor(name);
    if (byColor.has(c)) pair = [byColor.get(c), name];
    else byColor.set(c, name);
  }
  const styles = seriesStyles([pair[0], 'other', pair[1], pair[0]]);
  assert.equal(styles.size, 3);
  // the first keeps its own colour; the one colliding with it gets an unused one
  assert.equal(styles.get(pair[0]).color, colorFor(pair[0]));
  assert.notEqual(styles.get(pair[1]).color, styles.get(pair[0]).color);
  assert.deepEqual([...styles.values()].map((s) => s.variant), [0, 1, 2]);
  // as many names as the palette: all colours differ
  const many = PALETTE.map((_, i) => `n${i}`);
  assert.equal(new Set([...seriesStyles(many).values()].map((s) => s.color)).size, PALETTE.length);
  // the variants cycle through the four dashes
  assert.deepEqual([...seriesStyles(many).values()].slice(0, 6).map((s) => s.variant), [0, 1, 2, 3, 0, 1]);
  assert.equal(seriesStyles(null).size, 0);
});

test('rateColor', () => {
  assert.equal(rateColor(0), 'rgb(253, 243, 242)');
  assert.equal(rateColor(1), 'rgb(214, 69, 69)');
  assert.equal(rateColor(2), rateColor(1));
  assert.equal(rateColor(null), null);
  assert.equal(rateColor(NaN), null);
});
