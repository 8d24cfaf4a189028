import { describe, expect, it } from "vitest";
import {
  decodeText,
  ListFormatError,
  MAX_CELL_CHARS,
  MAX_EXTRA_COLUMNS,
  parseCsv,
  parseListFile,
  sniffKind,
} from "../../src/ingest/files";

function formatError(fn: () => unknown): ListFormatError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ListFormatError);
    return error as ListFormatError;
  }
  throw new Error("expected a ListFormatError");
}

describe("parseCsv: header and email column", () => {
  it("reads a one-column list without a header", () => {
    expect(parseCsv("a@example.com\nb@example.com\n")).toEqual({
      entries: [{ email: "a@example.com" }, { email: "b@example.com" }],
      columns: [],
    });
  });

  it("treats a first row without an @ as a header and keeps the other columns", () => {
    const list = parseCsv("email,first name,company\na@example.com,Ann,Acme\nb@example.com,Bob,Beta\n");
    expect(list.columns).toEqual(["first name", "company"]);
    expect(list.entries).toEqual([
      { email: "a@example.com", extra: { "first name": "Ann", company: "Acme" } },
      { email: "b@example.com", extra: { "first name": "Bob", company: "Beta" } },
    ]);
  });

  it("treats a first row holding an @ as data and names extra columns by position", () => {
    const list = parseCsv("a@example.com,Ann,Acme\nb@example.com,Bob,Beta");
    expect(list.columns).toEqual(["column_2", "column_3"]);
    expect(list.entries[0]).toEqual({ email: "a@example.com", extra: { column_2: "Ann", column_3: "Acme" } });
    expect(list.entries).toHaveLength(2);
  });

  it("finds an Email column that is not first, whatever its case and padding", () => {
    const list = parseCsv("Name, Email ,Phone\nAnn,a@example.com,123\n");
    expect(list.columns).toEqual(["Name", "Phone"]);
    expect(list.entries).toEqual([{ email: "a@example.com", extra: { Name: "Ann", Phone: "123" } }]);
  });

  it.each(["E-mail", "Email Address", "email_address"])("accepts the header %s", (header) => {
    const list = parseCsv(`id,${header}\n1,a@example.com\n`);
    expect(list.entries).toEqual([{ email: "a@example.com", extra: { id: "1" } }]);
  });

  it("falls back to the first column when no header names the email", () => {
    const list = parseCsv("contact,name\na@example.com,Ann\n");
    expect(list.entries).toEqual([{ email: "a@example.com", extra: { name: "Ann" } }]);
  });

  it("names blank and repeated headers so no value is lost", () => {
    const list = parseCsv("email,,tag,tag,__proto__\na@example.com,x,t1,t2,p\n");
    expect(list.columns).toEqual(["column_2", "tag", "tag_2", "column_5"]);
    expect(list.entries[0]?.extra).toEqual({ column_2: "x", tag: "t1", tag_2: "t2", column_5: "p" });
  });

  it("keeps at most 50 extra columns and truncates long cells", () => {
    const names = Array.from({ length: 60 }, (_, i) => `c${i}`);
    const long = "x".repeat(MAX_CELL_CHARS + 500);
    const row = ["a@example.com", long, ...names.slice(1).map((n) => n.toUpperCase())];
    const list = parseCsv(`email,${names.join(",")}\n${row.join(",")}\n`);
    expect(list.columns).toHaveLength(MAX_EXTRA_COLUMNS);
    expect(list.columns.at(-1)).toBe("c49");
    expect(list.entries[0]?.extra?.c0).toHaveLength(MAX_CELL_CHARS);
    expect(list.entries[0]?.extra?.c49).toBe("C49");
  });

  it("fills cells missing from short rows with empty text", () => {
    const list = parseCsv("email,name,city\na@example.com,Ann\n");
    expect(list.entries[0]?.extra).toEqual({ name: "Ann", city: "" });
  });
});

describe("parseCsv: text encoding and syntax", () => {
  it("drops a UTF-8 byte-order mark before the header", () => {
    const list = parseCsv("\ufeffEmail,Name\na@example.com,Ann\n");
    expect(list.entries).toEqual([{ email: "a@example.com", extra: { Name: "Ann" } }]);
  });

  it("reads quoted fields with commas, quotes and newlines inside", () => {
    const csv = 'email,note\r\n"a@example.com","Smith, Ann ""Annie""\r\nline two"\r\nb@example.com,plain\r\n';
    const list = parseCsv(csv);
    expect(list.entries).toEqual([
      { email: "a@example.com", extra: { note: 'Smith, Ann "Annie"\r\nline two' } },
      { email: "b@example.com", extra: { note: "plain" } },
    ]);
  });

  it("reads CRLF and LF line ends alike", () => {
    const crlf = parseCsv("email,name\r\na@example.com,Ann\r\nb@example.com,Bob\r\n");
    const lf = parseCsv("email,name\na@example.com,Ann\nb@example.com,Bob\n");
    expect(crlf).toEqual(lf);
    expect(crlf.entries[1]).toEqual({ email: "b@example.com", extra: { name: "Bob" } });
  });

  it.each([
    ["semicolon", ";"],
    ["tab", "\t"],
    ["pipe", "|"],
  ])("detects a %s delimiter", (_, sep) => {
    const list = parseCsv(
      `name${sep}email${sep}city\nAnn${sep}a@example.com${sep}Paris, FR\nBob${sep}b@example.com${sep}Rome\n`,
    );
    expect(list.columns).toEqual(["name", "city"]);
    expect(list.entries).toEqual([
      { email: "a@example.com", extra: { name: "Ann", city: "Paris, FR" } },
      { email: "b@example.com", extra: { name: "Bob", city: "Rome" } },
    ]);
  });

  it("skips blank rows and rows without an email, trims emails and keeps duplicates", () => {
    const list = parseCsv(
      "email,name\n\n  a@example.com  ,Ann\n,,\n , Nobody\n\t\na@example.com,Ann again\n",
    );
    expect(list.entries.map((e) => e.email)).toEqual(["a@example.com", "a@example.com"]);
  });

  it("keeps non-empty cells without an @ for validation to reject", () => {
    const list = parseCsv("email\na@example.com\nnot-an-address\n");
    expect(list.entries.map((e) => e.email)).toEqual(["a@example.com", "not-an-address"]);
  });
});

describe("parseCsv: rejected files", () => {
  it.each(["", "\ufeff", "  \r\n\r\n", ",,,\n,,\n"])("calls %j an empty file", (text) => {
    expect(formatError(() => parseCsv(text)).code).toBe("empty_file");
  });

  it("calls a header without data rows an empty file", () => {
    expect(formatError(() => parseCsv("email,name\r\n")).code).toBe("empty_file");
  });

  it("reports a file whose chosen column holds no address", () => {
    const error = formatError(() => parseCsv("name,phone\nAnn,123\nBob,456\n"));
    expect(error.code).toBe("no_email_column");
    expect(error.message).toMatch(/email/i);
  });

  it("reports an email header whose column is empty", () => {
    expect(formatError(() => parseCsv("email,name\n,Ann\n,Bob\n")).code).toBe("no_email_column");
  });

  it("rejects text with NUL bytes, as a binary or UTF-16 file decoded as UTF-8 has", () => {
    const utf16 = new TextDecoder().decode(new Uint8Array([0x65, 0, 0x40, 0, 0x78, 0, 0x0a, 0]));
    expect(formatError(() => parseCsv(utf16)).code).toBe("corrupt_file");
  });

  it("rejects random bytes decoded as text", () => {
    const bytes = new Uint8Array(4096);
    let seed = 42;
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    const error = formatError(() => parseCsv(new TextDecoder().decode(bytes)));
    expect(error.code).toBe("corrupt_file");
    expect(error.message).toMatch(/CSV/);
  });

  it("rejects binary without NULs by its share of control and replacement characters", () => {
    const junk = "\u0001\u0002\ufffd\ufffd\u0003x".repeat(50);
    expect(formatError(() => parseCsv(`a@example.com\n${junk}`)).code).toBe("corrupt_file");
  });

  it("accepts a few stray replacement characters, as in a Latin-1 file", () => {
    const list = parseCsv("email,name\na@example.com,Jos\ufffd\nb@example.com,Ren\ufffde\n");
    expect(list.entries[0]?.extra?.name).toBe("Jos\ufffd");
  });
});

describe("parseCsv: size", () => {
  it("parses 100,000 rows (about 5 MB)", () => {
    const lines = ["email,first_name,last_name,company"];
    for (let i = 0; i < 100_000; i++)
      lines.push(`user${i}@example${i % 97}.com,First${i},Last${i},Company ${i}`);
    const text = `${lines.join("\r\n")}\r\n`;
    expect(text.length).toBeGreaterThan(4_500_000);
    const list = parseCsv(text);
    expect(list.entries).toHaveLength(100_000);
    expect(list.columns).toEqual(["first_name", "last_name", "company"]);
    expect(list.entries[0]).toEqual({
      email: "user0@example0.com",
      extra: { first_name: "First0", last_name: "Last0", company: "Company 0" },
    });
    expect(list.entries.at(-1)).toEqual({
      email: "user99999@example89.com",
      extra: { first_name: "First99999", last_name: "Last99999", company: "Company 99999" },
    });
  });
});

describe("sniffKind and parseListFile", () => {
  const utf8 = new TextEncoder();

  it("trusts magic bytes over the name and type", () => {
    expect(sniffKind(new Uint8Array([0x50, 0x4b, 3, 4, 0]), "list.csv", "text/csv")).toBe("xlsx");
    expect(sniffKind(new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), "list.csv")).toBe(
      "xls",
    );
  });

  it("falls back to the extension, then the XLSX content type, then CSV", () => {
    const text = utf8.encode("a@example.com\n");
    expect(sniffKind(text, "List.XLSX")).toBe("xlsx");
    expect(sniffKind(text, "list.xls")).toBe("xls");
    expect(
      sniffKind(text, "list.csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ).toBe("csv");
    expect(
      sniffKind(text, undefined, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ).toBe("xlsx");
    expect(sniffKind(text)).toBe("csv");
  });

  it("does not take Windows' ms-excel label on a .csv upload for an XLS file", () => {
    expect(sniffKind(utf8.encode("a@example.com\n"), "list.csv", "application/vnd.ms-excel")).toBe("csv");
    expect(sniffKind(utf8.encode("a@example.com\n"), undefined, "application/vnd.ms-excel")).toBe("csv");
  });

  it("parses a CSV upload from bytes", () => {
    const list = parseListFile(
      utf8.encode("\ufeffemail;name\r\na@example.com;Zoë\r\n"),
      "list.csv",
      "text/csv",
    );
    expect(list.entries).toEqual([{ email: "a@example.com", extra: { name: "Zoë" } }]);
  });

  it("decodes UTF-16 text with a byte-order mark, as Excel's Unicode Text export writes it", () => {
    const text = "email\tname\r\na@example.com\tZoë\r\n";
    const bytes = new Uint8Array(2 + text.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) bytes[2 + i * 2] = text.charCodeAt(i);
    expect(decodeText(bytes)).toBe(text);
    expect(parseListFile(bytes, "list.txt").entries).toEqual([
      { email: "a@example.com", extra: { name: "Zoë" } },
    ]);
  });

  it("decodes big-endian UTF-16 too", () => {
    const text = "email\na@example.com\n";
    const bytes = new Uint8Array(2 + text.length * 2);
    bytes.set([0xfe, 0xff]);
    for (let i = 0; i < text.length; i++) bytes[3 + i * 2] = text.charCodeAt(i);
    expect(parseListFile(bytes).entries).toEqual([{ email: "a@example.com" }]);
  });

  it("sends a file named .xlsx that is really CSV to the spreadsheet parser, which rejects it", () => {
    const error = formatError(() => parseListFile(utf8.encode("email\na@example.com\n"), "list.xlsx"));
    expect(error.code).toBe("corrupt_file");
  });
});
