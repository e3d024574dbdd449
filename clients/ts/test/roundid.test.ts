// roundID matches Go's protocol.RoundID (coordinator/state
// TestRoundIDOneofOrder pins the same value): Go's deterministic encoding
// writes the payload oneof after client_nonce.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { RoundRequestSchema, goDeterministicBinary, roundID } from "../src/index.js";

test("roundID as Go computes it", () => {
  const r = create(RoundRequestSchema, {
    clientNonce: "n1",
    payload: { case: "proof", value: { scheme: 1, curve: 1, verifyingKeyId: "ab", proof: new Uint8Array([1, 2]), publicInputs: new TextEncoder().encode('["1"]') } },
  });
  assert.equal(roundID("lightkeeper-test", r), "dd96d7472ed9b5c9d2cdf9f2a69af48ecff065b815937fb9dfd9c8200f8d151c");
  // Same bytes, another order than protobuf-es's own.
  const go = goDeterministicBinary(RoundRequestSchema, r);
  const es = toBinary(RoundRequestSchema, r);
  assert.equal(go.length, es.length);
  assert.equal(go[0], 0x7a); // field 15 first
  assert.equal(es[0], 0x0a); // field 1 first
});
