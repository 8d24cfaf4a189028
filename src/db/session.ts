// D1 read replication: reads go through a session (D1's Sessions API), so
// they may be served by a replica near the caller while every write goes to
// the primary. A session started from the bookmark of a client's previous
// answer sees data at least as new as that answer: a client that sends back
// each bookmark it receives never sees an older page after a newer one
// (sequential consistency). Without one, the first read may go to any replica.

/** D1's bookmarks: three 8-hex-digit fields and a 32-hex-digit one. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/i;

export function isBookmark(value: string): boolean {
  return BOOKMARK.test(value);
}

/** A read session continuing from `bookmark`, or starting at any replica. */
export function readSession(d1: D1Database, bookmark?: string | null): D1DatabaseSession {
  return d1.withSession(bookmark ?? "first-unconstrained");
}

/** Bookmarks order by time as strings: the later of two (either may be missing). */
export function laterBookmark(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}
