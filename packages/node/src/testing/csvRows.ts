/** The rows of a simple CSV report (no quoted commas) as records keyed by its header: what the CLI tests read. */
export function csvRows(text: string): Record<string, string>[] {
  const [header, ...rows] = text.trim().split("\n");
  const keys = header!.split(",");
  return rows.map((row) => Object.fromEntries(row.split(",").map((v, i) => [keys[i]!, v])));
}
