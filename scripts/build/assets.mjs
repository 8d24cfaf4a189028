// Copies Swagger UI's files from the swagger-ui-dist package into the static
// assets (public/docs/), without their source-map comments: the maps are not
// served. Run by wrangler before `wrangler dev` and `wrangler deploy` ([build]).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const from = dirname(require.resolve("swagger-ui-dist/package.json"));
const to = fileURLToPath(new URL("../../public/docs/", import.meta.url));

await mkdir(to, { recursive: true });
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
  const text = await readFile(join(from, name), "utf8");
  await writeFile(join(to, name), text.replace(/\n?\/[/*]# sourceMappingURL=[^\n]*\s*$/, "\n"));
}
