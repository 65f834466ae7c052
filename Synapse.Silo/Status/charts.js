// Small SVG time-series charts for the status page: no dependencies, nothing loaded from anywhere else, no inline
// styles (colours and fonts come from status.css through classes). A chart draws one value per second; null or
// missing seconds are gaps, and a value with gaps on both sides is drawn as a dot.
//
// Every series' path carries what it drew as data attributes (data-points, data-nonzero, data-sum, data-max), so
// tests and scripts can read the chart without looking at pixels.

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT = 150;
const MARGIN = { top: 10, right: 12, bottom: 22, left: 46 };

function svg(tag, cls, parent) {
  const node = document.createElementNS(SVG, tag);
  if (cls) node.setAttribute('class', cls);
  if (parent) parent.appendChild(node);
  return node;
}
function html(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}
function set(node, name, value) {
  const s = String(value);
  if (node.getAttribute(name) !== s) node.setAttribute(name, s);
}
function text(node, value) {
  const s = String(value);
  if (node.textContent !== s) node.textContent = s;
}

/**
 * The smallest "round" number at or above value: 1, 2, 2.5 or 5 × 10^n, or for counts 2, 4 or 10 × 10^n, so that
 * the middle grid line is a whole number too.
 */
export function niceCeiling(value, integer) {
  if (integer) value = Math.max(2, value);
  if (!(value > 0)) return 1;
  const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of integer ? [1, 2, 4, 10] : [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value * (1 - 1e-9)) return step * magnitude;
  }
  return 10 * magnitude;
}

function pad(n) { return n < 10 ? '0' + n : String(n); }
function clock(second, withSeconds) {
  const d = new Date(second * 1000);
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + (withSeconds ? ':' + pad(d.getSeconds()) : '');
}

/** Tick spacing in seconds for a window, so that there are 3 to 6 labels. */
function tickStep(range) {
  if (range <= 60) return 15;
  if (range <= 300) return 60;
  return 180;
}

export class LineChart {
  /**
   * @param host element the chart fills (its width is followed)
   * @param options { id, title, series: [{ key, name, tone }], format(value) -> string, integer, unit }
   */
  constructor(host, options) {
    this.options = options;
    this.host = host;
    this.cursor = null;
    this.data = null;
    host.classList.add('chart');
    host.dataset.chart = options.id;

    const head = html('div', 'chart-head');
    const title = html('h3', 'chart-title', options.title);
    title.id = 'chart-title-' + options.id;
    this.readout = html('span', 'chart-readout');
    head.append(title, this.readout);
    if (options.series.length > 1) {
      const legend = html('span', 'chart-legend');
      for (const s of options.series) {
        const item = html('span', 'legend-item tone-' + s.tone);
        item.append(html('i', 'swatch'), document.createTextNode(s.name));
        legend.appendChild(item);
      }
      head.insertBefore(legend, this.readout);
    }

    this.svg = svg('svg', 'chart-svg');
    set(this.svg, 'role', 'img');
    set(this.svg, 'height', HEIGHT);
    this.svg.setAttribute('aria-labelledby', title.id);
    this.desc = svg('desc', null, this.svg);
    this.desc.id = 'chart-desc-' + options.id;
    this.svg.setAttribute('aria-describedby', this.desc.id);
    this.grid = svg('g', 'grid', this.svg);
    this.xAxis = svg('g', 'x-axis', this.svg);
    this.areas = [];
    this.lines = [];
    for (const s of options.series) {
      const area = svg('path', 'area tone-' + s.tone, this.svg);
      area.dataset.series = s.key;
      this.areas.push(area);
    }
    for (const s of options.series) {
      const line = svg('path', 'line tone-' + s.tone, this.svg);
      line.dataset.series = s.key;
      this.lines.push(line);
    }
    this.cursorLine = svg('line', 'cursor', this.svg);
    this.cursorDots = options.series.map(s => svg('circle', 'cursor-dot tone-' + s.tone, this.svg));
    this.hideCursor();

    // The plot is focusable: arrow keys move a cursor second by second (Shift: ten), Home/End jump, Escape leaves.
    this.plot = html('div', 'chart-plot');
    this.plot.tabIndex = 0;
    this.plot.appendChild(this.svg);
    this.plot.addEventListener('pointermove', e => this.pointAt(e.clientX));
    this.plot.addEventListener('pointerleave', () => this.moveCursor(null));
    this.plot.addEventListener('keydown', e => this.onKey(e));
    this.plot.addEventListener('blur', () => this.moveCursor(null));
    host.append(head, this.plot);

    this.width = 0;
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => { if (this.plot.clientWidth !== this.width) this.draw(); }).observe(this.plot);
    }
  }

  /**
   * @param from the Unix second of values[key][0]
   * @param values arrays per series key, one element per second (null: no sample)
   * @param to the last second to show
   * @param range seconds shown, ending at to
   */
  update(from, values, to, range) {
    this.data = { from, values, to, range };
    this.draw();
  }

  hideCursor() {
    set(this.cursorLine, 'visibility', 'hidden');
    for (const dot of this.cursorDots) set(dot, 'visibility', 'hidden');
  }

  valueAt(key, second) {
    const d = this.data;
    const array = d && d.values[key];
    if (!array) return null;
    const v = array[second - d.from];
    return v === undefined ? null : v;
  }

  draw() {
    const width = this.plot.clientWidth;
    if (!width || !this.data) return;
    this.width = width;
    set(this.svg, 'width', width);
    set(this.svg, 'viewBox', '0 0 ' + width + ' ' + HEIGHT);
    const { to, range } = this.data;
    const start = to - range + 1;
    const plotW = Math.max(10, width - MARGIN.left - MARGIN.right);
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const x = second => MARGIN.left + (range <= 1 ? plotW : (second - start) / (range - 1) * plotW);

    // Scale: the largest value shown, rounded up; at least 1 for counts.
    let max = 0;
    const stats = this.options.series.map(s => {
      let points = 0, nonzero = 0, sum = 0, peak = 0, last = null;
      for (let second = start; second <= to; second++) {
        const v = this.valueAt(s.key, second);
        if (v === null) continue;
        points++; sum += v; last = v;
        if (v > 0) nonzero++;
        if (v > peak) peak = v;
      }
      if (peak > max) max = peak;
      return { points, nonzero, sum, peak, last };
    });
    const top = niceCeiling(max > 0 ? max : 1, this.options.integer);
    const y = value => MARGIN.top + plotH * (1 - Math.min(value, top) / top);
    this.scale = { x, y, start, to, plotW };

    this.drawGrid(top, y, width);
    this.drawTicks(start, to, range, x);

    this.options.series.forEach((s, i) => {
      let line = '', area = '', run = [];
      const flush = () => {
        if (!run.length) return;
        if (run.length === 1) {
          const [px, py] = run[0];
          line += 'M' + (px - 1.5).toFixed(1) + ' ' + py.toFixed(1) + 'h3';
        } else {
          line += 'M' + run.map(p => p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join('L');
          if (i === 0) {
            area += 'M' + run[0][0].toFixed(1) + ' ' + y(0).toFixed(1) + 'L' + run.map(p => p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join('L')
              + 'L' + run[run.length - 1][0].toFixed(1) + ' ' + y(0).toFixed(1) + 'Z';
          }
        }
        run = [];
      };
      for (let second = start; second <= to; second++) {
        const v = this.valueAt(s.key, second);
        if (v === null) { flush(); continue; }
        run.push([x(second), y(v)]);
      }
      flush();
      const path = this.lines[i];
      set(path, 'd', line || 'M0 0');
      set(this.areas[i], 'd', area || 'M0 0');
      const st = stats[i];
      set(path, 'data-points', st.points);
      set(path, 'data-nonzero', st.nonzero);
      set(path, 'data-sum', Math.round(st.sum * 1000) / 1000);
      set(path, 'data-max', st.peak);
    });

    const fmt = this.options.format;
    const minutes = range >= 120 ? Math.round(range / 60) + ' minutes' : range + ' seconds';
    text(this.desc, 'Last ' + minutes + ': ' + this.options.series.map((s, i) =>
      (this.options.series.length > 1 ? s.name + ' ' : '') + 'latest ' + (stats[i].last === null ? 'none' : fmt(stats[i].last))
      + ', peak ' + fmt(stats[i].peak)).join('; ') + '.');
    this.latest = stats.map(st => st.last);
    this.renderReadout();
    this.renderCursor();
  }

  drawGrid(top, y, width) {
    const values = [0, top / 2, top];
    while (this.grid.childNodes.length < values.length * 2) {
      svg('line', 'grid-line', this.grid);
      svg('text', 'y-label', this.grid);
    }
    values.forEach((v, i) => {
      const line = this.grid.childNodes[i * 2], label = this.grid.childNodes[i * 2 + 1];
      const py = y(v).toFixed(1);
      set(line, 'x1', MARGIN.left); set(line, 'x2', width - MARGIN.right);
      set(line, 'y1', py); set(line, 'y2', py);
      set(label, 'x', MARGIN.left - 6); set(label, 'y', py);
      text(label, this.options.format(v, true));
    });
  }

  drawTicks(start, to, range, x) {
    const step = tickStep(range);
    const ticks = [];
    for (let t = Math.ceil(start / step) * step; t <= to; t += step) ticks.push(t);
    while (this.xAxis.childNodes.length < ticks.length) svg('text', 'x-label', this.xAxis);
    while (this.xAxis.childNodes.length > ticks.length) this.xAxis.lastChild.remove();
    ticks.forEach((t, i) => {
      const label = this.xAxis.childNodes[i];
      set(label, 'x', x(t).toFixed(1));
      set(label, 'y', HEIGHT - 6);
      text(label, clock(t, step < 60));
    });
  }

  renderReadout() {
    const fmt = this.options.format;
    const series = this.options.series;
    const at = this.cursor;
    const values = at === null ? this.latest || [] : series.map(s => this.valueAt(s.key, at));
    const parts = series.map((s, i) => (series.length > 1 ? s.name + ' ' : '') + (values[i] === null || values[i] === undefined ? '—' : fmt(values[i])));
    text(this.readout, (at === null ? '' : clock(at, true) + ' · ') + parts.join(' · '));
    this.host.classList.toggle('has-cursor', at !== null);
  }

  renderCursor() {
    if (this.cursor === null || !this.scale) { this.hideCursor(); return; }
    const { x, y } = this.scale;
    const px = x(this.cursor).toFixed(1);
    set(this.cursorLine, 'x1', px); set(this.cursorLine, 'x2', px);
    set(this.cursorLine, 'y1', MARGIN.top); set(this.cursorLine, 'y2', HEIGHT - MARGIN.bottom);
    set(this.cursorLine, 'visibility', 'visible');
    this.options.series.forEach((s, i) => {
      const v = this.valueAt(s.key, this.cursor);
      const dot = this.cursorDots[i];
      if (v === null) { set(dot, 'visibility', 'hidden'); return; }
      set(dot, 'cx', px); set(dot, 'cy', y(v).toFixed(1)); set(dot, 'r', 3);
      set(dot, 'visibility', 'visible');
    });
  }

  moveCursor(second) {
    if (second !== null && this.scale) second = Math.max(this.scale.start, Math.min(this.scale.to, second));
    if (second === this.cursor) return;
    this.cursor = second;
    this.renderReadout();
    this.renderCursor();
  }

  pointAt(clientX) {
    if (!this.scale) return;
    const box = this.svg.getBoundingClientRect();
    const fraction = (clientX - box.left - MARGIN.left) / this.scale.plotW;
    if (fraction < -0.02 || fraction > 1.02) { this.moveCursor(null); return; }
    this.moveCursor(this.scale.start + Math.round(fraction * (this.scale.to - this.scale.start)));
  }

  onKey(e) {
    if (!this.scale) return;
    const step = e.shiftKey ? 10 : 1;
    const current = this.cursor === null ? this.scale.to : this.cursor;
    let next;
    switch (e.key) {
      case 'ArrowLeft': next = current - step; break;
      case 'ArrowRight': next = current + step; break;
      case 'Home': next = this.scale.start; break;
      case 'End': next = this.scale.to; break;
      case 'Escape': next = null; break;
      default: return;
    }
    e.preventDefault();
    this.moveCursor(next);
  }
}
