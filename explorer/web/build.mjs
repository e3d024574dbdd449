// Builds the explorer's page into a directory (default ../dist, which is
// committed and embedded): app.js bundled by esbuild from src/main.ts and
// the TypeScript client's sources, app.css and index.html copied. The
// output depends only on the sources and the pinned versions (no
// timestamps, no legal comments, no source maps), so `make checkexplorer`
// can rebuild it elsewhere and compare byte for byte.
//
//   node build.mjs [--out DIR]

import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { out: { type: "string", default: join(here, "..", "dist") } } });
const out = resolve(values.out);

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.ts")],
  outfile: join(out, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  sourcemap: false,
  // The client's npm packages (@connectrpc/*, @bufbuild/protobuf,
  // @noble/*) come from clients/ts's lock file: one copy, the versions
  // its tests run against.
  nodePaths: [join(here, "..", "..", "clients", "ts", "node_modules")],
  logLevel: "warning",
});
for (const f of ["index.html", "app.css"]) await copyFile(join(here, "src", f), join(out, f));
