// Starts the real mail software of the suite, in Node, from vitest's global
// set-up: NSD (authoritative for the test zone), dnsdist in front of it
// serving DNS over HTTP (RFC 8484), postgrey, and one Postfix instance with
// a listener per kind of server. Everything lives in a private temporary
// directory, on ports chosen free at start-up, and is stopped at the end.
// Postfix never delivers: it has no queue manager and no transport but
// `error`, and mailvet never sends DATA.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ACCESS,
  DOH_IP,
  DOMAINS,
  LISTENERS,
  MAILBOXES,
  NSD_IP,
  POSTGREY_IP,
  RECIPIENT_CHECKS,
  RECORDS,
  ZONE,
} from "./world";

const BINARIES = {
  postfix: "/usr/lib/postfix/sbin/master",
  postgrey: "/usr/sbin/postgrey",
  nsd: "/usr/sbin/nsd",
  dnsdist: "/usr/bin/dnsdist",
};
const START_TIMEOUT_MS = 20_000;

export interface RealWorld {
  smtpPort: number;
  dohUrl: string;
  /** Where the daemons' configuration and logs are (kept on failure to start). */
  dir: string;
  stop(): Promise<void>;
}

/** Why the suite cannot run here, or null when it can. */
export function missingSoftware(): string | null {
  if (process.platform !== "linux") return "needs Linux";
  const missing = Object.entries(BINARIES)
    .filter(([, path]) => !existsSync(path))
    .map(([name]) => name);
  if (missing.length)
    return `${missing.join(", ")} not installed (apt-get install postfix postgrey nsd dnsdist)`;
  if (process.getuid?.() !== 0) return "needs root to run Postfix and NSD";
  return null;
}

export async function startRealWorld(): Promise<RealWorld> {
  const dir = await mkdtemp(join(tmpdir(), "mailvet-real-"));
  // The daemons drop to their own users after start-up and must still reach their files.
  await chmod(dir, 0o711);
  const children: ChildProcess[] = [];
  // Should the test run die without its teardown, the daemons (process groups of their own) die with it.
  const killAll = () => {
    for (const child of children) if (child.pid) tryKill(-child.pid, "SIGKILL");
  };
  process.once("exit", killAll);
  const stop = async () => {
    process.off("exit", killAll);
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const smtpPort = await freePort([...LISTENERS.map((l) => l.ip)]);
    const dnsPort = await freePort([NSD_IP], true);
    const dohPort = await freePort([DOH_IP]);
    const plainPort = await freePort([DOH_IP], true);
    const policyPort = await freePort([POSTGREY_IP]);

    children.push(await startNsd(dir, dnsPort));
    children.push(await startDnsdist(dir, dnsPort, plainPort, dohPort));
    children.push(await startPostgrey(dir, policyPort));
    children.push(await startPostfix(dir, smtpPort, policyPort));

    const dohUrl = `http://${DOH_IP}:${dohPort}/dns-query`;
    await Promise.all([
      waitFor("dnsdist", () => dohAnswers(dohUrl), children),
      ...LISTENERS.filter((l) => l.name !== "tarpit").map((l) =>
        waitFor(`postfix ${l.name}`, () => greets(l.ip, smtpPort), children),
      ),
    ]);
    return { smtpPort, dohUrl, dir, stop };
  } catch (err) {
    const logs = await tailLogs(dir);
    process.off("exit", killAll);
    await Promise.all(children.map(stopChild));
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
}

// ── NSD and dnsdist ────────────────────────────────────────────────────

async function startNsd(dir: string, port: number): Promise<ChildProcess> {
  const zoneFile = join(dir, `${ZONE}.zone`);
  await writeFile(
    zoneFile,
    [
      `$ORIGIN ${ZONE}.`,
      "$TTL 60",
      `@ SOA ns.${ZONE}. hostmaster.${ZONE}. 1 3600 600 86400 60`,
      `@ NS ns.${ZONE}.`,
      `ns A ${NSD_IP}`,
      ...RECORDS,
      "",
    ].join("\n"),
  );
  const conf = join(dir, "nsd.conf");
  await writeFile(
    conf,
    [
      "server:",
      `  ip-address: ${NSD_IP}@${port}`,
      "  do-ip6: no",
      '  username: ""',
      `  zonesdir: "${dir}"`,
      `  pidfile: "${dir}/nsd.pid"`,
      `  xfrdfile: "${dir}/xfrd.state"`,
      `  xfrdir: "${dir}"`,
      `  zonelistfile: "${dir}/zone.list"`,
      `  logfile: "${dir}/nsd.log"`,
      '  database: ""',
      "  server-count: 1",
      "  verbosity: 1",
      "remote-control:",
      "  control-enable: no",
      "zone:",
      `  name: ${ZONE}`,
      `  zonefile: "${zoneFile}"`,
      "",
    ].join("\n"),
  );
  return spawnDaemon(dir, "nsd", BINARIES.nsd, ["-d", "-c", conf]);
}

async function startDnsdist(
  dir: string,
  dnsPort: number,
  plainPort: number,
  dohPort: number,
): Promise<ChildProcess> {
  const conf = join(dir, "dnsdist.conf");
  await writeFile(
    conf,
    [
      // Plain DNS on a private port too: dnsdist would take 127.0.0.1:53 otherwise.
      `setLocal("${DOH_IP}:${plainPort}")`,
      'setSecurityPollSuffix("")',
      `newServer({address="${NSD_IP}:${dnsPort}", checkName="${ZONE}.", checkType="SOA", mustResolve=true})`,
      // No certificate: RFC 8484 over plain HTTP, as a resolver behind a TLS proxy serves it.
      `addDOHLocal("${DOH_IP}:${dohPort}", nil, nil, "/dns-query")`,
      "",
    ].join("\n"),
  );
  return spawnDaemon(dir, "dnsdist", BINARIES.dnsdist, ["--supervised", "--disable-syslog", "-C", conf]);
}

// ── postgrey ───────────────────────────────────────────────────────────

async function startPostgrey(dir: string, port: number): Promise<ChildProcess> {
  const db = join(dir, "postgrey");
  await mkdir(db);
  const postgrey = userIds("postgrey");
  await chown(db, postgrey.uid, postgrey.gid);
  const empty = join(dir, "empty");
  await writeFile(empty, "");
  return spawnDaemon(dir, "postgrey", BINARIES.postgrey, [
    `--inet=${POSTGREY_IP}:${port}`,
    `--dbdir=${db}`,
    "--delay=1",
    "--auto-whitelist-clients=0",
    `--whitelist-clients=${empty}`,
    `--whitelist-recipients=${empty}`,
    `--pidfile=${join(dir, "postgrey.pid")}`,
  ]);
}

// ── Postfix ────────────────────────────────────────────────────────────

async function startPostfix(dir: string, port: number, policyPort: number): Promise<ChildProcess> {
  const conf = join(dir, "postfix");
  const queue = join(dir, "queue");
  const data = join(dir, "data");
  const postfix = userIds("postfix");
  await mkdir(conf);
  for (const sub of ["", "pid", "incoming", "private", "public", "maildrop", "active", "deferred", "hold"]) {
    await mkdir(join(queue, sub), { recursive: true });
    if (sub && sub !== "pid") await chown(join(queue, sub), postfix.uid, postfix.gid);
  }
  await mkdir(data);
  await chown(data, postfix.uid, postfix.gid);

  const access = join(conf, "access");
  await writeFile(
    access,
    `${Object.entries(ACCESS)
      .map(([k, v]) => `${k} ${v}`)
      .join("\n")}\n`,
  );
  const mailboxes = join(conf, "mailboxes");
  const lines = Object.entries(MAILBOXES).flatMap(([d, names]) => names.map((n) => `${n}@${d}.${ZONE} ok`));
  lines.push(`@catchall.${ZONE} ok`);
  await writeFile(mailboxes, `${lines.join("\n")}\n`);

  const fill = (value: string) =>
    value.replaceAll("%ACCESS%", access).replaceAll("%POLICY%", `${POSTGREY_IP}:${policyPort}`);
  await writeFile(
    join(conf, "main.cf"),
    [
      "compatibility_level = 3.6",
      `queue_directory = ${queue}`,
      `data_directory = ${data}`,
      "myhostname = mx.realmail.test",
      "mydomain = realmail.test",
      "mydestination =",
      "relay_domains =",
      "alias_maps =",
      "alias_database =",
      "local_recipient_maps =",
      "inet_interfaces = all",
      "inet_protocols = ipv4",
      // Nobody is trusted: the limits apply to our client too.
      "mynetworks = 192.0.2.1/32",
      "smtpd_client_event_limit_exceptions =",
      `virtual_mailbox_domains = ${DOMAINS.join(", ")}`,
      `virtual_mailbox_maps = texthash:${mailboxes}`,
      // Nothing is ever delivered or relayed: there is no queue manager to
      // run a transport, and `discard` is not even in master.cf.
      "virtual_transport = discard",
      "default_transport = error:never relayed",
      "smtpd_relay_restrictions = reject_unauth_destination",
      `smtpd_recipient_restrictions = ${fill(RECIPIENT_CHECKS)}, permit`,
      "smtpd_banner = $myhostname ESMTP",
      "smtpd_peername_lookup = no",
      "smtp_dns_support_level = disabled",
      "biff = no",
      // Logs go to master's standard output, which lands in postfix.out.
      "maillog_file = /dev/stdout",
      "",
    ].join("\n"),
  );
  const smtpd = LISTENERS.map((l) => {
    const opts = Object.entries({ syslog_name: `postfix/${l.name}`, ...l.overrides })
      .map(([k, v]) => `-o ${k}=${fill(v)}`)
      .join(" ");
    return `${l.ip}:${port} inet n - n - - smtpd ${opts}`;
  });
  await writeFile(
    join(conf, "master.cf"),
    [
      ...smtpd,
      "cleanup unix n - n - 0 cleanup",
      "rewrite unix - - n - - trivial-rewrite",
      "anvil unix - - n - 1 anvil",
      "proxymap unix - - n - - proxymap",
      "postlog unix-dgram n - n - 1 postlogd",
      "",
    ].join("\n"),
  );
  return spawnDaemon(dir, "postfix", BINARIES.postfix, ["-d", "-c", conf]);
}

// ── Processes ──────────────────────────────────────────────────────────

async function spawnDaemon(dir: string, name: string, bin: string, args: string[]): Promise<ChildProcess> {
  const log = join(dir, `${name}.out`);
  const { openSync } = await import("node:fs");
  const fd = openSync(log, "a");
  // A process group of its own, so stopping it reaches its children too.
  const child = spawn(bin, args, { stdio: ["ignore", fd, fd], detached: true });
  child.on("error", () => {});
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    if (!tryKill(-child.pid!, name)) child.kill(name);
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

function tryKill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, ready: () => Promise<boolean>, children: ChildProcess[]) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`${dead.spawnfile} exited with ${dead.exitCode} before ${what} was ready`);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready within ${START_TIMEOUT_MS} ms`);
}

function greets(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000, () => socket.destroy());
    socket.once("data", (data) => {
      resolve(data.toString().startsWith("220"));
      socket.end("QUIT\r\n");
    });
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
    socket.connect(port, ip);
  });
}

/** dnsdist answers the zone's SOA over DoH (which also means NSD is up and checked healthy). */
async function dohAnswers(url: string): Promise<boolean> {
  // A minimal query: id 0, RD, one question (ZONE SOA IN).
  const qname = Buffer.concat([
    ...ZONE.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
  const query = Buffer.concat([
    Buffer.from([0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    qname,
    Buffer.from([0, 6, 0, 1]),
  ]);
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/dns-message", accept: "application/dns-message" },
    body: query,
    signal: AbortSignal.timeout(1000),
  });
  if (!res.ok) return false;
  const answer = Buffer.from(await res.arrayBuffer());
  // NOERROR with one answer.
  return (answer[3]! & 0x0f) === 0 && answer.readUInt16BE(6) === 1;
}

function userIds(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", user]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", user]).toString().trim());
  return { uid, gid };
}

/** A port nothing listens on at any of `ips` (TCP, and UDP when asked). */
async function freePort(ips: string[], udp = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await Promise.all(ips.map((ip) => tcpFree(ip, port)))).every(Boolean)) {
      if (!udp || (await udpFree(ips[0]!, port))) return port;
    }
  }
  throw new Error("no free port found");
}

function tcpFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, ip, () => server.close(() => resolve(true)));
  });
}

async function udpFree(ip: string, port: number): Promise<boolean> {
  const { createSocket } = await import("node:dgram");
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => resolve(false));
    socket.bind(port, ip, () => socket.close(() => resolve(true)));
  });
}

async function tailLogs(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const name of ["nsd.out", "nsd.log", "dnsdist.out", "postgrey.out", "postfix.out"]) {
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    if (text) parts.push(`--- ${name}\n${text.split("\n").slice(-15).join("\n")}`);
  }
  return parts.join("\n");
}
