import type { CaseScore, ScoreSummary } from "../metrics/summary.js";

/**
 * The per-case scores of an evaluation as a picture: one row per modality, a DSC and an NSD panel on a 0–1 axis,
 * a dot per case and a bar at the modality's mean (the number the summary table gives). The spread that a mean
 * hides — a few failed cases, a modality split in two — is what this shows. SVG: text, no fonts to bundle, opens
 * in any browser and renders inside the Markdown summary.
 */

const ROW = 30;
const LABEL_WIDTH = 170;
const PANEL_WIDTH = 300;
const PANEL_GAP = 70;
const TOP = 52;
const BOTTOM = 34;
const RIGHT = 60;
const METRICS = [
  ["dsc", "DSC"],
  ["nsd", "NSD"],
] as const;

export function scoreStripPlotSvg(
  scores: readonly CaseScore[],
  summary: ScoreSummary,
  title: string,
): string {
  const modalities = summary.modalities;
  const width = LABEL_WIDTH + METRICS.length * PANEL_WIDTH + (METRICS.length - 1) * PANEL_GAP + RIGHT;
  const height = TOP + Math.max(1, modalities.length) * ROW + BOTTOM;
  const panelX = (p: number) => LABEL_WIDTH + p * (PANEL_WIDTH + PANEL_GAP);
  const x = (p: number, v: number) => panelX(p) + Math.min(1, Math.max(0, v)) * PANEL_WIDTH;
  const rowY = (r: number) => TOP + r * ROW + ROW / 2;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(`${title} · dot: one case · red: the modality's mean`)}</text>`,
  ];
  METRICS.forEach(([, label], p) => {
    out.push(
      `<text x="${panelX(p) + PANEL_WIDTH / 2}" y="${TOP - 12}" text-anchor="middle" font-weight="bold">${label} per case</text>`,
    );
    for (let t = 0; t <= 10; t += 2) {
      const tx = x(p, t / 10);
      out.push(
        `<line x1="${tx}" y1="${TOP}" x2="${tx}" y2="${height - BOTTOM}" stroke="#ddd"/>`,
        `<text x="${tx}" y="${height - BOTTOM + 14}" text-anchor="middle" fill="#555">${(t / 10).toFixed(1)}</text>`,
      );
    }
  });
  modalities.forEach((m, r) => {
    const y = rowY(r);
    if (r % 2 === 1)
      out.push(
        `<rect x="0" y="${y - ROW / 2}" width="${width}" height="${ROW}" fill="#f4f4f4" fill-opacity="0.7"/>`,
      );
    out.push(`<text x="8" y="${y + 4}">${escapeXml(m.modality)} (${m.cases})</text>`);
    const cases = scores.filter((s) => s.modality === m.modality);
    METRICS.forEach(([key], p) => {
      cases.forEach((s, i) => {
        const v = s[key];
        if (!Number.isFinite(v)) return;
        out.push(
          `<circle cx="${round(x(p, v))}" cy="${round(y + jitter(i) * (ROW / 2 - 5))}" r="2.5" fill="#1f6fb4" fill-opacity="0.45"/>`,
        );
      });
      const mean = key === "dsc" ? m.meanDsc : m.meanNsd;
      if (mean === null) return;
      const mx = round(x(p, mean));
      out.push(
        `<line x1="${mx}" y1="${y - ROW / 2 + 3}" x2="${mx}" y2="${y + ROW / 2 - 3}" stroke="#c0392b" stroke-width="2.5"/>`,
        `<text x="${panelX(p) + PANEL_WIDTH + 10}" y="${y + 4}" fill="#c0392b">${mean.toFixed(3)}</text>`,
      );
    });
  });
  out.push("</svg>", "");
  return out.join("\n");
}

/** A fixed spread in [−1, 1] for the i-th dot, so the picture is the same on every run. */
function jitter(i: number): number {
  return ((i * 0.618034) % 1) * 2 - 1;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
