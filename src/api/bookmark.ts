import type { Context } from "hono";
import { isBookmark, laterBookmark, readSession } from "../db/session";
import { apiError } from "./errors";
import type { AppEnv } from "./types";

// Page reads carry D1's session bookmark both ways in the `x-d1-bookmark`
// header: the client sends back the last one it received, and the answer is
// never older than that (src/db/session.ts).

export const BOOKMARK_HEADER = "x-d1-bookmark";

/** A read session for this request, and a function that puts its bookmark on the answer. */
export function pageSession(c: Context<AppEnv>): { db: D1DatabaseSession; done: () => void } {
  const sent = c.req.header(BOOKMARK_HEADER);
  if (sent !== undefined && !isBookmark(sent)) {
    throw apiError(
      400,
      "invalid_parameter",
      `${BOOKMARK_HEADER} must be a bookmark from an earlier answer's ${BOOKMARK_HEADER} header.`,
      `/headers/${BOOKMARK_HEADER}`,
    );
  }
  const db = readSession(c.env.DB, sent);
  return {
    db,
    done: () => {
      const bookmark = laterBookmark(db.getBookmark(), sent ?? null);
      if (bookmark) c.header(BOOKMARK_HEADER, bookmark);
    },
  };
}
