// The TypeScript client against a live coordinator: make test-clients
// (tests/clients_test.go) starts a devnet with Byzantine keepers, makes
// circom/snarkjs material and runs this with LIGHTKEEPER_URL and
// LIGHTKEEPER_SNARKJS_DIR set. Without them it is skipped.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { clone } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNode } from "../src/node.js";
import { BadCertificateError, CertificateSchema, Outcome, roundID, seedBlockMatches, verifyCertificateInBlock, isDecided } from "../src/index.js";

const url = process.env.LIGHTKEEPER_URL;
const dir = process.env.LIGHTKEEPER_SNARKJS_DIR;
const skip = !url || !dir ? "LIGHTKEEPER_URL and LIGHTKEEPER_SNARKJS_DIR not set (make test-clients sets them)" : false;
// Every client made here is closed at the end, so that node exits.
const made: { close(): void }[] = [];
after(() => made.forEach((c) => c.close()));
const client = (protocol?: "grpc") => {
  const c = connectNode(url!, protocol);
  made.push(c);
  return c;
};
const read = (name: string) => readFileSync(join(dir ?? "", name), "utf8");

test("chain, keepers, epoch", { skip }, async () => {
  const c = client();
  const info = await c.chainInfo();
  assert.ok(info.chainId.length > 0);
  assert.ok((info.params?.threshold ?? 0) > 0);
  const keepers = await c.listKeepers();
  assert.ok(keepers.length >= 10, `${keepers.length} keepers`);
  const k = await c.getKeeper(keepers[0].id);
  assert.equal(k.id, keepers[0].id);
  const epoch = await c.getEpoch();
  assert.ok(epoch.currentStartedAt !== undefined);
});

test("snarkjs proof submitted end to end, watched, certificate checked offline", { skip }, async () => {
  const c = client();
  const t0 = Date.now();
  const round = await c.submitSnarkjs({
    verificationKey: read("mul_vk.json"),
    proof: JSON.parse(read("mul_proof.json")),
    publicSignals: read("mul_public.json"),
  });
  const states: number[] = [];
  let decided;
  for await (const r of c.watchRound(round.id)) {
    states.push(r.phase);
    if (isDecided(r)) {
      decided = r;
      break;
    }
  }
  assert.ok(decided, "the stream showed the decision");
  assert.equal(decided!.outcome, Outcome.APPROVED);
  console.log(`snarkjs proof APPROVED in ${Date.now() - t0} ms (${states.length} states streamed)`);
  const { certificate, block, seedBlock } = await c.verifyCertificate(round.id);
  // The seed block submits the round (roundID recomputed here), and no other block passes for it.
  assert.ok(seedBlock.transactions.some((t) => t.kind.case === "submitRound" && t.kind.value.request && roundID(certificate.chainId, t.kind.value.request) === round.id));
  assert.throws(() => seedBlockMatches(certificate, block), (e: unknown) => e instanceof Error && /seed_block differs from block|does not submit round/.test(e.message));
  assert.equal(certificate.roundId, round.id);
  // One field changed: refused, with Go's message.
  const params = (await c.chainInfo()).params!;
  const forged = clone(CertificateSchema, certificate);
  forged.outcome = Outcome.REJECTED;
  assert.throws(() => verifyCertificateInBlock(forged, params, block), (e: unknown) => e instanceof BadCertificateError && /outcome REJECTED with \d+ rejections/.test(e.message));
  const flipped = clone(CertificateSchema, certificate);
  flipped.votes[0].signature[5] ^= 1;
  assert.throws(() => verifyCertificateInBlock(flipped, params, block), (e: unknown) => e instanceof BadCertificateError && /votes\[0\]: bad signature/.test(e.message));

  // The round is listed.
  const { rounds } = await c.listRounds(1000);
  assert.ok(rounds.some((r) => r.id === round.id));
});

test("invalid snarkjs proof REJECTED; malformed refused with the field named", { skip }, async () => {
  const c = client();
  const r = await c.submitSnarkjs({ verificationKey: read("mul_vk.json"), proof: read("mul_proof.json"), publicSignals: ["34"] });
  const d = await c.waitDecided(r.id);
  assert.equal(d.outcome, Outcome.REJECTED);
  const vk = JSON.parse(read("mul_vk.json"));
  vk.vk_gamma_2[1][0] = "12";
  await assert.rejects(
    c.submitSnarkjs({ verificationKey: vk, proof: read("mul_proof.json"), publicSignals: read("mul_public.json") }),
    (e: unknown) => e instanceof ConnectError && e.code === Code.InvalidArgument && /vk_gamma_2/.test(e.message),
  );
});

test("the same over gRPC (connect-node's gRPC transport, HTTP/2)", { skip }, async () => {
  const c = client("grpc");
  const r = await c.submitSnarkjs({ verificationKey: read("range_vk.json"), proof: read("range_proof.json"), publicSignals: read("range_public.json") });
  const d = await c.waitDecided(r.id);
  assert.equal(d.outcome, Outcome.APPROVED);
  await c.verifyCertificate(r.id);
});
