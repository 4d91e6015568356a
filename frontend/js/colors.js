// Colours. A job (or any group) keeps its colour everywhere and on every
// load: the colour comes from a hash of its name, not from its position in
// a list. Pure functions (no DOM).

/** Outcome colours, used by every chart and badge (mirrored in css/app.css). */
export const STATUS_COLORS = Object.freeze({
  passed: '#2f9e66',
  failed: '#d64545',
  empty: '#a3acb9',
  skipped: '#a3acb9',
  rate: '#c2410c',
  interval: '#f5c9a8',
  duration: '#3b6fd4',
});

/**
 * 16 categorical colours, readable on white and distinct side by side,
 * none of them the pass green, fail red or no-result grey of STATUS_COLORS.
 */
export const PALETTE = Object.freeze([
  '#3b6fd4', '#e07b1f', '#8a5cc2', '#1f9ea8', '#c2418f', '#8c8c1f',
  '#8c564b', '#d4a017', '#17becf', '#e377c2', '#1a4f8b', '#6b6ecf',
  '#b5651d', '#393b79', '#7b4173', '#5a7d9a',
]);

/** 32-bit FNV-1a over the UTF-16 code units of a string. */
export function hashString(value) {
  const s = String(value ?? '');
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i += 1) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The colour of a name: the same name always gets the same colour. */
export function colorFor(name) {
  return PALETTE[hashString(name) % PALETTE.length];
}

/**
 * Line styles for names drawn together. The colour is always colorFor(name)
 * (a job looks the same on every page and every period); when names of the
 * set share a colour, the later ones in `names` order get the next line
 * `variant` (1 = dashed, 2 = dotted, 3 = dash-dot, cycling), so the lines
 * stay apart without changing anyone's colour.
 * Returns a Map name -> {color, variant}.
 */
export function seriesStyles(names) {
  const seen = new Map(); // colour -> how many names have it so far
  const styles = new Map();
  for (const name of (names || []).map(String)) {
    if (styles.has(name)) continue;
    const color = colorFor(name);
    const count = seen.get(color) || 0;
    styles.set(name, { color, variant: count === 0 ? 0 : ((count - 1) % 3) + 1 });
    seen.set(color, count + 1);
  }
  return styles;
}

/** The CSS class of a line variant (css/app.css). */
export const VARIANT_CLASSES = Object.freeze(['', 'series-dashed', 'series-dotted', 'series-dashdot']);

/**
 * A failure rate in [0, 1] -> a background colour from white to the fail
 * red, for heat cells; null for no data.
 */
export function rateColor(rate) {
  if (typeof rate !== 'number' || !Number.isFinite(rate)) return null;
  const t = Math.max(0, Math.min(1, rate)) ** 0.6;
  const mix = (a, b) => Math.round(a + (b - a) * t);
  // #fdf3f2 -> #d64545
  return `rgb(${mix(253, 214)}, ${mix(243, 69)}, ${mix(242, 69)})`;
}
