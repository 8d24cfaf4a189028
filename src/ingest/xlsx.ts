// Excel uploads (XLSX and XLS), first sheet only. Cells are read as the text
// Excel shows (dates, percentages and long numbers as formatted).

import * as XLSX from "@e965/xlsx";
import { ListFormatError } from "./errors";
import { ListBuilder, type ParsedList } from "./rows";
import { isOle2, isZip } from "./sniff";

// Untrusted input: keep SheetJS to values only. It never evaluates formulas,
// but without these it would also keep formula text, rich-text HTML, macros
// and every other sheet in memory.
const READ_OPTIONS: XLSX.ParsingOptions = {
  type: "array",
  dense: true,
  sheets: 0,
  cellFormula: false,
  cellHTML: false,
  cellNF: false,
  cellStyles: false,
  cellDates: false,
  cellText: true,
  bookVBA: false,
  bookDeps: false,
  bookFiles: false,
  WTF: false,
};

export function parseSpreadsheet(bytes: Uint8Array): ParsedList {
  // SheetJS reads almost anything (CSV, HTML, random bytes) as a one-sheet
  // workbook, so only the two real Excel containers are let through.
  if (!isZip(bytes) && !isOle2(bytes)) {
    throw new ListFormatError(
      "The file is not an Excel workbook (.xlsx or .xls). If it is a CSV file, upload it as CSV.",
      "corrupt_file",
    );
  }
  const sheet = firstSheet(readWorkbook(bytes));
  const list = new ListBuilder();
  const range = sheet?.["!ref"] ? XLSX.utils.decode_range(sheet["!ref"]) : undefined;
  if (sheet && range) {
    const rows: XLSX.CellObject[][] = sheet["!data"] ?? []; // a chart sheet has no cells
    const lastRow = Math.min(range.e.r, rows.length - 1);
    const firstCol = firstUsedColumn(rows, range.s.r, lastRow);
    for (let r = range.s.r; r <= lastRow; r++) {
      const cells = rows[r];
      if (cells) list.addRow(rowText(cells, firstCol, range.e.c, list.cellsNeeded));
    }
  }
  return list.finish();
}

function readWorkbook(bytes: Uint8Array): XLSX.WorkBook {
  try {
    return XLSX.read(bytes, READ_OPTIONS);
  } catch (error) {
    throw readFailure(error);
  }
}

function firstSheet(book: XLSX.WorkBook): XLSX.DenseSheet | undefined {
  const name = book.SheetNames[0];
  return name === undefined ? undefined : (book.Sheets[name] as XLSX.DenseSheet | undefined);
}

/**
 * The leftmost column holding a value. A sheet whose list starts at C3 has
 * "its first column" at C for the person who made it, and writers differ on
 * whether the stored range starts there or at A1.
 */
function firstUsedColumn(rows: XLSX.CellObject[][], firstRow: number, lastRow: number): number {
  let first = Number.POSITIVE_INFINITY;
  for (let r = firstRow; r <= lastRow; r++) {
    const cells = rows[r];
    if (!cells) continue;
    const end = Math.min(cells.length, first);
    for (let c = 0; c < end; c++) {
      const cell = cells[c];
      if (cell && cell.t !== "z") {
        first = c;
        break;
      }
    }
  }
  return Number.isFinite(first) ? first : 0;
}

/** The row's cells from the list's first column, as displayed text. */
function rowText(cells: XLSX.CellObject[], firstCol: number, lastCol: number, needed: number): string[] {
  const end = Math.min(cells.length - 1, lastCol, firstCol + needed - 1);
  const text: string[] = [];
  for (let c = firstCol; c <= end; c++) {
    const cell = cells[c];
    text.push(cell ? XLSX.utils.format_cell(cell) : "");
  }
  return text;
}

function readFailure(error: unknown): ListFormatError {
  const detail = error instanceof Error ? error.message : String(error);
  if (/password-protected/i.test(detail)) {
    return new ListFormatError(
      "The workbook is password-protected. Remove the password and upload it again.",
      "unsupported_file",
    );
  }
  // SheetJS gives the same error for a damaged workbook and for another
  // Office document (a .docx is a ZIP too), so both are reported as corrupt.
  return new ListFormatError(
    "The file could not be read as an Excel workbook: it is damaged or is another kind of document.",
    "corrupt_file",
  );
}
