/** One measured figure: ours beside the baseline measured in the same run, and how it fares. */
export interface Figure {
  scenario: string;
  name: string;
  unit: string;
  ours: number;
  baseline: number;
  /** ours ÷ baseline. */
  ratio: number;
  targets: Verdict[];
}

export interface Verdict {
  label: string;
  met: boolean;
}

/** A target is judged from the two sides of a figure. */
export type Target = (figure: { ours: number; baseline: number; ratio: number }) => Verdict;

export const ratioAtLeast =
  (min: number): Target =>
  ({ ratio }) => ({ label: `≥ ${min}× baseline`, met: ratio >= min });

export const ratioAtMost =
  (max: number): Target =>
  ({ ratio }) => ({ label: `≤ ${max}× baseline`, met: ratio <= max });

export const oursAtLeast =
  (min: number, unit = ""): Target =>
  ({ ours }) => ({ label: `≥ ${formatNumber(min)}${unit}`, met: ours >= min });

export const oursAtMost =
  (max: number, unit = ""): Target =>
  ({ ours }) => ({ label: `≤ ${formatNumber(max)}${unit}`, met: ours <= max });

export function figure(input: {
  scenario: string;
  name: string;
  unit: string;
  ours: number;
  baseline: number;
  targets?: Target[];
}): Figure {
  const ratio = input.ours / input.baseline;
  const sides = { ours: input.ours, baseline: input.baseline, ratio };
  return {
    scenario: input.scenario,
    name: input.name,
    unit: input.unit,
    ours: input.ours,
    baseline: input.baseline,
    ratio,
    targets: (input.targets ?? []).map((target) => target(sides)),
  };
}

/** Whether a figure holds a measurement on both sides (at smoke scale it may be noise). */
export const isMeasured = (f: Figure) => Number.isFinite(f.ours) && Number.isFinite(f.baseline);

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "—";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Three significant digits, so a ratio just under a target never prints as the target. */
function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? Number(ratio.toPrecision(3)).toString() : formatNumber(ratio);
}

/** A Markdown table: readable in a terminal and pasteable into BENCHMARKS.md as it is. */
export function renderTable(figures: Figure[]): string {
  const header = ["scenario", "figure", "ours", "baseline", "ours ÷ baseline", "target", "met"];
  const rows = figures.map((f) => [
    f.scenario,
    `${f.name} (${f.unit})`,
    formatNumber(f.ours),
    formatNumber(f.baseline),
    formatRatio(f.ratio),
    f.targets.map((t) => t.label).join(", ") || "—",
    f.targets.length ? f.targets.map((t) => (t.met ? "yes" : "**no**")).join(", ") : "—",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
