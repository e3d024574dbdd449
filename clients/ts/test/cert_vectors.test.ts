// The Go ↔ TypeScript certificate vectors: coordinator/state's
// TestCertificateTampering writes real certificates (made by the state
// machine from real signed votes), their deciding blocks and the chain's
// parameters, and every single and paired tampering with the Go verifier's
// refusal (go test ./coordinator/state -run TestCertificateTampering
// -update; the Go test fails when the files drift). Here the TypeScript
// checker must accept each certificate and refuse each tampering the same
// way: same refused_by, same message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { BlockSchema, CertificateSchema, ConsensusParamsSchema } from "../src/gen/lightkeeper/v1/types_pb.js";
import { BadCertificateError, certificateInBlock, verifyCertificate, verifyCertificateInBlock } from "../src/cert.js";

const here = dirname(fileURLToPath(import.meta.url));
// dist/test → the repository root.
const dir = process.env.LIGHTKEEPER_CERT_VECTORS ?? join(here, "..", "..", "..", "..", "coordinator", "state", "testdata", "certs");

interface Op {
  op: "add" | "remove" | "replace";
  path: string;
  value?: JsonValue;
}
interface Tampering {
  name: string;
  patch: Op[];
  refused_by: string;
  reason: string;
}

// applyPatch is RFC 6902 add/remove/replace, as the Go test applies it.
function applyPatch(doc: JsonValue, ops: Op[]): JsonValue {
  const root = structuredClone(doc);
  for (const op of ops) {
    const parts = op.path.split("/").slice(1).map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
    let node: any = root;
    for (const p of parts.slice(0, -1)) node = node[Array.isArray(node) ? Number(p) : p];
    const key = parts[parts.length - 1];
    if (Array.isArray(node)) {
      if (key === "-" && op.op === "add") node.push(op.value);
      else if (op.op === "remove") node.splice(Number(key), 1);
      else if (op.op === "add") node.splice(Number(key), 0, op.value);
      else node[Number(key)] = op.value;
    } else if (op.op === "remove") delete node[key];
    else node[key] = op.value;
  }
  return root;
}

const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();

test("vector files exist", () => assert.ok(files.length >= 4, `vectors in ${dir}`));

for (const f of files) {
  test(`certificate vectors ${f}`, () => {
    const v = JSON.parse(readFileSync(join(dir, f), "utf8"));
    const params = fromJson(ConsensusParamsSchema, v.params);
    const cert = fromJson(CertificateSchema, v.certificate);
    const block = fromJson(BlockSchema, v.block);
    verifyCertificate(cert, params);
    certificateInBlock(cert, block);
    verifyCertificateInBlock(cert, params, block);
    const mismatches: string[] = [];
    let offline = 0;
    let inBlock = 0;
    for (const t of v.tamperings as Tampering[]) {
      let c;
      try {
        c = fromJson(CertificateSchema, applyPatch(v.certificate, t.patch));
      } catch (e) {
        mismatches.push(`${t.name}: does not parse here (${(e as Error).message}), Go refused it ${t.refused_by}: ${t.reason}`);
        continue;
      }
      let got = "nobody (informational field)";
      let reason = "";
      try {
        verifyCertificate(c, params);
      } catch (e) {
        if (!(e instanceof BadCertificateError)) throw e;
        if (!e.needsBlock) [got, reason] = ["offline", e.message];
      }
      if (got !== "offline") {
        try {
          certificateInBlock(c, block);
        } catch (e) {
          [got, reason] = ["block", (e as Error).message];
        }
      }
      if (got === "offline") offline++;
      if (got === "block") inBlock++;
      if (got !== t.refused_by || reason !== t.reason) {
        mismatches.push(`${t.name}:\n   go: ${t.refused_by}: ${t.reason}\n   ts: ${got}: ${reason}`);
      }
    }
    assert.equal(mismatches.length, 0, `${mismatches.length} of ${v.tamperings.length} differ:\n` + mismatches.slice(0, 20).join("\n"));
    console.log(`${f}: ${v.tamperings.length} tamperings, ${offline} refused offline, ${inBlock} by the block, all as in Go`);
  });
}
