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
 * 16 categorical colours, readable on white and far apart from each other
 * (no two of the same hue family and lightness: the former pair of navies
 * and pair of oranges are gone), none of them the pass green, fail red or
 * no-result grey of STATUS_COLORS.
 */
export const PALETTE = Object.freeze([
  '#1f77b4', '#ff7f0e', '#9467bd', '#17becf', '#e377c2', '#8c564b',
  '#bcbd22', '#393b79', '#ad494a', '#637939', '#7f7f7f', '#f7b6d2',
  '#6b6ecf', '#b5651d', '#0b6e4f', '#c49c94',
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
 * Line styles for names drawn together (a chart's series, in legend order).
 * Colour: colorFor(name) when no earlier name of the set has it, else the
 * first palette colour the set does not use yet, so the series shown stay
 * apart by colour (up to the palette's 16; a name keeps its colour on every
 * page unless it collides). Second channel, for every series: the line
 * `variant` (0 solid, 1 dashed, 2 dotted, 3 dash-dot) by position, drawn in
 * the chart and in the legend, so two series never look alike even when
 * colours are hard to tell apart.
 * Returns a Map name -> {color, variant}.
 */
export function seriesStyles(names) {
  const used = new Set();
  const styles = new Map();
  for (const name of (names || []).map(String)) {
    if (styles.has(name)) continue;
    let color = colorFor(name);
    if (used.has(color)) color = PALETTE.find((c) => !used.has(c)) ?? color;
    used.add(color);
    styles.set(name, { color, variant: styles.size % VARIANT_CLASSES.length });
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
