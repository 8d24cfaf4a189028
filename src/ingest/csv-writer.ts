// CSV for downloads, written by Papa.unparse: RFC 4180 quoting, CRLF line
// ends, and cells that a spreadsheet would run as a formula neutralised.
//
// No byte-order mark is written: the compatible API's download is plain CSV
// whose first bytes are the header "email,...", and scripts that read it
// (curl | csvkit, pandas, a split on ",") would see the BOM glued to "email".

import Papa from "papaparse";

type Cell = string | number | boolean | null | undefined;

// OWASP's CSV-injection list: a cell starting with =, +, -, @, tab or CR is
// read as a formula by Excel, LibreOffice or Google Sheets, and is written
// quoted with a leading '. A signed number such as "-5" or "+1.5e3" is data a
// spreadsheet shows as a number, not a formula; prefixing it would corrupt
// it, so it is left alone. Papa applies this to strings only, never to numbers.
const FORMULA = /^(?![+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$)[=+\-@\t\r]/;

const OPTIONS: Papa.UnparseConfig = { newline: "\r\n", escapeFormulae: FORMULA, header: false };

/** CSV records, each CRLF-terminated; RFC 4180 quoting. */
export function csvRows(rows: readonly (readonly Cell[])[]): string {
  return rows.length ? `${Papa.unparse(rows as Cell[][], OPTIONS)}\r\n` : "";
}

/** One CSV record, CRLF-terminated. */
export function csvRow(cells: readonly Cell[]): string {
  return csvRows([cells]);
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
          text += csvRows(next.value);
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
