// CSV for downloads: RFC 4180 quoting, CRLF line ends, and cells that a
// spreadsheet would run as a formula neutralised.
//
// No byte-order mark is written: the compatible API's download is plain CSV
// whose first bytes are the header "email,...", and scripts that read it
// (curl | csvkit, pandas, a split on ",") would see the BOM glued to "email".

type Cell = string | number | boolean | null | undefined;

const NEEDS_QUOTES = /[",\r\n]/;
// OWASP's CSV-injection list: a cell starting with one of these is read as a
// formula by Excel, LibreOffice or Google Sheets.
const FORMULA_START = /^[=+\-@\t\r]/;
// A signed number such as "-5" or "+1.5e3" is data a spreadsheet shows as a
// number, not a formula; prefixing it would corrupt it, so it is left alone.
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return "";
  if (typeof cell !== "string") return String(cell);
  const safe = FORMULA_START.test(cell) && !PLAIN_NUMBER.test(cell) ? `'${cell}` : cell;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One CSV record, CRLF-terminated. */
export function csvRow(cells: readonly Cell[]): string {
  return `${cells.map(cellText).join(",")}\r\n`;
}

/**
 * Streams `header` then every row of every page. A page is pulled only when
 * the reader asks for more bytes (high-water mark 0), so a slow client never
 * makes the worker hold more than the page being sent.
 */
export function csvStream(
  header: string[],
  pages: AsyncIterable<(string | number | boolean | null)[][]>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = pages[Symbol.asyncIterator]();
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let text = headerSent ? "" : csvRow(header);
        headerSent = true;
        // Skip empty pages so each pull delivers bytes or ends the stream.
        while (true) {
          const next = await iterator.next();
          if (next.done) {
            if (text) controller.enqueue(encoder.encode(text));
            controller.close();
            return;
          }
          if (next.value.length === 0) continue;
          for (const row of next.value) text += csvRow(row);
          controller.enqueue(encoder.encode(text));
          return;
        }
      },
      async cancel(reason) {
        await iterator.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
