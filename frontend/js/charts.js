// NVD3 charts. d3 3 and NVD3 are classic scripts (index.html loads them
// from /vendor/); this module reads their globals `d3` and `nv`.
//
// Escaping: NVD3's default tooltip builds HTML from series keys (job names)
// and sets innerHTML. Every chart here replaces it with tooltipContent(),
// which builds the tooltip with textContent and returns false, so NVD3
// never writes markup. Legends and axes use d3's .text().
//
// Readiness markers: see components.js markChart(); a chart is marked
// `ready` on the animation frame after NVD3 has drawn it.

import { h, replace } from './dom.js';
import { markChart } from './components.js';
import { formatPercent, formatTick, formatDateTime, formatRate, formatCount } from './format.js';
import { timeTicks } from './resolution.js';

const HEIGHT = 260;
const active = new Set(); // resize handlers of the charts on the page

function libs() {
  const { d3, nv } = globalThis;
  if (!d3 || !nv) throw new Error('d3/NVD3 did not load: is /vendor/ served (npm ci in frontend/)?');
  return { d3, nv };
}

/** Drops the charts of the previous page: resize handlers and NVD3 tooltips left on <body>. */
export function disposeCharts() {
  for (const clear of active) clear();
  active.clear();
  for (const node of document.querySelectorAll('.nvtooltip')) node.remove();
}

function tooltipContent({ xFormat, yFormat }) {
  return (d, elem) => {
    if (!d || !elem) return false;
    const series = Array.isArray(d.series) ? d.series : d.series ? [d.series] : [];
    const table = h('table', {},
      h('thead', {}, h('tr', {}, h('td', { colspan: '3' }, h('strong', { class: 'x-value' }, xFormat(d.value))))),
      h('tbody', {}, series.map((s) => h('tr', { class: s.highlight ? 'highlight' : null },
        h('td', { class: 'legend-color-guide' }, h('div', { style: { backgroundColor: s.color } })),
        h('td', { class: 'key' }, String(s.key ?? '')),
        h('td', { class: 'value' }, yFormat(s.value, s.data))))));
    replace(elem, table);
    return false; // tell NVD3 the content is in place: it must not set innerHTML
  };
}

function timeFormatter(resolution) {
  return (value) => formatTick(value, resolution);
}

function finish(el, chart, { d3, nv }, after = null) {
  const redraw = () => {
    chart.update();
    if (after) after();
  };
  const handler = nv.utils.windowResize(redraw);
  active.add(() => handler.clear());
  if (after) after();
  requestAnimationFrame(() => markChart(el, 'ready'));
}

function mount(el, height) {
  const { d3 } = libs();
  replace(el);
  const svg = d3.select(el).append('svg').attr('class', 'nvd3-svg').style('height', `${height}px`);
  return svg;
}

/** The band of a failure-rate point: its served 95% interval (series.js keeps the rate as `rate`). */
export const rateBand = (p) => (p.rate ? { low: p.rate.ci_low, high: p.rate.ci_high } : null);

/**
 * A time-series line chart. series: [{key, color, values: [{x: ms, y}], disabled}]
 * (y null = gap). options: resolution (tick format), yFormat (tick and
 * tooltip), tooltipY(value, point), yDomain, band, bandClass, height, legend.
 * band: an accessor point -> {low, high} | null drawn as a shaded area
 * under each visible line (null or non-finite = a gap in it), e.g. rateBand
 * (the 95% interval, also what `true` means) or a mean ± std; the y axis
 * is widened to hold it. bandClass: the class of its paths (besides
 * `chart-band`), 'ci-band' by default.
 */
export function lineChart(el, series, {
  resolution = 'day', yFormat = (v) => formatPercent(v, 0), tooltipY = null, yDomain = null, band = null,
  bandClass = 'ci-band', height = HEIGHT, legend = true,
} = {}) {
  const L = libs();
  const { d3, nv } = L;
  const bandOf = band === true ? rateBand : typeof band === 'function' ? band : null;
  const svg = mount(el, height);
  const chart = nv.models.lineChart()
    .margin({ top: 8, right: 24, bottom: 32, left: 56 })
    .height(height)
    .duration(0)
    // lines (and bands) stay inside the plot area when the y axis is narrower than the data
    .clipEdge(true)
    .useInteractiveGuideline(true)
    .showLegend(legend)
    .x((p) => p.x)
    .y((p) => p.y)
    .xScale(d3.time.scale.utc());
  const forceY = [...(yDomain || []), ...(bandOf ? bandExtent(series, bandOf) : [])];
  if (forceY.length) chart.forceY(forceY);
  const ticks = xTicks(series, resolution);
  chart.xAxis.tickFormat(timeFormatter(resolution)).showMaxMin(false).tickValues(ticks);
  chart.yAxis.tickFormat(yFormat).ticks(5).showMaxMin(false);
  if (chart.legend && chart.legend.maxKeyLength) chart.legend.maxKeyLength(32);
  chart.interactiveLayer.tooltip.contentGenerator(tooltipContent({
    xFormat: formatDateTime,
    yFormat: tooltipY || ((v, p) => (p && p.rate ? formatRate(p.rate) : yFormat(v))),
  }));
  svg.datum(series).call(chart);
  const drawBand = bandOf ? () => drawBandArea(el, chart, series, d3, bandOf, bandClass) : null;
  const after = () => {
    if (drawBand) drawBand();
    if (legend) legendLines(el, series, d3);
  };
  chart.dispatch.on('renderEnd.extras', after);
  finish(el, chart, L, after);
  return chart;
}

/**
 * The legend shows each line's dash pattern as well as its colour: a short
 * stroke with the series' classes (series-dashed ...) beside its symbol.
 */
function legendLines(el, series, d3) {
  const byKey = new Map(series.map((s) => [String(s.key), s]));
  d3.select(el).selectAll('.nv-legend .nv-series').each(function addLine(d) {
    const s = byKey.get(String(d && d.key));
    const g = d3.select(this);
    g.selectAll('line.legend-line').remove();
    if (!s) return;
    g.insert('line', 'text').attr('class', `legend-line ${s.classed || ''}`)
      .attr('x1', -12).attr('x2', 8).attr('y1', 0).attr('y2', 0)
      .style('stroke', s.color);
  });
}

/** The band of a point when it is drawable: {low, high} finite, at a finite x; else null. */
function bandAt(bandOf, p) {
  const b = p && Number.isFinite(p.x) ? bandOf(p) : null;
  return b && Number.isFinite(b.low) && Number.isFinite(b.high) ? b : null;
}

/** [lowest low, highest high] of the visible series' bands, or [] without any. */
function bandExtent(series, bandOf) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    if (s.disabled) continue;
    for (const p of s.values || []) {
      const b = bandAt(bandOf, p);
      if (b) {
        lo = Math.min(lo, b.low);
        hi = Math.max(hi, b.high);
      }
    }
  }
  return Number.isFinite(lo) ? [lo, hi] : [];
}

/** Aligned time ticks over the x values of the series (see timeTicks). */
function xTicks(series, resolution, count = 8) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const p of s.values) {
      if (Number.isFinite(p.x)) {
        lo = Math.min(lo, p.x);
        hi = Math.max(hi, p.x);
      }
    }
  }
  return Number.isFinite(lo) ? timeTicks(lo, hi, resolution, count) : [];
}

/**
 * The band of each visible series' points (`bandOf(p)` -> {low, high} or
 * null: a gap) as a shaded area under the lines, in the series' colour.
 * The one band drawer: failure-rate intervals and run-time spreads alike.
 */
function drawBandArea(el, chart, series, d3, bandOf, className) {
  const wrap = d3.select(el).select('.nv-linesWrap');
  if (wrap.empty()) return;
  const x = chart.xAxis.scale();
  const y = chart.yAxis.scale();
  const visible = series.filter((s) => !s.disabled);
  const bands = wrap.selectAll('path.chart-band').data(visible, (s) => s.key);
  bands.enter().insert('path', ':first-child').attr('class', `chart-band ${className}`);
  bands.exit().remove();
  const area = d3.svg.area()
    .defined((p) => bandAt(bandOf, p) !== null)
    .x((p) => x(p.x))
    .y0((p) => y(bandOf(p).low))
    .y1((p) => y(bandOf(p).high));
  bands.style('fill', (s) => s.color).attr('d', (s) => area(s.values));
}

/** Stacked bars of counts per bucket. series: [{key, color, values: [{x: ms, y}]}] */
export function stackedBars(el, series, { resolution = 'day', height = HEIGHT, legend = true } = {}) {
  const L = libs();
  const { nv } = L;
  const svg = mount(el, height);
  const chart = nv.models.multiBarChart()
    .margin({ top: legend ? 34 : 8, right: 24, bottom: 32, left: 56 })
    .height(height)
    .duration(0)
    .stacked(true)
    .showControls(false)
    .showLegend(legend)
    .groupSpacing(0.15)
    .useInteractiveGuideline(true)
    .x((p) => p.x)
    .y((p) => p.y)
    .forceY([0]);
  // an ordinal axis: the ticks must be x values of the data
  const present = new Set(series.flatMap((s) => s.values.map((p) => p.x)));
  const ticks = xTicks(series, resolution, 7).filter((t) => present.has(t));
  chart.reduceXTicks(ticks.length < 2);
  chart.xAxis.tickFormat(timeFormatter(resolution)).showMaxMin(false);
  if (ticks.length >= 2) chart.xAxis.tickValues(ticks);
  chart.yAxis.tickFormat((v) => (Number.isInteger(v) ? formatCount(v) : '')).ticks(5).showMaxMin(false);
  chart.interactiveLayer.tooltip.contentGenerator(tooltipContent({
    xFormat: formatDateTime,
    yFormat: (v) => formatCount(v),
  }));
  svg.datum(series).call(chart);
  finish(el, chart, L);
  return chart;
}
