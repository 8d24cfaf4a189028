// Small SVG charts for the dashboard, drawn in the page: no library, no CDN.
// Every chart is an <svg role="img"> with a text alternative; the numbers it
// shows are also in the page as text or a table, so nothing depends on seeing it.
(() => {
  const NS = "http://www.w3.org/2000/svg";

  /** An SVG element with attributes and children (strings become text). */
  function el(tag, attrs = {}, children = []) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs))
      if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    for (const child of children) node.append(child);
    return node;
  }

  function chart(width, height, label, extraClass = "") {
    const svg = el("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width: "100%",
      role: "img",
      "aria-label": label,
      class: `chart-svg ${extraClass}`.trim(),
    });
    svg.append(el("title", {}, [label]));
    return svg;
  }

  const pct = (value, total) =>
    total ? `${((value / total) * 100).toFixed(value / total < 0.1 ? 1 : 0)}%` : "0%";

  /**
   * One horizontal bar split into segments ({ key, label, value }); each
   * segment is filled by its CSS class (fill-<key>) and titled with its share.
   */
  function stackedBar(segments, { width = 600, height = 28, label } = {}) {
    const total = segments.reduce((n, s) => n + s.value, 0);
    const text = label ?? segments.map((s) => `${s.label} ${s.value} (${pct(s.value, total)})`).join(", ");
    const svg = chart(width, height, text, "stacked");
    svg.setAttribute("preserveAspectRatio", "none");
    let x = 0;
    for (const s of segments) {
      if (!s.value) continue;
      const w = (s.value / total) * width;
      svg.append(
        el("rect", { x, y: 0, width: Math.max(w, 1), height, class: `fill-${s.key}` }, [
          el("title", {}, [`${s.label}: ${s.value.toLocaleString()} (${pct(s.value, total)})`]),
        ]),
      );
      x += w;
    }
    if (!total) svg.append(el("rect", { x: 0, y: 0, width, height, class: "fill-empty" }));
    return svg;
  }

  /** A single bar of `value` out of `max`, for lists of reasons. */
  function bar(value, max, key, { width = 200, height = 14 } = {}) {
    const svg = chart(width, height, `${value.toLocaleString()} of ${max.toLocaleString()}`, "bar");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.append(el("rect", { x: 0, y: 0, width, height, class: "fill-track" }));
    svg.append(
      el("rect", {
        x: 0,
        y: 0,
        width: max ? Math.max(1, (value / max) * width) : 0,
        height,
        class: `fill-${key}`,
      }),
    );
    return svg;
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  /**
   * Addresses answered over time ({ at, processed } in ms), with the total as
   * the top line and, while running, a dashed projection to the ETA. Below,
   * the rate between samples as thin bars.
   */
  function progressChart(samples, { total, etaAt = null, label, width = 720, height = 220 } = {}) {
    const pad = { left: 56, right: 12, top: 12, bottom: 28 };
    const rateH = 44;
    const plotH = height - pad.top - pad.bottom - rateH - 10;
    const plotW = width - pad.left - pad.right;
    const svg = chart(width, height, label, "progress-chart");
    if (!samples.length) return svg;
    const start = samples[0].at;
    const end = Math.max(etaAt ?? 0, samples[samples.length - 1].at, start + 1000);
    const x = (t) => pad.left + ((t - start) / (end - start)) * plotW;
    const yMax = Math.max(total, 1);
    const y = (v) => pad.top + plotH - (v / yMax) * plotH;

    // Axes and grid: 0, half and the total.
    for (const v of [0, yMax / 2, yMax]) {
      svg.append(el("line", { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: "grid" }));
      svg.append(
        el("text", { x: pad.left - 6, y: y(v) + 4, "text-anchor": "end", class: "axis-label" }, [
          Math.round(v).toLocaleString(),
        ]),
      );
    }
    const points = samples.map((s) => `${x(s.at).toFixed(1)},${y(s.processed).toFixed(1)}`);
    const last = samples[samples.length - 1];
    svg.append(
      el("path", {
        d: `M${x(start)},${y(0)} L${points.join(" L")} L${x(last.at)},${y(0)} Z`,
        class: "area",
      }),
    );
    svg.append(el("polyline", { points: points.join(" "), class: "line" }));
    if (etaAt && etaAt > last.at) {
      svg.append(
        el("line", {
          x1: x(last.at),
          y1: y(last.processed),
          x2: x(etaAt),
          y2: y(total),
          class: "projection",
        }),
      );
    }

    // The rate between consecutive samples, as bars under the plot.
    const rates = [];
    for (let i = 1; i < samples.length; i++) {
      const dt = (samples[i].at - samples[i - 1].at) / 1000;
      if (dt > 0)
        rates.push({
          from: samples[i - 1].at,
          to: samples[i].at,
          rate: (samples[i].processed - samples[i - 1].processed) / dt,
        });
    }
    const maxRate = Math.max(1, ...rates.map((r) => r.rate));
    const rateTop = pad.top + plotH + 10;
    for (const r of rates) {
      const h = (r.rate / maxRate) * rateH;
      svg.append(
        el(
          "rect",
          {
            x: x(r.from),
            y: rateTop + rateH - h,
            width: Math.max(1, x(r.to) - x(r.from) - 0.5),
            height: h,
            class: "rate",
          },
          [el("title", {}, [`${clock(r.from)}–${clock(r.to)}: ${r.rate.toFixed(1)} per second`])],
        ),
      );
    }
    svg.append(
      el("text", { x: pad.left - 6, y: rateTop + 10, "text-anchor": "end", class: "axis-label" }, [
        `${Math.round(maxRate)}/s`,
      ]),
    );
    const axisY = height - 8;
    svg.append(el("text", { x: pad.left, y: axisY, class: "axis-label" }, [clock(start)]));
    svg.append(
      el("text", { x: width - pad.right, y: axisY, "text-anchor": "end", class: "axis-label" }, [clock(end)]),
    );
    return svg;
  }

  window.mailvetCharts = { stackedBar, bar, progressChart };
})();
