import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSort, toggleSort, sortRows } from '../js/table.js';

const columns = [
  { key: 'name' },
  { key: 'runs' },
  { key: 'rate', sortValue: (r) => (r.rate ? r.rate.value : null) },
];
const rows = [
  { name: 'b', runs: 10, rate: { value: 0.5 } },
  { name: 'a10', runs: 2, rate: null },
  { name: 'a9', runs: 30, rate: { value: 0.1 } },
  { name: 'C', runs: 10, rate: { value: 0.9 } },
];

test('parseSort and toggleSort', () => {
  assert.deepEqual(parseSort('-runs'), { key: 'runs', desc: true });
  assert.deepEqual(parseSort('name'), { key: 'name', desc: false });
  assert.deepEqual(parseSort(null), { key: '', desc: false });
  assert.equal(toggleSort('-runs', 'runs'), 'runs');
  assert.equal(toggleSort('runs', 'runs'), '-runs');
  assert.equal(toggleSort('-runs', 'name'), 'name');
  assert.equal(toggleSort('name', 'runs', true), '-runs');
});

test('text sorts naturally and case-insensitively', () => {
  assert.deepEqual(sortRows(rows, columns, 'name').map((r) => r.name), ['a9', 'a10', 'b', 'C']);
  assert.deepEqual(sortRows(rows, columns, '-name').map((r) => r.name), ['C', 'b', 'a10', 'a9']);
});

test('numbers sort numerically, ties keep their order', () => {
  assert.deepEqual(sortRows(rows, columns, '-runs').map((r) => r.name), ['a9', 'b', 'C', 'a10']);
  assert.deepEqual(sortRows(rows, columns, 'runs').map((r) => r.name), ['a10', 'b', 'C', 'a9']);
});

test('missing values go last in both directions', () => {
  assert.deepEqual(sortRows(rows, columns, 'rate').map((r) => r.name), ['a9', 'b', 'C', 'a10']);
  assert.deepEqual(sortRows(rows, columns, '-rate').map((r) => r.name), ['C', 'b', 'a9', 'a10']);
});

test('unknown column: a copy in the input order', () => {
  const out = sortRows(rows, columns, 'nope');
  assert.deepEqual(out, rows);
  assert.notEqual(out, rows);
  assert.deepEqual(sortRows(null, columns, 'name'), []);
});
