import { connect } from "cloudflare:sockets";
export default {
  async fetch(req: Request): Promise<Response> {
    const u = new URL(req.url);
    if (u.pathname === "/sock") {
      const s = connect({ hostname: u.searchParams.get("h")!, port: Number(u.searchParams.get("p")) });
      const r = s.readable.getReader();
      const { value } = await r.read();
      return new Response(new TextDecoder().decode(value));
    }
    return new Response("ok");
  },
} satisfies ExportedHandler<Env>;
export class JobObject {}
export class MxObject {}
