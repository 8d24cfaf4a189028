#!/usr/bin/env node
// Some registries serve only the platform packages of the machine that
// resolves the lockfile, so `npm install` leaves the other platforms'
// optional binaries (biome, workerd, …) out of package-lock.json, and `npm ci`
// then refuses the lockfile as out of sync. This adds the missing entries,
// marked optional with their os/cpu, so every platform's `npm ci` accepts the
// lockfile and skips what does not match it.
//   node scripts/lock-platforms.mjs   (after any `npm install` that changes the lockfile)
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const pkgs = lock.packages;

function platformOf(name) {
  const n = name.toLowerCase();
  const os = /android/.test(n)
    ? "android"
    : /darwin/.test(n)
      ? "darwin"
      : /win32|windows/.test(n)
        ? "win32"
        : /linux/.test(n)
          ? "linux"
          : null;
  const cpu = /arm64/.test(n) ? "arm64" : /x64|-64\b|-64$/.test(n) ? "x64" : null;
  const libc = /musl/.test(n) ? "musl" : null;
  return { os, cpu, libc };
}

let added = 0;
for (const [location, meta] of Object.entries(pkgs)) {
  if (!location || !meta.optionalDependencies) continue;
  const folder = location.slice(0, location.lastIndexOf("node_modules/") + "node_modules/".length);
  for (const [name, version] of Object.entries(meta.optionalDependencies)) {
    const candidates = [`${location}/node_modules/${name}`];
    for (let dir = folder; dir; ) {
      candidates.push(`${dir}${name}`);
      const up = dir.slice(0, -"node_modules/".length);
      const i = up.lastIndexOf("node_modules/");
      dir = i < 0 ? "" : up.slice(0, i + "node_modules/".length);
    }
    // The nearest copy on the resolution path decides; a copy of another version does not count.
    const nearest = candidates.find((c) => pkgs[c]);
    if (nearest && pkgs[nearest].version === version) continue;
    if (nearest?.startsWith(folder)) continue;
    const { os, cpu, libc } = platformOf(name);
    if (!os) continue;
    pkgs[`${folder}${name}`] = {
      version,
      ...(meta.dev ? { dev: true } : {}),
      optional: true,
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(libc ? { libc: [libc] } : {}),
      os: [os],
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform entries`);
