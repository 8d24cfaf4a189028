// Turns a caller's list into the job's input: trimmed, de-duplicated (the
// domain compared case-insensitively, the local part as given), in first-seen
// order. Extra per-row fields (CSV columns, JSON keys) travel with each entry.

export interface InputEntry {
  email: string;
  /** Extra columns of the caller's row, echoed in downloads. */
  extra?: Record<string, string>;
}

/** The de-duplication key: local part as given, domain lower-cased. */
export function emailKey(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 0) return email;
  return email.slice(0, at + 1) + email.slice(at + 1).toLowerCase();
}

export function dedupe(entries: Iterable<InputEntry>): { entries: InputEntry[]; duplicates: number } {
  const seen = new Set<string>();
  const out: InputEntry[] = [];
  let duplicates = 0;
  for (const entry of entries) {
    const email = entry.email.trim();
    const key = emailKey(email);
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    out.push(entry.extra ? { email, extra: entry.extra } : { email });
  }
  return { entries: out, duplicates };
}
