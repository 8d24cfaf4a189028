import type { Context } from "hono";
import { MAX_JOB_EMAILS } from "../config";
import {
  ListFormatError,
  type ParsedList,
  parseListFile,
  parseSpreadsheet,
  parseText,
} from "../ingest/files";
import { isSafeText } from "../verify/syntax";
import { apiError } from "./errors";

// Reads a list from a multipart upload: a CSV/XLSX/XLS file or pasted text.

export const LIST_SOURCES = ["file", "input", "excel"] as const;
export type ListSource = (typeof LIST_SOURCES)[number];

export interface UploadedList extends ParsedList {
  source: ListSource;
  label: string | null;
}

export async function readMultipart(c: Context): Promise<FormData> {
  const type = c.req.header("content-type") ?? "";
  if (!/^multipart\/form-data\b/i.test(type)) {
    throw apiError(415, "unsupported_media_type", "Send the list as multipart/form-data.");
  }
  try {
    return await c.req.raw.formData();
  } catch {
    throw apiError(400, "invalid_value", "The multipart body could not be read.", "");
  }
}

/**
 * Parses the list out of a form. `source` chooses the field: `file`/`excel`
 * read the `file` field (its format sniffed from its bytes), `input` reads
 * the `input` text field.
 */
export async function readList(form: FormData, source: ListSource): Promise<UploadedList> {
  const labelField = form.get("label");
  const label = typeof labelField === "string" && labelField.trim() ? labelField.trim().slice(0, 200) : null;
  let list: ParsedList;
  try {
    if (source === "input") {
      const input = form.get("input");
      if (typeof input !== "string" || !input.trim()) {
        throw apiError(400, "missing_field", "source=input needs an 'input' field of emails.", "/input");
      }
      list = parseText(input);
    } else {
      const file = form.get("file");
      if (!file || typeof file === "string") {
        throw apiError(400, "missing_field", `source=${source} needs a 'file' field.`, "/file");
      }
      const bytes = new Uint8Array(await file.arrayBuffer());
      // source=excel insists on a spreadsheet; source=file takes whatever the bytes are.
      list = source === "excel" ? parseSpreadsheet(bytes) : parseListFile(bytes, file.name, file.type);
    }
  } catch (err) {
    if (err instanceof ListFormatError) throw apiError(400, err.code, err.message, "/file");
    throw err;
  }
  if (list.entries.length === 0)
    throw apiError(400, "empty_file", "The list has no email addresses.", "/file");
  if (list.entries.length > MAX_JOB_EMAILS) {
    throw apiError(400, "too_many_entries", `A job takes at most ${MAX_JOB_EMAILS} emails.`, "/file");
  }
  const bad = list.entries.findIndex((e) => !isSafeText(e.email) || e.email.length > 320);
  if (bad >= 0) {
    throw apiError(
      400,
      "invalid_value",
      `Row ${bad + 1} has an email with control characters, broken Unicode or over 320 characters.`,
      "/file",
    );
  }
  return { ...list, source, label };
}
