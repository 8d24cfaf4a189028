// CSV uploads. Papaparse walks the text row by row (`step`), so only the
// entries we keep are materialised, never a second array of all rows.

import Papa from "papaparse";
import { ListFormatError } from "./errors";
import { ListBuilder, type ParsedList } from "./rows";

const DELIMITERS = [",", ";", "\t", "|"];
// Real text, even a Latin-1 file read as UTF-8, stays far below this share of
// control or replacement characters; binary data decoded as text does not.
const MAX_JUNK_RATIO = 0.1;

export function parseCsv(text: string): ParsedList {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // A regex test, not trim(): no copy of a multi-megabyte string.
  if (!/\S/.test(body)) throw new ListFormatError("The file is empty.", "empty_file");
  assertLooksLikeText(body);
  const list = new ListBuilder();
  Papa.parse<string[]>(body, {
    delimitersToGuess: DELIMITERS,
    skipEmptyLines: "greedy",
    step: (row) => list.addRow(row.data),
  });
  return list.finish();
}

/** Rejects binary files (a spreadsheet, an image, an archive) sent as CSV. */
function assertLooksLikeText(text: string): void {
  if (text.includes("\0")) throw notText();
  let junk = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f || c === 0xfffd) junk++;
  }
  if (junk > text.length * MAX_JUNK_RATIO) throw notText();
}

function notText(): ListFormatError {
  return new ListFormatError(
    "The file does not look like CSV text. If it is a spreadsheet, upload it as Excel (.xlsx or .xls).",
    "corrupt_file",
  );
}
