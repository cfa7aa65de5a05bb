/** Plain-text tables and number formatting for bench reports. */

/** A number with sensible precision for a table: 3 significant digits below 100, integers above. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "—";
  if (!Number.isFinite(value)) return "∞";
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString("en-US");
  if (magnitude === 0) return "0";
  return value.toPrecision(3).replace(/\.?0+$/, "");
}

/** `value / floor` as "0.0123×" or "12.3×"; a dash when either side is missing or the floor is 0. */
export function formatRatio(value: number | undefined, floor: number | undefined): string {
  if (value === undefined || floor === undefined || Number.isNaN(value) || Number.isNaN(floor) || floor === 0)
    return "—";
  return `${formatNumber(value / floor)}×`;
}

/** Columns padded to their widest cell: text columns ("left") to the left, numbers to the right. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ("left" | "right")[],
): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => (align[column] === "left" ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
