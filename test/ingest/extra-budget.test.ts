import { describe, expect, it } from "vitest";
import { MAX_CELL_CHARS, MAX_EXTRA_COLUMNS, parseCsv } from "../../src/ingest/files";
import { MAX_EXTRA_BYTES } from "../../src/ingest/rows";

// A results page holds up to 1,000 rows: their extra fields must stay well
// inside what one D1 query may return, whatever the uploaded file holds.

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

describe("extra fields: a byte budget per row", () => {
  it("keeps a row's extra fields within the budget with the widest file allowed", () => {
    const names = Array.from(
      { length: MAX_EXTRA_COLUMNS },
      (_, i) => `${"n".repeat(MAX_CELL_CHARS - 3)}${i}`,
    );
    const cells = names.map((_, i) => `${"é".repeat(MAX_CELL_CHARS - 3)}${i}`);
    const list = parseCsv(`email,${names.join(",")}\na@example.com,${cells.join(",")}\n`);
    const extra = list.entries[0]?.extra;
    expect(extra).toBeDefined();
    expect(bytes(extra)).toBeLessThanOrEqual(MAX_EXTRA_BYTES);
    // What fits is kept in column order, from the first column on.
    expect(Object.keys(extra!)[0]).toBe(names[0]);
  });

  it("leaves ordinary rows untouched", () => {
    const list = parseCsv("email,name,city\na@example.com,Ann,Zürich\n");
    expect(list.entries[0]?.extra).toEqual({ name: "Ann", city: "Zürich" });
  });
});
