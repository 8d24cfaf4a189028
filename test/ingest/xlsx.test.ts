import * as XLSX from "@e965/xlsx";
import { describe, expect, it } from "vitest";
import { ListFormatError, parseListFile, parseSpreadsheet } from "../../src/ingest/files";

type Cell = string | number | boolean | Date | null;

function workbook(...sheets: Cell[][][]): XLSX.WorkBook {
  const book = XLSX.utils.book_new();
  sheets.forEach((rows, i) => {
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet(rows, { cellDates: true }), `Sheet${i + 1}`);
  });
  return book;
}

function xlsx(...sheets: Cell[][][]): Uint8Array {
  return new Uint8Array(XLSX.write(workbook(...sheets), { type: "array", bookType: "xlsx" }));
}

function xls(...sheets: Cell[][][]): Uint8Array {
  return new Uint8Array(XLSX.write(workbook(...sheets), { type: "array", bookType: "biff8" }));
}

function formatError(fn: () => unknown): ListFormatError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ListFormatError);
    return error as ListFormatError;
  }
  throw new Error("expected a ListFormatError");
}

describe.each([
  ["XLSX", xlsx],
  ["XLS (BIFF8)", xls],
])("parseSpreadsheet: %s", (_, build) => {
  it("reads the email column by header and keeps the others as text", () => {
    const list = parseSpreadsheet(
      build([
        ["Name", "Email", "Score"],
        ["Ann", "a@example.com", 42],
        ["Bob", "  b@example.com ", 7.5],
      ]),
    );
    expect(list.columns).toEqual(["Name", "Score"]);
    expect(list.entries).toEqual([
      { email: "a@example.com", extra: { Name: "Ann", Score: "42" } },
      { email: "b@example.com", extra: { Name: "Bob", Score: "7.5" } },
    ]);
  });

  it("reads a sheet without a header from its first column", () => {
    const list = parseSpreadsheet(
      build([
        ["a@example.com", "Ann"],
        ["b@example.com", "Bob"],
      ]),
    );
    expect(list.columns).toEqual(["column_2"]);
    expect(list.entries.map((e) => e.email)).toEqual(["a@example.com", "b@example.com"]);
  });

  it.each([undefined, "C3:D4"])("counts columns from where the data starts (stored range %s)", (ref) => {
    const rows = [
      ["email", "name"],
      ["a@example.com", "Ann"],
    ];
    const sheet = XLSX.utils.sheet_add_aoa(XLSX.utils.aoa_to_sheet([]), rows, { origin: "C3" });
    if (ref) sheet["!ref"] = ref; // as Excel stores it; SheetJS's writer starts the range at A1
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(book, sheet, "Offset");
    const bookType = build === xls ? "biff8" : "xlsx";
    const bytes = new Uint8Array(XLSX.write(book, { type: "array", bookType }));
    expect(parseSpreadsheet(bytes).entries).toEqual([{ email: "a@example.com", extra: { name: "Ann" } }]);
  });

  it("reads the first sheet only", () => {
    const list = parseSpreadsheet(
      build([["email"], ["first@example.com"]], [["email"], ["second@example.com"]]),
    );
    expect(list.entries).toEqual([{ email: "first@example.com" }]);
  });

  it("gives dates and booleans as displayed text", () => {
    const list = parseSpreadsheet(
      build([
        ["email", "joined", "active"],
        ["a@example.com", new Date(Date.UTC(2024, 2, 15)), true],
      ]),
    );
    const extra = list.entries[0]?.extra;
    expect(extra?.joined).toMatch(/^3\/15\/24$/);
    expect(extra?.active).toBe("TRUE");
  });

  it("skips blank rows and rows with an empty email cell", () => {
    const list = parseSpreadsheet(
      build([
        ["email", "name"],
        [null, null],
        ["a@example.com", "Ann"],
        [null, "Nobody"],
        ["b@example.com", null],
      ]),
    );
    expect(list.entries).toEqual([
      { email: "a@example.com", extra: { name: "Ann" } },
      { email: "b@example.com", extra: { name: "" } },
    ]);
  });

  it("calls a workbook with only a header an empty file", () => {
    expect(formatError(() => parseSpreadsheet(build([["email", "name"]]))).code).toBe("empty_file");
  });

  it("calls an empty sheet an empty file", () => {
    expect(formatError(() => parseSpreadsheet(build([]))).code).toBe("empty_file");
  });

  it("reports a sheet with no addresses in its email column", () => {
    const error = formatError(() =>
      parseSpreadsheet(
        build([
          ["name", "phone"],
          ["Ann", "123"],
        ]),
      ),
    );
    expect(error.code).toBe("no_email_column");
  });
});

describe("parseSpreadsheet: files that are not Excel workbooks", () => {
  it("rejects CSV text sent as Excel instead of reading it as a one-column sheet", () => {
    const error = formatError(() => parseSpreadsheet(new TextEncoder().encode("email\na@example.com\n")));
    expect(error.code).toBe("corrupt_file");
    expect(error.message).toMatch(/CSV/);
  });

  it("rejects random bytes", () => {
    const bytes = new Uint8Array(2048);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 251;
    expect(formatError(() => parseSpreadsheet(bytes)).code).toBe("corrupt_file");
  });

  it("rejects an empty upload", () => {
    expect(formatError(() => parseSpreadsheet(new Uint8Array())).code).toBe("corrupt_file");
  });

  it("rejects a truncated XLSX", () => {
    const whole = xlsx([["email"], ["a@example.com"]]);
    expect(formatError(() => parseSpreadsheet(whole.slice(0, whole.length / 2))).code).toBe("corrupt_file");
  });

  it("rejects a ZIP signature followed by garbage", () => {
    const bytes = new Uint8Array(512).fill(0x41);
    bytes.set([0x50, 0x4b, 0x03, 0x04]);
    expect(formatError(() => parseSpreadsheet(bytes)).code).toBe("corrupt_file");
  });

  it("rejects an OLE2 signature followed by garbage", () => {
    const bytes = new Uint8Array(1024).fill(0x41);
    bytes.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    expect(formatError(() => parseSpreadsheet(bytes)).code).toBe("corrupt_file");
  });

  it("reports a password-protected workbook as unsupported", () => {
    // An encrypted XLSX is an OLE2 file holding EncryptionInfo and EncryptedPackage.
    const xml = new TextEncoder().encode('<encryption xmlns="x"><keyData saltSize="16"/></encryption>');
    const info = new Uint8Array(8 + xml.length);
    info.set([4, 0, 4, 0, 0x40, 0, 0, 0]); // agile encryption, version 4.4
    info.set(xml, 8);
    const cfb = XLSX.CFB.utils.cfb_new();
    XLSX.CFB.utils.cfb_add(cfb, "/EncryptionInfo", info);
    XLSX.CFB.utils.cfb_add(cfb, "/EncryptedPackage", new Uint8Array(4096));
    const error = formatError(() => parseSpreadsheet(new Uint8Array(XLSX.CFB.write(cfb, { type: "array" }))));
    expect(error.code).toBe("unsupported_file");
    expect(error.message).toMatch(/password/);
  });

  it("routes a workbook uploaded under a .csv name by its bytes", () => {
    const list = parseListFile(xlsx([["email"], ["a@example.com"]]), "list.csv", "text/csv");
    expect(list.entries).toEqual([{ email: "a@example.com" }]);
  });
});

describe("parseSpreadsheet: size", () => {
  it("parses a 100,000-row XLSX", () => {
    const rows: Cell[][] = [["email", "name", "n"]];
    for (let i = 0; i < 100_000; i++) rows.push([`user${i}@example.com`, `Name ${i}`, i]);
    const bytes = xlsx(rows);
    const list = parseSpreadsheet(bytes);
    expect(list.entries).toHaveLength(100_000);
    expect(list.entries[0]).toEqual({ email: "user0@example.com", extra: { name: "Name 0", n: "0" } });
    expect(list.entries.at(-1)).toEqual({
      email: "user99999@example.com",
      extra: { name: "Name 99999", n: "99999" },
    });
  });
});
