import { describe, expect, it } from "vitest";
import { ListFormatError, parseText } from "../../src/ingest/files";

const emails = (input: string) => parseText(input).entries.map((e) => e.email);

describe("parseText", () => {
  it("splits on commas", () => {
    expect(emails("a@example.com,b@example.com,c@example.com")).toEqual([
      "a@example.com",
      "b@example.com",
      "c@example.com",
    ]);
  });

  it("splits on semicolons, as Outlook pastes recipients", () => {
    expect(emails("a@example.com; b@example.com;c@example.com")).toEqual([
      "a@example.com",
      "b@example.com",
      "c@example.com",
    ]);
  });

  it("splits on LF, CRLF and lone CR", () => {
    expect(emails("a@example.com\nb@example.com\r\nc@example.com\rd@example.com")).toEqual([
      "a@example.com",
      "b@example.com",
      "c@example.com",
      "d@example.com",
    ]);
  });

  it("splits on spaces and tabs and drops blanks from doubled separators", () => {
    expect(emails("  a@example.com \t b@example.com,, ;\n\n,c@example.com,\n")).toEqual([
      "a@example.com",
      "b@example.com",
      "c@example.com",
    ]);
  });

  it("ignores a byte-order mark and keeps duplicates for the caller", () => {
    expect(emails("\ufeffa@example.com\na@example.com")).toEqual(["a@example.com", "a@example.com"]);
  });

  it("returns entries without extra columns", () => {
    expect(parseText("a@example.com")).toEqual({ entries: [{ email: "a@example.com" }], columns: [] });
  });

  it.each(["", "   ", ",;\r\n\t"])("rejects %j as empty", (input) => {
    expect(() => parseText(input)).toThrow(ListFormatError);
    try {
      parseText(input);
    } catch (error) {
      expect((error as ListFormatError).code).toBe("empty_file");
    }
  });
});
