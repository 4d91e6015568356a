// Table sorting: pure functions, used by components.js's sortable tables.

/** '-failure_rate' -> {key: 'failure_rate', desc: true} */
export function parseSort(sort) {
  const s = typeof sort === 'string' ? sort : '';
  return s.startsWith('-') ? { key: s.slice(1), desc: true } : { key: s, desc: false };
}

/**
 * The sort after clicking a column header: the same column flips direction,
 * another column starts in its natural direction (descending for numbers,
 * ascending for text).
 */
export function toggleSort(current, key, numeric = false) {
  const { key: curKey, desc } = parseSort(current);
  if (curKey === key) return desc ? key : `-${key}`;
  return numeric ? `-${key}` : key;
}

function compareValues(a, b) {
  const aMissing = a === null || a === undefined || (typeof a === 'number' && Number.isNaN(a));
  const bMissing = b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b));
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en', { numeric: true, sensitivity: 'base' });
}

/**
 * A sorted copy of rows. `columns` maps a key to `{sortValue(row)}` (default:
 * row[key]). Missing values always sort last, whatever the direction; ties
 * keep their input order.
 */
export function sortRows(rows, columns, sort) {
  const { key, desc } = parseSort(sort);
  const column = (columns || []).find((c) => c.key === key);
  if (!column) return [...(rows || [])];
  const value = column.sortValue || ((row) => row[key]);
  return (rows || [])
    .map((row, index) => ({ row, index, v: value(row) }))
    .sort((a, b) => {
      const aMissing = a.v === null || a.v === undefined;
      const bMissing = b.v === null || b.v === undefined;
      if (aMissing !== bMissing) return aMissing ? 1 : -1;
      const c = compareValues(a.v, b.v);
      return (desc ? -c : c) || a.index - b.index;
    })
    .map((x) => x.row);
}
