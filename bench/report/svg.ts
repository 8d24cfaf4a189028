// A hand-written SVG: end-to-end time (log scale, with the lower bound) and
// accuracy, mailvet next to the baseline, one group of bars per list size.

import type { BenchReport, SizeReport } from "./types";

const COLORS = { mailvet: "#f38020", baseline: "#4a6fa5", bound: "#b0b0b0" };
const W = 920;
const H = 380;
const PANEL = { top: 60, bottom: 310, left: 70, width: 360 };

interface Bar {
  label: string;
  value: number | null;
  color: string;
  text: string;
}

export function renderSvg(report: BenchReport): string {
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">mailvet vs deep-email-validator on the simulated mail world</text>`,
  );
  parts.push(...timePanel(report.sizes, PANEL.left));
  parts.push(...accuracyPanel(report.sizes, PANEL.left + PANEL.width + 110));
  const legend: [string, string][] = [
    ["mailvet", COLORS.mailvet],
    ["baseline (deep-email-validator)", COLORS.baseline],
    ["lower bound", COLORS.bound],
  ];
  legend.forEach(([name, color], i) => {
    const x = 160 + i * 230;
    parts.push(`<rect x="${x}" y="${H - 26}" width="14" height="14" fill="${color}"/>`);
    parts.push(`<text x="${x + 20}" y="${H - 14}">${xml(name)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function timePanel(sizes: SizeReport[], x0: number): string[] {
  const seconds = (ms: number | null | undefined) => (ms == null ? null : Math.max(ms / 1000, 0.1));
  const groups = sizes.map((z) => {
    const m = !z.mailvet || "error" in z.mailvet ? null : z.mailvet;
    const b = !z.baseline || "error" in z.baseline ? null : z.baseline;
    const bars: Bar[] = [
      {
        label: "lower bound",
        value: seconds(z.lowerBound.ms),
        color: COLORS.bound,
        text: fmt(z.lowerBound.ms),
      },
      {
        label: "mailvet",
        value: seconds(m?.endToEndMs),
        color: COLORS.mailvet,
        text: m?.endToEndMs == null ? "DNF" : fmt(m.endToEndMs),
      },
      {
        label: "baseline",
        value: seconds(b?.ms),
        color: COLORS.baseline,
        text: b ? (b.finished ? fmt(b.ms) : `DNF ≥${fmt(b.ms)}`) : "—",
      },
    ];
    return { name: `${z.size.toLocaleString("en-US")} addresses`, bars };
  });
  const max = Math.max(10, ...groups.flatMap((g) => g.bars.map((b) => b.value ?? 0)));
  const top = 10 ** Math.ceil(Math.log10(max));
  const y = (v: number) =>
    PANEL.bottom - (Math.log10(v / 0.1) / Math.log10(top / 0.1)) * (PANEL.bottom - PANEL.top);
  const ticks: number[] = [];
  for (let t = 1; t <= top; t *= 10) ticks.push(t);
  return panel("End-to-end time (log scale)", x0, groups, y, ticks, (t) => `${t} s`);
}

function accuracyPanel(sizes: SizeReport[], x0: number): string[] {
  const groups = sizes.map((z) => {
    const m = !z.mailvet || "error" in z.mailvet ? null : z.mailvet;
    const b = !z.baseline || "error" in z.baseline ? null : z.baseline;
    const mv = m?.accuracy?.accuracy ?? null;
    const bl = b?.accuracy.accuracy ?? null;
    return {
      name: `${z.size.toLocaleString("en-US")} addresses`,
      bars: [
        { label: "mailvet", value: mv == null ? null : mv * 100, color: COLORS.mailvet, text: pctText(mv) },
        {
          label: "baseline",
          value: bl == null ? null : bl * 100,
          color: COLORS.baseline,
          text: b && !b.finished ? `${pctText(bl)}*` : pctText(bl),
        },
      ] as Bar[],
    };
  });
  const y = (v: number) => PANEL.bottom - (v / 100) * (PANEL.bottom - PANEL.top);
  return panel("Accuracy against the ground truth", x0, groups, y, [0, 25, 50, 75, 100], (t) => `${t} %`);
}

function panel(
  title: string,
  x0: number,
  groups: { name: string; bars: Bar[] }[],
  y: (v: number) => number,
  ticks: number[],
  tickText: (t: number) => string,
): string[] {
  const out: string[] = [];
  const y1 = (v: number) => Math.round(y(v) * 10) / 10;
  out.push(
    `<text x="${x0 + PANEL.width / 2}" y="${PANEL.top - 16}" text-anchor="middle" font-weight="bold">${xml(title)}</text>`,
  );
  for (const t of ticks) {
    const ty = y1(t);
    out.push(`<line x1="${x0}" x2="${x0 + PANEL.width}" y1="${ty}" y2="${ty}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x0 - 6}" y="${ty + 4}" text-anchor="end" fill="#555">${xml(tickText(t))}</text>`);
  }
  out.push(
    `<line x1="${x0}" x2="${x0 + PANEL.width}" y1="${PANEL.bottom}" y2="${PANEL.bottom}" stroke="#333"/>`,
  );
  const groupWidth = PANEL.width / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const barWidth = Math.floor(Math.min(50, (groupWidth - 20) / g.bars.length));
    const start = Math.round(x0 + gi * groupWidth + (groupWidth - barWidth * g.bars.length) / 2);
    g.bars.forEach((bar, bi) => {
      const bx = start + bi * barWidth;
      if (bar.value != null) {
        const by = y1(bar.value);
        out.push(
          `<rect x="${bx + 2}" y="${by}" width="${barWidth - 4}" height="${Math.max(0, Math.round((PANEL.bottom - by) * 10) / 10)}" fill="${bar.color}"><title>${xml(`${bar.label}: ${bar.text}`)}</title></rect>`,
        );
        out.push(
          `<text x="${bx + barWidth / 2}" y="${by - 4}" text-anchor="middle" font-size="10">${xml(bar.text)}</text>`,
        );
      } else {
        out.push(
          `<text x="${bx + barWidth / 2}" y="${PANEL.bottom - 4}" text-anchor="middle" font-size="10">${xml(bar.text)}</text>`,
        );
      }
    });
    out.push(
      `<text x="${x0 + gi * groupWidth + groupWidth / 2}" y="${PANEL.bottom + 18}" text-anchor="middle">${xml(g.name)}</text>`,
    );
  });
  return out;
}

function fmt(ms: number): string {
  return ms >= 100_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function pctText(x: number | null): string {
  return x == null ? "—" : `${(x * 100).toFixed(1)} %`;
}

function xml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
