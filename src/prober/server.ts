// Placeholder: replaced by the prober implementation.
export interface ProberOptions {
  port: number;
  secret: string;
  smtp: {
    port: number;
    heloName: string;
    mailFrom: string;
    connectTimeoutMs: number;
    replyTimeoutMs: number;
  };
}
export async function startProber(_opts: ProberOptions): Promise<{ port: number; close(): Promise<void> }> {
  return { port: 0, close: async () => {} };
}
