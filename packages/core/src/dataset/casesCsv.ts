/**
 * cases.csv of an imported cases folder: one row per challenge case, sorted by dataset then case.
 * Columns: name, dataset, modality, dimension, case, split, objects, object_names (';'-separated),
 * height, width, depth (empty for 2D). RFC 4180 quoting where a field needs it.
 */

export const CASES_CSV_COLUMNS = [
  "name",
  "dataset",
  "modality",
  "dimension",
  "case",
  "split",
  "objects",
  "object_names",
  "height",
  "width",
  "depth",
] as const;

export type CaseRow = Record<(typeof CASES_CSV_COLUMNS)[number], string>;

export function formatCasesCsv(rows: CaseRow[]): string {
  const lines = [CASES_CSV_COLUMNS.join(",")];
  for (const row of rows) lines.push(CASES_CSV_COLUMNS.map((column) => quoteField(row[column])).join(","));
  return `${lines.join("\n")}\n`;
}

/** Parses cases.csv text; throws an Error with a one-line message when the header is not ours. */
export function parseCasesCsv(text: string): CaseRow[] {
  const records = parseCsvRecords(text);
  const header = records.shift();
  if (!header || header.join(",") !== CASES_CSV_COLUMNS.join(",")) {
    throw new Error(`unexpected header (expected ${CASES_CSV_COLUMNS.join(",")})`);
  }
  return records
    .filter((fields) => fields.length > 1 || fields[0] !== "")
    .map((fields, index) => {
      if (fields.length !== CASES_CSV_COLUMNS.length) {
        throw new Error(`row ${index + 2} has ${fields.length} fields, expected ${CASES_CSV_COLUMNS.length}`);
      }
      return Object.fromEntries(CASES_CSV_COLUMNS.map((column, i) => [column, fields[i]!])) as CaseRow;
    });
}

/**
 * Rows of this run replace rows of the same name; earlier rows are kept when `keepEarlier` says so
 * (e.g. their files still exist). Sorted by dataset, then case, so the file is stable across runs.
 */
export function mergeCaseRows(
  earlier: CaseRow[],
  fresh: CaseRow[],
  keepEarlier: (row: CaseRow) => boolean,
): CaseRow[] {
  const byName = new Map<string, CaseRow>();
  for (const row of earlier) if (keepEarlier(row)) byName.set(row.name, row);
  for (const row of fresh) byName.set(row.name, row);
  return [...byName.values()].sort(
    (a, b) => compareText(a.dataset, b.dataset) || compareText(a.case, b.case) || compareText(a.name, b.name),
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function quoteField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      fields.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      fields.push(field);
      records.push(fields);
      fields = [];
      field = "";
    } else field += char;
  }
  if (field !== "" || fields.length > 0) {
    fields.push(field);
    records.push(fields);
  }
  return records;
}
