// The console's charts: uPlot over the JSON block each page embeds (#page-data).
// The block is the REST API's answer (or the use cases' result) for the page's
// query; this file only draws it. htmx swaps #live every refresh, then the
// charts are drawn again from the new block.
(function () {
  "use strict";

  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"];
  const charts = [];

  function pageData() {
    const el = document.getElementById("page-data");
    return el ? JSON.parse(el.textContent) : null;
  }

  // JSON spells non-finite numbers as text ("NaN", "+Inf"): not plottable.
  function num(v) {
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  function unix(rfc3339) {
    return Date.parse(rfc3339) / 1000;
  }

  function palette() {
    const style = getComputedStyle(document.body);
    return { text: style.color, grid: "rgba(128,128,128,0.25)" };
  }

  function axes() {
    const p = palette();
    const axis = { stroke: p.text, grid: { stroke: p.grid }, ticks: { stroke: p.grid } };
    return [axis, Object.assign({}, axis, { size: 60 })];
  }

  // Rows of [x, y1, y2, ...] merged on x into uPlot's aligned columns.
  function aligned(xs, columns) {
    const order = Array.from(new Set(xs.flat())).sort((a, b) => a - b);
    const index = new Map(order.map((x, i) => [x, i]));
    const out = [order];
    columns.forEach(function (col) {
      const ys = new Array(order.length).fill(null);
      col.forEach(function (pair) { ys[index.get(pair[0])] = pair[1]; });
      out.push(ys);
    });
    return out;
  }

  function plotted(data) {
    let count = 0;
    for (let i = 1; i < data.length; i++) {
      data[i].forEach(function (y) { if (y !== null && y !== undefined) count++; });
    }
    return count;
  }

  function draw(el, opts, data) {
    el.replaceChildren();
    opts.width = Math.max(280, el.clientWidth || 600);
    opts.height = opts.height || 260;
    opts.axes = opts.axes || axes();
    const chart = new uPlot(opts, data, el);
    el.dataset.points = String(plotted(data));
    charts.push(chart);
  }

  function line(label, color, extra) {
    return Object.assign({ label: label, stroke: color, width: 1.5, spanGaps: false }, extra || {});
  }

  function bandSeries(label, color) {
    return line(label, color, { width: 0.5, dash: [3, 3] });
  }

  function forecastColumns(forecast) {
    const pts = forecast ? forecast.points : [];
    const at = pts.map(function (p) { return unix(p.timestamp); });
    const col = function (k) { return pts.map(function (p, i) { return [at[i], num(p[k])]; }); };
    return { at: at, mean: col("mean"), l80: col("lower_80"), u80: col("upper_80"), l95: col("lower_95"), u95: col("upper_95") };
  }

  function withForecast(xs, columns, series, forecast) {
    if (!forecast) return 0;
    const f = forecastColumns(forecast);
    xs.push(f.at);
    const first = columns.length + 1;
    columns.push(f.u95, f.u80, f.mean, f.l80, f.l95);
    series.push(
      bandSeries("95 % upper", "#9467bd"), bandSeries("80 % upper", "#9467bd"),
      line("forecast mean", "#9467bd", { width: 2 }),
      bandSeries("80 % lower", "#9467bd"), bandSeries("95 % lower", "#9467bd"));
    return first;
  }

  function shade(episodes) {
    return function (u) {
      const ctx = u.ctx;
      ctx.save();
      episodes.forEach(function (e) {
        const x0 = u.valToPos(e.start, "x", true);
        const x1 = u.valToPos(e.end, "x", true);
        ctx.fillStyle = e.side === "above" ? "rgba(214,39,40,0.18)" : "rgba(255,127,14,0.18)";
        ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
      });
      ctx.restore();
    };
  }

  const renderers = {
    sla: function (el, data) {
      const c = data.objectives[+el.dataset.objective].charts[+el.dataset.index];
      const xs = [c.t];
      const columns = [
        c.t.map(function (t, i) { return [t, num(c.max[i])]; }),
        c.t.map(function (t, i) { return [t, num(c.min[i])]; }),
      ];
      const series = [{}, line("slice max", COLORS[0]), line("slice min", COLORS[5])];
      const bands = [];
      const bounds = [];
      if (c.hi !== null) bounds.push(["allowed max", c.hi]);
      if (c.lo !== null) bounds.push(["allowed min", c.lo]);
      const firstBound = columns.length + 1;
      bounds.forEach(function (b) {
        columns.push(c.t.map(function (t) { return [t, b[1]]; }));
        series.push(line(b[0], COLORS[2], { dash: [6, 4] }));
      });
      if (bounds.length === 2) bands.push({ series: [firstBound, firstBound + 1], fill: "rgba(44,160,44,0.10)" });
      const f = withForecast(xs, columns, series, c.forecast);
      if (f) {
        bands.push({ series: [f, f + 4], fill: "rgba(148,103,189,0.12)" });
        bands.push({ series: [f + 1, f + 3], fill: "rgba(148,103,189,0.22)" });
      }
      draw(el, { series: series, bands: bands, hooks: { drawClear: [shade(c.episodes)] } }, aligned(xs, columns));
    },
    budget: function (el, data) {
      const xs = data.series.map(function (s) { return s.t; });
      const columns = data.series.map(function (s) {
        return s.t.map(function (t, i) { return [t, num(s.budget[i])]; });
      });
      const names = data.series.map(function (s) {
        const labels = Object.keys(s.series.labels).sort().map(function (k) { return k + "=" + s.series.labels[k]; });
        return s.series.name + "{" + labels.join(",") + "}";
      });
      const series = [{}].concat(names.map(function (n, i) { return line(n, COLORS[i % COLORS.length]); }));
      // The predicted continuation: dashed, in the series' colour.
      data.series.forEach(function (s, i) {
        if (!s.predicted) return;
        xs.push(s.predicted.t);
        columns.push(s.predicted.t.map(function (t, k) { return [t, num(s.predicted.budget[k])]; }));
        series.push(line(names[i] + " predicted", COLORS[i % COLORS.length], { dash: [6, 4] }));
      });
      draw(el, { series: series }, aligned(xs, columns));
    },
    history: function (el, data) {
      const points = data.history.points;
      const names = Array.from(new Set(points.flatMap(function (p) { return p.windows.map(function (w) { return w.window; }); })));
      const xs = [points.map(function (p) { return unix(p.at); })];
      const columns = names.map(function (name) {
        return points.flatMap(function (p) {
          const w = p.windows.find(function (x) { return x.window === name; });
          return w ? [[unix(p.at), num(w.avg)]] : [];
        });
      });
      const series = [{}].concat(names.map(function (n, i) { return line("avg " + n, COLORS[i % COLORS.length]); }));
      draw(el, { series: series }, aligned(xs, columns));
    },
    forecast: function (el, data) {
      const points = data.history.points;
      const shortest = points.flatMap(function (p) {
        const w = p.windows.reduce(function (a, b) { return a && a.window_seconds <= b.window_seconds ? a : b; }, null);
        return w ? [[unix(p.at), num(w.avg)]] : [];
      });
      const xs = [shortest.map(function (p) { return p[0]; })];
      const columns = [shortest];
      const series = [{}, line("observed average", COLORS[0])];
      const f = withForecast(xs, columns, series, data.forecast.forecast);
      const bands = f ? [{ series: [f, f + 4], fill: "rgba(148,103,189,0.12)" }, { series: [f + 1, f + 3], fill: "rgba(148,103,189,0.22)" }] : [];
      draw(el, { series: series, bands: bands }, aligned(xs, columns));
    },
    scores: function (el, data) {
      const scores = data.scores.scores;
      const x = scores.map(function (s) { return unix(s.forecast_made_at); });
      draw(el, { series: [{}, line("MAE", COLORS[1])] }, [x, scores.map(function (s) { return num(s.mae); })]);
    },
    acf: function (el, data) {
      const acf = data.metadata.metadata.acf.map(num);
      const lags = acf.map(function (_, i) { return i; });
      const bars = uPlot.paths.bars({ size: [0.6, 40] });
      draw(el, {
        scales: { x: { time: false } },
        series: [{ label: "lag" }, { label: "ACF", stroke: COLORS[0], fill: "rgba(31,119,180,0.4)", paths: bars, points: { show: false } }],
      }, [lags, acf]);
    },
    etl: function (el, data) {
      const runs = data.data.slice().reverse();
      const seconds = runs.map(function (r) {
        const by = {};
        r.steps.forEach(function (s) { by[s.step] = (by[s.step] || 0) + (num(s.seconds) || 0); });
        return by;
      });
      const steps = Array.from(new Set(runs.flatMap(function (r) { return r.steps.map(function (s) { return s.step; }); })));
      const x = runs.map(function (r) { return unix(r.started_at); });
      let below = x.map(function () { return 0; });
      const stacked = steps.map(function (s) {
        below = below.map(function (b, i) { return b + (seconds[i][s] || 0); });
        return below.slice();
      });
      // The tallest first, so each smaller stack is painted over it.
      const order = steps.map(function (_, i) { return i; }).reverse();
      const series = [{}].concat(order.map(function (i) {
        const color = COLORS[i % COLORS.length];
        return { label: steps[i] + " (stacked)", stroke: color, fill: color + "88", width: 1 };
      }));
      draw(el, { series: series }, [x].concat(order.map(function (i) { return stacked[i]; })));
    },
  };

  function render() {
    charts.splice(0).forEach(function (c) { c.destroy(); });
    const data = pageData();
    if (!data) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      renderers[el.dataset.chart](el, data);
    });
  }

  document.addEventListener("DOMContentLoaded", render);
  document.addEventListener("htmx:afterSettle", render);
  let resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(render, 200);
  });
})();
