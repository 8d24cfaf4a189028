#!/usr/bin/env node
// Creates an API key for an account in the LOCAL D1 database (wrangler dev
// state), applying migrations first. Prints the key once; only its SHA-256 is stored.
// Flags after the account go to both wrangler commands, so the key lands in the
// database `npm start` serves with the same flags.
//   npm run key:create -- <account> [--persist-to DIR] [--env NAME] [--config FILE]
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";

const [account, ...wranglerFlags] = process.argv.slice(2);
if (!account || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(account)) {
  console.error("usage: npm run key:create -- <account>   (letters, digits, '_', '.', '-'; at most 64)");
  process.exit(2);
}
const key = `mv_${randomBytes(32).toString("base64url")}`;
const id = `key_${randomBytes(9).toString("base64url")}`;
const hash = createHash("sha256").update(key).digest("hex");
const wrangler = (args) => execFileSync("wrangler", args, { stdio: ["ignore", "ignore", "inherit"] });

wrangler(["d1", "migrations", "apply", "DB", "--local", ...wranglerFlags]);
wrangler([
  "d1",
  "execute",
  "DB",
  "--local",
  ...wranglerFlags,
  "--command",
  `INSERT INTO api_keys (id, account_id, key_hash, created_at) VALUES ('${id}', '${account}', '${hash}', ${Date.now()})`,
]);
console.log(JSON.stringify({ id, account, key }, null, 2));
