// Points every name lookup of this process at the world's DNS. The baseline
// resolves MX records with dns.resolveMx (c-ares, which dns.setServers
// redirects) but connects with net.connect(25, exchangeName), whose lookup
// goes through getaddrinfo and the system resolver. On a real machine both
// reach the same DNS; here we make that so. Anything that does not resolve
// to loopback fails, so no packet can leave the machine.

import dns, { type LookupAddress, type LookupOptions } from "node:dns";

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export function routeLookupsToWorld(server: string): void {
  dns.setServers([server]);
  const resolver = new dns.Resolver();
  resolver.setServers([server]);

  const lookup = (
    hostname: string,
    options: LookupOptions | number | LookupCallback,
    callback?: LookupCallback,
  ) => {
    const cb = (typeof options === "function" ? options : callback) as LookupCallback;
    const all = typeof options === "object" && options.all === true;
    const answer = (err: NodeJS.ErrnoException | null, addresses: string[]) => {
      const loopback = addresses.filter((a) => a.startsWith("127."));
      if (err || loopback.length === 0) {
        const notFound = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
          code: "ENOTFOUND",
          hostname,
        });
        return cb(notFound, all ? [] : "", undefined);
      }
      if (all)
        cb(
          null,
          loopback.map((address) => ({ address, family: 4 })),
        );
      else cb(null, loopback[0] as string, 4);
    };
    // What /etc/hosts would say; net.connect asks for it when an MX exchange is "" (a null MX).
    if (hostname === "localhost") return answer(null, ["127.0.0.1"]);
    resolver.resolve4(hostname, (err, addresses) => answer(err, addresses ?? []));
  };
  (dns as unknown as { lookup: typeof lookup }).lookup = lookup;
}
