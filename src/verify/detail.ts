import type { Verdict } from "./types";

/** The verdict's particulars kept with each result (the `detail` column), in the API's snake_case. */
export function verdictDetail(v: Verdict) {
  return {
    smtp_code: v.smtpCode,
    smtp_text: v.smtpText,
    mx_host: v.mxHost,
    disposable: v.flags.disposable,
    role: v.flags.role,
    free: v.flags.free,
    did_you_mean: v.flags.didYouMean,
  };
}
