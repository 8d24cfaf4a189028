// The one error every list parser throws. `code` is stable for clients; the
// message is meant to be shown to the person who uploaded the file.

export type ListFormatErrorCode = "empty_file" | "no_email_column" | "corrupt_file" | "unsupported_file";

export class ListFormatError extends Error {
  constructor(
    message: string,
    readonly code: ListFormatErrorCode,
  ) {
    super(message);
    this.name = "ListFormatError";
  }
}
