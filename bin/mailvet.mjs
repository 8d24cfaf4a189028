#!/usr/bin/env node
// Runs the TypeScript CLI (src/cli/main.ts) through tsx's loader, so the
// repository needs no build step for `npx mailvet …`.
import { tsImport } from "tsx/esm/api";

const { main } = await tsImport("../src/cli/main.ts", import.meta.url);
process.exitCode = await main(process.argv.slice(2));
