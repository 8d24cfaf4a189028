// Unexpected answers seen during a run, kept with the request that got them,
// so a report can say exactly what mailvet did (not only that a check failed).

import type { HttpResult } from "./http";

export interface Incident {
  /** ms since the run started */
  t: number;
  what: string;
  request: string;
  status: number;
  body: string;
}

export class Incidents {
  readonly list: Incident[] = [];
  private readonly started = Date.now();
  constructor(private readonly keep = 50) {}

  /** Records `res` if its status is not among `expected`; returns whether it was expected. */
  check(what: string, request: string, res: HttpResult, expected: number[]): boolean {
    if (expected.includes(res.status)) return true;
    this.add(what, request, res);
    return false;
  }

  add(what: string, request: string, res: HttpResult): void {
    if (this.list.length >= this.keep) return;
    this.list.push({
      t: Date.now() - this.started,
      what,
      request,
      status: res.status,
      body: (res.status === 0 ? (res.error ?? "") : res.text).slice(0, 600),
    });
  }
}
