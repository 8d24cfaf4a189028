// Which parser an upload needs. The bytes decide when they can: browsers and
// clients often name or label files wrongly.

export type ListKind = "csv" | "xlsx" | "xls";

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04]; // "PK\3\4": XLSX is a ZIP archive
const OLE2_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]; // XLS (BIFF8) compound file

const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

export function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

export function isZip(bytes: Uint8Array): boolean {
  return startsWith(bytes, ZIP_MAGIC);
}

export function isOle2(bytes: Uint8Array): boolean {
  return startsWith(bytes, OLE2_MAGIC);
}

export function sniffKind(bytes: Uint8Array, filename?: string, contentType?: string): ListKind {
  if (isZip(bytes)) return "xlsx";
  if (isOle2(bytes)) return "xls";
  const extension = filename?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (extension === "xlsx" || extension === "xlsm") return "xlsx";
  if (extension === "xls") return "xls";
  if (extension === "csv" || extension === "txt" || extension === "tsv") return "csv";
  // Only the XLSX type is trusted: Windows labels .csv files
  // "application/vnd.ms-excel" whenever Excel is installed.
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type === XLSX_TYPE) return "xlsx";
  return "csv";
}
