// Runs the fixture mail world in a process of its own and prints its ports as
// one JSON line. The load script uses it so that the SMTP and DoH work of the
// fixtures does not share an event loop with the client whose latencies it
// measures. It stops when its parent closes stdin or signals it.

import { startMailWorld } from "./mail-world";

const world = await startMailWorld();
const { close, ...ports } = world;
process.stdout.write(`${JSON.stringify(ports)}\n`);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(0), 3000).unref();
  void close().finally(() => process.exit(0));
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
