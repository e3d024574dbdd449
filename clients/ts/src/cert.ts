// Offline certificate checks, the TypeScript twin of Go's
// coordinator/state VerifyCertificate, CertificateInBlock and
// VerifyCertificateInBlock (cert.go, committee.go, hash.go, compute.go) and
// protocol.VoteSignBytes. Every refusal carries the Go verifier's message
// byte for byte: the shared vectors of coordinator/state/testdata/certs
// are checked by both (clients/ts/test/cert_vectors.test.ts).
//
// No hand-written cryptography: SHA-256 from @noble/hashes, ed25519 from
// @noble/curves (RFC 8032 verification, zip215 off, like Go's
// crypto/ed25519), the deterministic protobuf encoding from
// @bufbuild/protobuf (fields in number order, like Go's Deterministic).

import { clone, create, fromBinary, toBinary, type DescEnum, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { TxBodySchema } from "./gen/lightkeeper/v1/staking_pb.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  type Block,
  type BlockHeader,
  type Certificate,
  type ChallengeReveal,
  type ConsensusParams,
  type Evidence,
  type RoundRequest,
  type SignedTx,
  type WeightedKeeper,
  BlockHeaderSchema,
  CertificateSchema,
  ChallengeRevealSchema,
  ConsensusParamsSchema,
  EvidenceSchema,
  RoundRequestSchema,
  OutcomeSchema,
  RoundKindSchema,
  VoteKindSchema,
  Outcome,
  RoundKind,
  VoteKind,
} from "./gen/lightkeeper/v1/types_pb.js";

const enc = new TextEncoder();

export const ROUND_DOMAIN = "lightkeeper/round/v1\x00";
export const VOTE_DOMAIN = "lightkeeper/vote/v1\x00";
export const BLOCK_DOMAIN = "lightkeeper/block/v1\x00";
export const SEED_DOMAIN = "lightkeeper/committee-seed/v1\x00";
export const PARAMS_DOMAIN = "lightkeeper/params/v1\x00";
export const COMPUTE_RESULT_DOMAIN = "lightkeeper/compute/result/v1\x00";
export const CHALLENGE_DOMAIN = "lightkeeper/challenge/v1\x00";
export const ELIGIBLE_DOMAIN = "lightkeeper/eligible/v1\x00";
/** BlockHeader.entropy is 0 or ENTROPY_LEN bytes. */
export const ENTROPY_LEN = 32;
/** verifier/compute.TrapIndirectCall, the largest trap kind. */
const MAX_TRAP = 8;
const U64_MAX = (1n << 64n) - 1n;

/** Every refusal of verifyCertificate. message is Go's error text. */
export class BadCertificateError extends Error {
  /** The certificate is consistent but only its deciding block can confirm
   * it (Go's ErrNeedsBlock: a withdrawal voided at the decision). */
  readonly needsBlock: boolean;
  constructor(message: string, needsBlock = false) {
    super(message);
    this.name = "BadCertificateError";
    this.needsBlock = needsBlock;
  }
}

/** A refusal of certificateInBlock (Go's message, without a prefix). */
export class NotInBlockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotInBlockError";
  }
}

// ---- small helpers that print like Go's fmt ----

export function hex(b: Uint8Array | undefined): string {
  let s = "";
  for (const x of b ?? []) s += x.toString(16).padStart(2, "0");
  return s;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function eq(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  a ??= new Uint8Array();
  b ??= new Uint8Array();
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function u16be(n: number): Uint8Array {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

function u32be(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function u64be(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, n));
  return out;
}

/** Go's %v of a protobuf enum: its name, or the number when unknown. */
function enumName(e: DescEnum, n: number): string {
  return e.values.find((v) => v.number === n)?.name ?? String(n);
}

/** Go's strconv.Quote (%q) for the strings a certificate carries. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case "\\": out += "\\\\"; continue;
      case "\x07": out += "\\a"; continue;
      case "\b": out += "\\b"; continue;
      case "\f": out += "\\f"; continue;
      case "\n": out += "\\n"; continue;
      case "\r": out += "\\r"; continue;
      case "\t": out += "\\t"; continue;
      case "\v": out += "\\v"; continue;
    }
    if (ch === " " || !/[\p{C}\p{Z}]/u.test(ch)) out += ch;
    else if (c < 0x80) out += "\\x" + c.toString(16).padStart(2, "0");
    else if (c < 0x10000) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += "\\U" + c.toString(16).padStart(8, "0");
  }
  return out + '"';
}

/** Go's parseID: 64 lowercase hex digits, decoded. */
export function parseID(s: string): Uint8Array | undefined {
  if (!/^[0-9a-f]{64}$/.test(s)) return undefined;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function unixMilli(h: BlockHeader | undefined): bigint {
  const t = h?.time;
  if (!t) return 0n;
  return t.seconds * 1000n + BigInt(Math.floor(t.nanos / 1e6));
}

// ---- hashes (coordinator/state/hash.go) ----

/**
 * SHA-256 of the deterministic protobuf encoding of a certificate. A
 * certificate with eligible_hash is hashed without its eligible list (the
 * deciding block commits to the hash; the API fills the list in).
 */
export function certificateHash(c: Certificate): Uint8Array {
  if (c.eligibleHash.length > 0 && c.eligible.length > 0) {
    c = { ...c, eligible: [] };
  }
  return sha256(toBinary(CertificateSchema, c));
}

/**
 * EligibleListHash: SHA-256(ELIGIBLE_DOMAIN ‖ u32be(n) ‖ for each keeper:
 * id as 32 raw bytes ‖ u64be(weight)) of a list checked as
 * checkEligibleList does. Throws Go's error text.
 */
export function eligibleListHash(eligible: WeightedKeeper[]): Uint8Array {
  checkEligibleList(eligible);
  const parts: Uint8Array[] = [enc.encode(ELIGIBLE_DOMAIN), u32be(eligible.length)];
  for (const e of eligible) parts.push(parseID(e.keeperId)!, u64be(e.weight));
  return sha256(concat(...parts));
}

export function evidenceHash(e: Evidence): Uint8Array {
  return sha256(toBinary(EvidenceSchema, e));
}

export function challengeRevealHash(r: ChallengeReveal): Uint8Array {
  return sha256(concat(enc.encode(CHALLENGE_DOMAIN), toBinary(ChallengeRevealSchema, r)));
}

/** SHA-256 of each certificate's, evidence's and reveal's hash. */
export function resultsHash(certs: Certificate[], evidence: Evidence[], reveals: ChallengeReveal[]): Uint8Array {
  return sha256(concat(...certs.map(certificateHash), ...evidence.map(evidenceHash), ...reveals.map(challengeRevealHash)));
}

/** SHA-256(BlockDomain ‖ u64 height ‖ i64 ms ‖ previous ‖ txs ‖ results ‖ entropy). */
export function blockHash(h: BlockHeader | undefined): Uint8Array {
  return sha256(
    concat(
      enc.encode(BLOCK_DOMAIN),
      u64be(h?.height ?? 0n),
      u64be(unixMilli(h)),
      h?.previousHash ?? new Uint8Array(),
      h?.transactionsHash ?? new Uint8Array(),
      h?.resultsHash ?? new Uint8Array(),
      h?.entropy ?? new Uint8Array(),
    ),
  );
}

/** The committee seed of the rounds a block opens (results_hash ignored). */
export function committeeSeed(h: BlockHeader | undefined): Uint8Array {
  return sha256(
    concat(
      enc.encode(SEED_DOMAIN),
      u64be(h?.height ?? 0n),
      u64be(unixMilli(h)),
      h?.previousHash ?? new Uint8Array(),
      h?.transactionsHash ?? new Uint8Array(),
      h?.entropy ?? new Uint8Array(),
    ),
  );
}

/** SHA-256(ParamsDomain ‖ u16 len ‖ chain id ‖ deterministic protobuf of p). */
export function paramsHash(chainId: string, p: ConsensusParams): Uint8Array | undefined {
  const id = enc.encode(chainId);
  if (id.length > 0xffff) return undefined;
  return sha256(concat(enc.encode(PARAMS_DOMAIN), u16be(id.length), id, toBinary(ConsensusParamsSchema, p)));
}

/** protocol.VoteSignBytes. */
export function voteSignBytes(chainId: string, roundId: Uint8Array, keeperId: Uint8Array, kind: number, resultHash: Uint8Array): Uint8Array | undefined {
  const id = enc.encode(chainId);
  if (id.length > 0xffff || keeperId.length !== 32 || !(kind >= 1 && kind <= 3)) return undefined;
  return concat(enc.encode(VOTE_DOMAIN), u16be(id.length), id, roundId, keeperId, new Uint8Array([kind]), resultHash);
}

/** protocol.VerifyVote. */
export function verifyVote(chainId: string, roundId: Uint8Array, keeperId: Uint8Array, kind: number, resultHash: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  const msg = voteSignBytes(chainId, roundId, keeperId, kind, resultHash);
  if (!msg) return false;
  try {
    return ed25519.verify(sig, msg, keeperId, { zip215: false });
  } catch {
    return false;
  }
}

/** verifier/compute.ResultHashFromOutputHash. */
export function computeResultHash(trap: number, exitCode: number, fuelUsed: bigint, outputHash: Uint8Array): Uint8Array {
  return sha256(concat(enc.encode(COMPUTE_RESULT_DOMAIN), new Uint8Array([trap & 0xff]), u32be(exitCode), u64be(fuelUsed), outputHash));
}

// ---- committees (coordinator/state/committee.go) ----

/**
 * DrawCommittee: seat k takes r = SHA-256(seed ‖ round id ‖ u32be(k)) as a
 * big-endian integer mod the weight not yet drawn, then walks the eligible
 * keepers in id order (skipping drawn ones and zero weights) subtracting
 * weights until r falls in one. Throws Go's error text.
 */
export function drawCommittee(seed: Uint8Array, roundId: string, eligible: WeightedKeeper[], size: number): string[] {
  const { total: listTotal, nonZero } = checkEligibleList(eligible);
  const rid = parseID(roundId);
  if (!rid) throw new Error(`invalid request: round id ${goQuote(roundId)} is not 64 lowercase hex digits`);
  let total = listTotal;
  if (size < 0 || size > nonZero) {
    throw new Error(`not enough eligible keepers: committee size ${size}, but only ${nonZero} eligible keepers have a non-zero weight`);
  }
  const taken = new Array<boolean>(eligible.length).fill(false);
  const committee: string[] = [];
  for (let k = 0; k < size; k++) {
    const h = sha256(concat(seed, rid, u32be(k)));
    let r = BigInt("0x" + hex(h)) % total;
    let picked = -1;
    for (let i = 0; i < eligible.length; i++) {
      const w = eligible[i].weight;
      if (taken[i] || w === 0n) continue;
      if (r < w) {
        picked = i;
        break;
      }
      r -= w;
    }
    if (picked < 0) throw new Error("state: committee draw fell off the eligible list");
    taken[picked] = true;
    total -= eligible[picked].weight;
    committee.push(eligible[picked].keeperId);
  }
  return committee;
}

/**
 * NewEligibleList's checks: ids well formed and strictly increasing, total
 * weight within 64 bits. Throws Go's error text.
 */
export function checkEligibleList(eligible: WeightedKeeper[]): { total: bigint; nonZero: number } {
  let total = 0n;
  let nonZero = 0;
  eligible.forEach((e, i) => {
    if (!parseID(e.keeperId)) throw new Error(`invalid request: eligible[${i}]: keeper id ${goQuote(e.keeperId)} is not 64 lowercase hex digits`);
    if (i > 0 && eligible[i - 1].keeperId >= e.keeperId) throw new Error(`invalid request: eligible[${i}]: keeper ids not strictly increasing`);
    total += e.weight;
    if (total > U64_MAX) throw new Error("invalid request: eligible: total weight overflows 64 bits");
    if (e.weight > 0n) nonZero++;
  });
  return { total, nonZero };
}

/**
 * Go's checkEligible: eligible_hash is 32 bytes, the list is present and
 * hashes to it. Returns Go's error text (without "bad certificate: "), or
 * undefined.
 */
function checkEligible(c: Certificate): string | undefined {
  if (c.eligibleHash.length !== 32) return `eligible_hash: ${c.eligibleHash.length} bytes, want 32`;
  if (c.eligible.length === 0) {
    return `eligible list missing: the certificate carries only eligible_hash ${hex(c.eligibleHash)}, not the list it names: fetch the certificate from the API (GetCertificate, 'lightkeeper verify-cert ID --save FILE'), which fills it in`;
  }
  let h: Uint8Array;
  try {
    h = eligibleListHash(c.eligible);
  } catch (e) {
    return `eligible: cannot recompute the committee: ${(e as Error).message}`;
  }
  if (!eq(h, c.eligibleHash)) {
    return `eligible list does not match eligible_hash: the ${c.eligible.length} keepers delivered hash to ${hex(h)}, eligible_hash is ${hex(c.eligibleHash)}`;
  }
  return undefined;
}

export interface Rule {
  size: number;
  threshold: number;
  rejectThreshold: number;
}

/** CommitteeRule (candidates = false: what an offline check can use). */
export function committeeRule(p: ConsensusParams, kind: RoundKind, eligible: WeightedKeeper[]): Rule {
  let seats = p.totalValidators;
  let threshold = p.threshold;
  const compute = kind === RoundKind.COMPUTE;
  if (compute) {
    seats = p.computeValidators;
    threshold = Math.floor(p.computeValidators / 2) + 1;
  }
  const nonZero = eligible.filter((w) => w.weight > 0n).length;
  const size = Math.min(seats, nonZero);
  if (size < threshold) {
    throw new Error(`not enough eligible keepers: have ${nonZero} eligible keepers, need at least threshold ${threshold}`);
  }
  return { size, threshold, rejectThreshold: compute ? threshold : size - threshold + 1 };
}

function outcomeName(o: Outcome): string {
  switch (o) {
    case Outcome.APPROVED: return "APPROVED";
    case Outcome.REJECTED: return "REJECTED";
    case Outcome.TIMEOUT: return "TIMEOUT";
  }
  return enumName(OutcomeSchema, o);
}

function timestampValid(t: { seconds: bigint; nanos: number }): boolean {
  return t.seconds >= -62135596800n && t.seconds <= 253402300799n && t.nanos >= 0 && t.nanos < 1e9;
}

function checkSeedBlock(c: Certificate): string | undefined {
  const h = c.seedBlock;
  if (!h) return "seed_block: missing";
  if (!h.time || !timestampValid(h.time)) return "seed_block.time: missing or invalid";
  if (h.previousHash.length !== 32 || h.transactionsHash.length !== 32) return "seed_block: previous_hash and transactions_hash must be 32 bytes";
  if (h.resultsHash.length !== 0) return "seed_block.results_hash: set, but the seed is fixed before the block's transactions run";
  if (h.entropy.length !== 0 && h.entropy.length !== ENTROPY_LEN) return `seed_block.entropy: ${h.entropy.length} bytes, want 0 or ${ENTROPY_LEN}`;
  if (h.height === 0n || h.height > c.height) return `seed_block.height: ${h.height}, decided at height ${c.height}`;
  const want = committeeSeed(h);
  if (!eq(c.seed, want)) return `seed: ${hex(c.seed)} is not CommitteeSeed(seed_block) = ${hex(want)}`;
  return undefined;
}

/**
 * verifyCertificate checks a certificate offline against the consensus
 * parameters of the chain the caller trusts, exactly as Go's
 * protocol.VerifyCertificate: params hash, seed block, the eligible list
 * against eligible_hash, committee size and thresholds from the chain's
 * rule, the committee recomputed from its seed, every vote's signature, and the tally against the outcome (and a
 * compute certificate's results). It throws a BadCertificateError whose
 * message is Go's.
 */
export function verifyCertificate(c: Certificate | undefined, p: ConsensusParams | undefined): void {
  const bad = (m: string): never => {
    throw new BadCertificateError("bad certificate: " + m);
  };
  if (!c) return bad("missing");
  if (!p) return bad("no consensus parameters to check it against: committee size and thresholds cannot be checked");
  if (c.chainId === "") return bad("chain_id: empty");
  const want = paramsHash(c.chainId, p);
  if (!want || !eq(c.paramsHash, want)) {
    return bad(`params_hash: ${hex(c.paramsHash)}, but the trusted parameters of chain ${goQuote(c.chainId)} hash to ${hex(want)}`);
  }
  const rid = parseID(c.roundId);
  if (!rid) return bad(`round_id: ${goQuote(c.roundId)} is not 64 lowercase hex digits`);
  if (c.kind !== RoundKind.PROOF && c.kind !== RoundKind.WITHDRAWAL && c.kind !== RoundKind.COMPUTE) {
    return bad(`kind: ${enumName(RoundKindSchema, c.kind)} is not a round kind`);
  }
  if (c.outcome !== Outcome.APPROVED && c.outcome !== Outcome.REJECTED && c.outcome !== Outcome.TIMEOUT) {
    return bad(`outcome: ${enumName(OutcomeSchema, c.outcome)} is not a decision`);
  }
  const seedErr = checkSeedBlock(c);
  if (seedErr) return bad(seedErr);
  const eligibleErr = checkEligible(c);
  if (eligibleErr) return bad(eligibleErr);
  let rule: Rule;
  try {
    rule = committeeRule(p, c.kind, c.eligible);
  } catch (e) {
    return bad(`eligible: ${(e as Error).message}`);
  }
  const size = c.committee.length;
  if (size !== rule.size) return bad(`committee: ${size} seats, but the chain's rule gives ${rule.size} for ${c.eligible.length} eligible keepers`);
  if (c.threshold !== rule.threshold) {
    return bad(`threshold: ${c.threshold}, but the chain's rule gives ${rule.threshold} (a lower one only for a random challenge to candidates, which cannot be checked offline)`);
  }
  if (c.rejectThreshold !== rule.rejectThreshold) return bad(`reject_threshold: ${c.rejectThreshold}, but the chain's rule gives ${rule.rejectThreshold}`);
  const compute = c.kind === RoundKind.COMPUTE;
  let committee: string[];
  try {
    committee = drawCommittee(c.seed, c.roundId, c.eligible, size);
  } catch (e) {
    return bad(`committee: cannot recompute: ${(e as Error).message}`);
  }
  const seat = new Map<string, number>();
  committee.forEach((id, i) => {
    if (c.committee[i] !== id) bad(`committee[${i}]: ${c.committee[i]}, recomputed ${id}`);
    seat.set(id, i);
  });
  const voted = new Set<string>();
  let approvals = 0;
  let rejections = 0;
  c.votes.forEach((v, i) => {
    if (v.roundId !== c.roundId) bad(`votes[${i}]: round_id ${goQuote(v.roundId)}, want ${c.roundId}`);
    const kid = v.keeperId;
    if (!seat.has(kid)) bad(`votes[${i}]: keeper ${goQuote(kid)} is not in the committee`);
    if (voted.has(kid)) bad(`votes[${i}]: second vote by keeper ${kid}`);
    voted.add(kid);
    if (!(v.kind >= VoteKind.APPROVE && v.kind <= VoteKind.ABSTAIN)) bad(`votes[${i}]: kind ${enumName(VoteKindSchema, v.kind)}`);
    if (v.resultHash.length !== 32) bad(`votes[${i}]: result_hash is ${v.resultHash.length} bytes, want 32`);
    if (!verifyVote(c.chainId, rid, parseID(kid)!, v.kind, v.resultHash, v.signature)) bad(`votes[${i}]: bad signature by keeper ${kid}`);
    if (v.kind === VoteKind.APPROVE) approvals++;
    if (v.kind === VoteKind.REJECT) rejections++;
  });
  if (compute) return verifyComputeCertificate(c, bad);
  if (c.resultHash.length !== 0 || c.result !== undefined) return bad(`result: set on a ${enumName(RoundKindSchema, c.kind)} round`);
  const approved = approvals >= c.threshold;
  const rejected = rejections >= c.rejectThreshold;
  switch (c.outcome) {
    case Outcome.APPROVED:
      if (!approved) bad(`outcome APPROVED with ${approvals} approvals, threshold ${c.threshold}`);
      break;
    case Outcome.REJECTED: {
      const voided = c.kind === RoundKind.WITHDRAWAL && approved;
      if (!rejected && !voided) bad(`outcome REJECTED with ${rejections} rejections, reject_threshold ${c.rejectThreshold}`);
      if (!rejected) {
        throw new BadCertificateError(
          `bad certificate: can only be checked against its deciding block: REJECTED with ${approvals} approvals at threshold ${c.threshold} is a withdrawal voided at the decision`,
          true,
        );
      }
      break;
    }
    case Outcome.TIMEOUT:
      if (approved || rejected) {
        bad(`outcome TIMEOUT with ${approvals} approvals (threshold ${c.threshold}) and ${rejections} rejections (reject_threshold ${c.rejectThreshold})`);
      }
      break;
  }
}

function verifyComputeCertificate(c: Certificate, bad: (m: string) => never): void {
  const size = c.committee.length;
  if (c.rejectThreshold !== c.threshold || 2 * c.threshold <= size) {
    bad(`compute thresholds ${c.threshold}/${c.rejectThreshold}: want one majority threshold of the ${size}-keeper committee`);
  }
  const count = new Map<string, number>();
  c.votes.forEach((v, i) => {
    if (v.kind === VoteKind.ABSTAIN) return;
    const cv = v.compute;
    if (!cv || cv.outputHash.length !== 32 || cv.trap > MAX_TRAP || (v.kind === VoteKind.APPROVE) !== (cv.trap === 0)) {
      bad(`votes[${i}]: compute result missing or inconsistent with the vote kind`);
    }
    if (!eq(computeResultHash(cv!.trap, cv!.exitCode, cv!.fuelUsed, cv!.outputHash), v.resultHash)) {
      bad(`votes[${i}]: result_hash does not match its compute result`);
    }
    const k = `${v.kind}/${hex(v.resultHash)}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  });
  let reached = "";
  for (const [k, n] of count) if (n >= c.threshold) reached = k;
  if (c.outcome === Outcome.TIMEOUT) {
    if (reached !== "") bad(`outcome TIMEOUT, but ${count.get(reached)} votes agree on one result (threshold ${c.threshold})`);
    if (c.resultHash.length !== 0 || c.result !== undefined) bad("outcome TIMEOUT with a result");
    return;
  }
  const kind = c.outcome === Outcome.REJECTED ? VoteKind.REJECT : VoteKind.APPROVE;
  const want = `${kind}/${hex(c.resultHash)}`;
  if ((count.get(want) ?? 0) < c.threshold) {
    bad(`outcome ${outcomeName(c.outcome)} with ${count.get(want) ?? 0} votes for result ${hex(c.resultHash)}, threshold ${c.threshold}`);
  }
  const r = c.result;
  if (!r || r.outputHash.length !== 32 || r.trap > MAX_TRAP) bad("result: missing or malformed");
  if (!eq(computeResultHash(r!.trap, r!.exitCode, r!.fuelUsed, r!.outputHash), c.resultHash)) bad("result does not hash to result_hash");
}

/**
 * certificateInBlock checks that b is well formed (hash matches header,
 * results hash matches its certificates, evidence and reveals), is the
 * deciding block, and contains exactly this certificate (compared without
 * the challenge answer the API attaches). Throws NotInBlockError with Go's
 * message.
 */
export function certificateInBlock(cert: Certificate, b: Block | undefined): void {
  if (!eq(blockHash(b?.header), b?.hash)) throw new NotInBlockError("block hash does not match its header");
  const height = b?.header?.height ?? 0n;
  if (height !== cert.height) throw new NotInBlockError(`block ${height} is not the deciding block ${cert.height}`);
  if (cert.challenge !== undefined) {
    cert = clone(CertificateSchema, cert);
    cert.challenge = undefined;
  }
  const want = certificateHash(cert);
  for (const c of b!.certificates) {
    if (eq(certificateHash(c), want)) {
      if (!eq(resultsHash(b!.certificates, b!.evidence, b!.challenges), b!.header?.resultsHash)) {
        throw new NotInBlockError("block results hash does not match its certificates");
      }
      return;
    }
  }
  throw new NotInBlockError(`block ${height} does not contain this certificate`);
}

/** verifyCertificate, then certificateInBlock with the deciding block
 * (which also settles what only the block can). Throws BadCertificateError. */
export function verifyCertificateInBlock(c: Certificate, p: ConsensusParams, b: Block): void {
  try {
    verifyCertificate(c, p);
  } catch (e) {
    if (!(e instanceof BadCertificateError) || !e.needsBlock) throw e;
  }
  try {
    certificateInBlock(c, b);
  } catch (e) {
    throw new BadCertificateError("bad certificate: " + (e as Error).message);
  }
}

/**
 * Go's deterministic encoding (proto.MarshalOptions{Deterministic: true})
 * writes the fields of a oneof after every field outside oneofs (protobuf-go's
 * LegacyFieldOrder), where @bufbuild/protobuf writes all fields in number
 * order. Both agree on messages without oneofs (certificates, blocks'
 * headers, evidence, parameters); for a message with oneofs this writes the
 * plain fields, then the set oneof fields by number. Nested messages are
 * encoded by toBinary: none of those RoundRequest carries has a oneof.
 */
export function goDeterministicBinary<Desc extends DescMessage>(schema: Desc, msg: MessageShape<Desc>): Uint8Array {
  if (schema.oneofs.length === 0) return toBinary(schema, msg);
  const plain = clone(schema, msg) as Record<string, unknown>;
  const set: { no: number; only: MessageShape<Desc> }[] = [];
  for (const o of schema.oneofs) {
    const v = (msg as Record<string, unknown>)[o.localName] as { case: string | undefined };
    plain[o.localName] = { case: undefined };
    if (v.case === undefined) continue;
    const only = create(schema) as Record<string, unknown>;
    only[o.localName] = v;
    set.push({ no: o.fields.find((f) => f.localName === v.case)!.number, only: only as MessageShape<Desc> });
  }
  set.sort((a, b) => a.no - b.no);
  return concat(toBinary(schema, plain as MessageShape<Desc>), ...set.map((x) => toBinary(schema, x.only)));
}

/** RoundID: hex SHA-256(RoundDomain ‖ u16be(len chain id) ‖ chain id ‖
 * deterministic protobuf of the request); "" for a chain id over 65,535 bytes. */
export function roundID(chainId: string, req: RoundRequest): string {
  const id = enc.encode(chainId);
  if (id.length > 0xffff) return "";
  return hex(sha256(concat(enc.encode(ROUND_DOMAIN), u16be(id.length), id, goDeterministicBinary(RoundRequestSchema, req))));
}

function submittedRequest(stx: SignedTx): RoundRequest | undefined {
  try {
    const body = fromBinary(TxBodySchema, stx.body);
    return body.msg.case === "submitRound" ? body.msg.value.request : undefined;
  } catch {
    return undefined;
  }
}

/**
 * seedBlockMatches, Go's SeedBlockMatches: the certificate's seed_block is
 * the header of b (the block at seed_block.height, whose hash must match
 * its header), and b submits this round. What `lightkeeper verify-cert ID`
 * checks besides the deciding block. Throws NotInBlockError.
 */
export function seedBlockMatches(cert: Certificate, b: Block | undefined): void {
  const h = b?.header;
  const sb = cert.seedBlock;
  if (!eq(blockHash(h), b?.hash)) throw new NotInBlockError("seed block: hash does not match its header");
  if (
    (h?.height ?? 0n) !== (sb?.height ?? 0n) ||
    unixMilli(h) !== unixMilli(sb) ||
    !eq(h?.previousHash, sb?.previousHash) ||
    !eq(h?.transactionsHash, sb?.transactionsHash) ||
    !eq(h?.entropy, sb?.entropy)
  ) {
    throw new NotInBlockError(`seed_block differs from block ${h?.height ?? 0n}'s header`);
  }
  for (const tx of b!.transactions) {
    let req: RoundRequest | undefined;
    if (tx.kind.case === "submitRound") req = tx.kind.value.request;
    else if (tx.kind.case === "signed") req = submittedRequest(tx.kind.value);
    if (req && roundID(cert.chainId, req) === cert.roundId) return;
  }
  throw new NotInBlockError(`block ${h?.height ?? 0n} does not submit round ${cert.roundId}`);
}
