import { describe, expect, it } from "vitest";
import { csvRow, csvStream } from "../../src/ingest/csv-writer";

type Row = (string | number | boolean | null)[];

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

async function* pagesOf(...pages: Row[][]): AsyncGenerator<Row[]> {
  yield* pages;
}

describe("csvRow", () => {
  it("joins plain cells with commas and ends with CRLF", () => {
    expect(csvRow(["a@example.com", "pass", 10, true, null, undefined])).toBe(
      "a@example.com,pass,10,true,,\r\n",
    );
  });

  it("quotes cells with commas, quotes, CR or LF and doubles the quotes", () => {
    expect(csvRow(["a,b", 'say "hi"', "line\nbreak", "cr\rhere", "plain"])).toBe(
      '"a,b","say ""hi""","line\nbreak","cr\rhere",plain\r\n',
    );
  });

  it.each([
    ["=SUM(A1)", `"'=SUM(A1)"`],
    ["+cmd", `"'+cmd"`],
    ["-cmd", `"'-cmd"`],
    ["@x", `"'@x"`],
    ["\tx", `"'\tx"`],
    ["\rx", `"'\rx"`],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ["=1+2,3", `"'=1+2,3"`],
    ["-2+3", `"'-2+3"`],
  ])("neutralises the formula-like cell %j", (cell, written) => {
    expect(csvRow([cell])).toBe(`${written}\r\n`);
  });

  it.each(["-5", "+1.5", "-0.25", "+3e10", "-.5", "42"])("leaves the number %j as it is", (cell) => {
    expect(csvRow([cell])).toBe(`${cell}\r\n`);
  });

  it("leaves numeric values untouched, negative ones included", () => {
    expect(csvRow([-5, 1.5, 0])).toBe("-5,1.5,0\r\n");
  });

  it("leaves formula characters alone when they are not first", () => {
    expect(csvRow(["a@example.com", "x=1", "a-b"])).toBe("a@example.com,x=1,a-b\r\n");
  });
});

describe("csvStream", () => {
  it("writes the header and every row of every page, without a BOM", async () => {
    const stream = csvStream(
      ["email", "score"],
      pagesOf(
        [["a@example.com", 10]],
        [],
        [
          ["b@example.com", 0],
          ["=evil", null],
        ],
      ),
    );
    const text = await readAll(stream);
    expect(text).toBe('email,score\r\na@example.com,10\r\nb@example.com,0\r\n"\'=evil",\r\n');
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
  });

  it("writes just the header for no pages", async () => {
    expect(await readAll(csvStream(["email"], pagesOf()))).toBe("email\r\n");
  });

  it("pulls a page only when the reader asks for more", async () => {
    let pulled = 0;
    async function* counted(): AsyncGenerator<Row[]> {
      for (let page = 0; page < 100; page++) {
        pulled++;
        yield [[`user${page}@example.com`, page]];
      }
    }
    const reader = csvStream(["email", "n"], counted()).getReader();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(pulled).toBe(0);

    const first = await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(new TextDecoder().decode(first.value)).toBe("email,n\r\nuser0@example.com,0\r\n");
    expect(pulled).toBe(1);

    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(pulled).toBe(2);
    await reader.cancel();
  });

  it("closes the page source when the client goes away", async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<Row[]> {
      try {
        for (let page = 0; ; page++) yield [[page]];
      } finally {
        closed = true;
      }
    }
    const reader = csvStream(["n"], endless()).getReader();
    await reader.read();
    await reader.cancel();
    expect(closed).toBe(true);
  });

  it("errors the stream when the page source fails", async () => {
    async function* failing(): AsyncGenerator<Row[]> {
      yield [["a@example.com"]];
      throw new Error("database went away");
    }
    await expect(readAll(csvStream(["email"], failing()))).rejects.toThrow("database went away");
  });
});
