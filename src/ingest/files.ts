// Uploaded lists (CSV, XLSX/XLS, pasted text) into input entries. Each format
// lives in its own module; this one re-exports them and picks one for a file.

import { parseCsv } from "./csv";
import type { ParsedList } from "./rows";
import { type ListKind, sniffKind } from "./sniff";
import { parseSpreadsheet } from "./xlsx";

export { parseCsv } from "./csv";
export { ListFormatError, type ListFormatErrorCode } from "./errors";
export { MAX_CELL_CHARS, MAX_EXTRA_COLUMNS, type ParsedList } from "./rows";
export { type ListKind, sniffKind } from "./sniff";
export { parseText } from "./text";
export { parseSpreadsheet } from "./xlsx";

/** Parses an uploaded file with the parser its bytes (or, failing that, its name) call for. */
export function parseListFile(bytes: Uint8Array, filename?: string, contentType?: string): ParsedList {
  const kind: ListKind = sniffKind(bytes, filename, contentType);
  return kind === "csv" ? parseCsv(decodeText(bytes)) : parseSpreadsheet(bytes);
}

/**
 * UTF-8 unless a byte-order mark says UTF-16, which is what Excel's
 * "Unicode Text" export writes. Invalid bytes become U+FFFD, which the CSV
 * parser counts when deciding whether the file is text at all.
 */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  return new TextDecoder("utf-8").decode(bytes);
}
