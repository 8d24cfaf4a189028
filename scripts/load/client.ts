// The load run's HTTP client: a fixed pool of keep-alive connections (an
// undici Agent with a connection cap), the way autocannon or a real client
// fleet behind a proxy talks to a server. Requests beyond the pool wait in
// the client's queue, and that wait counts in their latency, so a slow
// server still shows; what it never does is open a connection per request
// (hundreds of sockets at once exhausted wrangler's file descriptors).

import { Agent, request } from "undici";
import type { HttpResult } from "../lib/http";

export class PooledClient {
  private readonly agent: Agent;

  constructor(
    readonly baseUrl: string,
    readonly connections: number,
    private readonly headers: Record<string, string> = {},
  ) {
    this.agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 30_000 });
  }

  /** One request, timed from the call (queueing for a connection included) to the last body byte. */
  async call<T = unknown>(
    method: "GET" | "POST",
    path: string,
    opts: { json?: unknown; headers?: Record<string, string>; timeoutMs: number },
  ): Promise<HttpResult<T>> {
    const started = performance.now();
    const headers: Record<string, string> = { ...this.headers, ...opts.headers };
    let body: string | undefined;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers["content-type"] = "application/json";
    }
    try {
      const res = await request(`${this.baseUrl}${path}`, {
        dispatcher: this.agent,
        method,
        headers,
        body,
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      const text = await res.body.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON: the caller reads `text`.
      }
      const out = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") out.set(k, v);
      return {
        status: res.statusCode,
        ms: performance.now() - started,
        headers: out,
        body: parsed as T,
        text,
      };
    } catch (err) {
      const code = (err as { code?: string }).code;
      return {
        status: 0,
        ms: performance.now() - started,
        headers: new Headers(),
        body: null as T,
        text: "",
        error: code ? `${String(err)} (${code})` : String(err),
      };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
