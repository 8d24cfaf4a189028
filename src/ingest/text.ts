// Pasted lists: addresses separated by commas, semicolons or any white space
// (which covers CR, LF and CRLF). A pasted list has no header or columns.

import type { InputEntry } from "./entries";
import { ListFormatError } from "./errors";
import type { ParsedList } from "./rows";

const ADDRESS = /[^\s,;]+/g;

export function parseText(input: string): ParsedList {
  const entries: InputEntry[] = [];
  for (const [email] of input.matchAll(ADDRESS)) entries.push({ email });
  if (entries.length === 0) throw new ListFormatError("No email addresses were given.", "empty_file");
  return { entries, columns: [] };
}
