// Turns a list's rows, one at a time, into input entries. CSV and spreadsheet
// parsers share it so both follow the same rules: the first non-blank row is a
// header unless a cell holds an "@"; the email column is the one headed
// "email" (or a synonym), else the first; every other column rides along as
// `extra`, capped in count and length so one odd file cannot bloat a job.

import type { InputEntry } from "./entries";
import { ListFormatError } from "./errors";

export interface ParsedList {
  entries: InputEntry[];
  /** Names of the extra columns kept, in file order, without the email column. */
  columns: string[];
}

export const MAX_EXTRA_COLUMNS = 50;
export const MAX_CELL_CHARS = 1000;
/**
 * The extra fields of one row, as stored JSON, in UTF-8 bytes at most. A
 * results page holds up to 1,000 rows: with this cap its extra fields stay
 * under about 4 MB, well inside what one D1 query may return.
 */
export const MAX_EXTRA_BYTES = 4096;

const EMAIL_HEADERS = new Set([
  "email",
  "e-mail",
  "email address",
  "e-mail address",
  "email_address",
  "email-address",
  "emailaddress",
]);

interface Column {
  index: number;
  name: string;
}

interface Layout {
  emailIndex: number;
  extras: Column[];
}

export class ListBuilder {
  private layout: Layout | undefined;
  private readonly entries: InputEntry[] = [];
  private dataRows = 0;
  private sawAt = false;

  /**
   * How many leading cells of a row the layout reads, so a spreadsheet reader
   * can skip formatting the rest. Unknown until the first row has been seen.
   */
  get cellsNeeded(): number {
    if (!this.layout) return Number.POSITIVE_INFINITY;
    const last = this.layout.extras.at(-1)?.index ?? 0;
    return Math.max(this.layout.emailIndex, last) + 1;
  }

  /** Feeds one row; missing trailing cells read as empty. */
  addRow(row: readonly (string | undefined)[]): void {
    if (isBlank(row)) return;
    if (!this.layout) {
      const header = !row.some((cell) => cell?.includes("@"));
      this.layout = header ? headerLayout(row) : headerlessLayout(row.length);
      if (header) return;
    }
    this.dataRows++;
    const email = (row[this.layout.emailIndex] ?? "").trim();
    if (email === "") return;
    if (!this.sawAt && email.includes("@")) this.sawAt = true;
    const { extras } = this.layout;
    if (extras.length === 0) {
      this.entries.push({ email });
      return;
    }
    this.entries.push({ email, extra: withinBudget(extras, row) });
  }

  finish(): ParsedList {
    if (this.dataRows === 0) {
      throw new ListFormatError("The file has no rows with data in it.", "empty_file");
    }
    if (!this.sawAt) {
      throw new ListFormatError(
        'No email addresses found: put them in the first column or in a column headed "email".',
        "no_email_column",
      );
    }
    return { entries: this.entries, columns: this.layout?.extras.map((c) => c.name) ?? [] };
  }
}

/** The row's extra fields in column order, until the byte budget is spent (a cut cell is shortened). */
function withinBudget(
  extras: readonly Column[],
  row: readonly (string | undefined)[],
): Record<string, string> {
  const extra: Record<string, string> = {};
  // "{}" and, per field, the quotes, colon and comma; escapes are rare in names and cells.
  let left = MAX_EXTRA_BYTES - 2;
  for (const { index, name } of extras) {
    const cost = utf8Length(name) + 6;
    if (cost > left) break;
    left -= cost;
    let value = clip(row[index] ?? "");
    while (utf8Length(value) > left)
      value = value.slice(0, Math.max(0, value.length - Math.max(1, (utf8Length(value) - left) >> 1)));
    left -= utf8Length(value);
    extra[name] = value;
  }
  return extra;
}

/** UTF-8 length of a string without encoding it; JSON escapes count as their escaped form. */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) n += c < 0x20 ? 6 : 2;
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function isBlank(row: readonly (string | undefined)[]): boolean {
  return row.every((cell) => cell === undefined || cell.trim() === "");
}

function clip(text: string): string {
  return text.length > MAX_CELL_CHARS ? text.slice(0, MAX_CELL_CHARS) : text;
}

function headerLayout(header: readonly (string | undefined)[]): Layout {
  const names = header.map((cell) => (cell ?? "").trim());
  const found = names.findIndex((name) => EMAIL_HEADERS.has(name.toLowerCase()));
  const emailIndex = Math.max(found, 0); // no email header: the first column
  const used = new Set<string>();
  const extras: Column[] = [];
  for (let index = 0; index < names.length && extras.length < MAX_EXTRA_COLUMNS; index++) {
    if (index === emailIndex) continue;
    extras.push({ index, name: uniqueName(clip(names[index] ?? ""), index, used) });
  }
  return { emailIndex, extras };
}

function headerlessLayout(width: number): Layout {
  const extras: Column[] = [];
  for (let index = 1; index < width && extras.length < MAX_EXTRA_COLUMNS; index++) {
    extras.push({ index, name: positionalName(index) });
  }
  return { emailIndex: 0, extras };
}

function positionalName(index: number): string {
  return `column_${index + 1}`;
}

// Names become object keys, so they must be distinct, and "__proto__" would
// be swallowed by the prototype setter instead of becoming a key.
function uniqueName(wanted: string, index: number, used: Set<string>): string {
  let name = wanted === "" || wanted === "__proto__" ? positionalName(index) : wanted;
  for (let n = 2; used.has(name); n++) name = `${wanted || positionalName(index)}_${n}`;
  used.add(name);
  return name;
}
