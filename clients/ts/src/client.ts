// A thin typed layer over the generated services: submit a proof (gnark
// binary or snarkjs JSON) or a compute job, watch a round to its decision,
// fetch and check its certificate, list rounds, read keepers and epochs.
// Any Connect transport works: connect-node (Connect, gRPC, gRPC-Web) in
// Node (./node.js), connect-web in browsers (./web.js).
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { KeeperService } from "./gen/lightkeeper/v1/keeper_service_pb.js";
import { LedgerService, type GetChainInfoResponse } from "./gen/lightkeeper/v1/ledger_service_pb.js";
import { ProgramService } from "./gen/lightkeeper/v1/program_service_pb.js";
import { RoundService, type RoundSummary } from "./gen/lightkeeper/v1/round_service_pb.js";
import { StakingService, type GetEpochResponse } from "./gen/lightkeeper/v1/staking_service_pb.js";
import { VerifyingKeyService } from "./gen/lightkeeper/v1/verifying_key_service_pb.js";
import {
  type Block,
  type Certificate,
  type ConsensusParams,
  type Keeper,
  type Round,
  type VerifyingKey,
  Curve,
  ProofFormat,
  RoundPhase,
  Scheme,
} from "./gen/lightkeeper/v1/types_pb.js";
import { BadCertificateError, hex, paramsHash, seedBlockMatches, verifyCertificateInBlock } from "./cert.js";

const enc = new TextEncoder();

function bytes(b: Uint8Array | string | object): Uint8Array {
  if (b instanceof Uint8Array) return b;
  return enc.encode(typeof b === "string" ? b : JSON.stringify(b));
}

/** A random client nonce: two submissions of one request make two rounds. */
export function randomNonce(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return hex(b);
}

export interface ProofSubmission {
  scheme: Scheme;
  curve: Curve;
  /** gnark's binary verifying key (registered first; same bytes, same id). */
  verifyingKey: Uint8Array;
  /** gnark's binary proof. */
  proof: Uint8Array;
  /** gnark's public witness, or a JSON list of decimal strings. */
  publicInputs: Uint8Array | string;
  nonce?: string;
}

/** circom/snarkjs Groth16 BN254 material as snarkjs writes it (file
 * contents, or the parsed JSON). The coordinator converts it (verifier/snarkjs). */
export interface SnarkjsSubmission {
  verificationKey: Uint8Array | string | object;
  proof: Uint8Array | string | object;
  publicSignals: Uint8Array | string | object;
  nonce?: string;
}

export interface ComputeSubmission {
  /** A registered program id, or module bytes to register first. */
  program: string | Uint8Array;
  input?: Uint8Array;
  fuel: bigint;
  nonce?: string;
}

/** A decided round is DECIDED or CLOSED. */
export function isDecided(r: Round | undefined): boolean {
  return r?.phase === RoundPhase.DECIDED || r?.phase === RoundPhase.CLOSED;
}

export class LightkeeperClient {
  readonly rounds: Client<typeof RoundService>;
  readonly keepers: Client<typeof KeeperService>;
  readonly ledger: Client<typeof LedgerService>;
  readonly staking: Client<typeof StakingService>;
  readonly verifyingKeys: Client<typeof VerifyingKeyService>;
  readonly programs: Client<typeof ProgramService>;

  private readonly onClose?: () => void;

  /** onClose, when given, releases the transport's connections (close()). */
  constructor(transport: Transport, onClose?: () => void) {
    this.onClose = onClose;
    this.rounds = createClient(RoundService, transport);
    this.keepers = createClient(KeeperService, transport);
    this.ledger = createClient(LedgerService, transport);
    this.staking = createClient(StakingService, transport);
    this.verifyingKeys = createClient(VerifyingKeyService, transport);
    this.programs = createClient(ProgramService, transport);
  }

  /** Closes the transport's connections (Node's HTTP/2 sessions), so that
   * a script can exit. */
  close(): void {
    this.onClose?.();
  }

  async chainInfo(): Promise<GetChainInfoResponse> {
    return this.ledger.getChainInfo({});
  }

  /** Registers a verifying key (idempotent) and returns its record. */
  async registerVerifyingKey(scheme: Scheme, curve: Curve, key: Uint8Array, format = ProofFormat.UNSPECIFIED): Promise<VerifyingKey> {
    const res = await this.verifyingKeys.registerVerifyingKey({ scheme, curve, key, format });
    return res.verifyingKey!;
  }

  /** Registers the key and opens a proof round; returns the new round. */
  async submitProof(s: ProofSubmission): Promise<Round> {
    const vk = await this.registerVerifyingKey(s.scheme, s.curve, s.verifyingKey);
    const res = await this.rounds.submitRound({
      request: {
        payload: { case: "proof", value: { scheme: s.scheme, curve: s.curve, verifyingKeyId: vk.id, proof: s.proof, publicInputs: bytes(s.publicInputs) } },
        clientNonce: s.nonce ?? randomNonce(),
      },
    });
    return res.round!;
  }

  /** snarkjs's verification_key.json, proof.json and public.json, as they
   * come: registered and submitted with format PROOF_FORMAT_SNARKJS. */
  async submitSnarkjs(s: SnarkjsSubmission): Promise<Round> {
    const vk = await this.registerVerifyingKey(Scheme.GROTH16, Curve.BN254, bytes(s.verificationKey), ProofFormat.SNARKJS);
    const res = await this.rounds.submitRound({
      proofFormat: ProofFormat.SNARKJS,
      request: {
        payload: {
          case: "proof",
          value: { scheme: Scheme.GROTH16, curve: Curve.BN254, verifyingKeyId: vk.id, proof: bytes(s.proof), publicInputs: bytes(s.publicSignals) },
        },
        clientNonce: s.nonce ?? randomNonce(),
      },
    });
    return res.round!;
  }

  /** Opens a compute round (registering the module first if given). */
  async submitCompute(s: ComputeSubmission): Promise<Round> {
    let programId = typeof s.program === "string" ? s.program : "";
    if (s.program instanceof Uint8Array) {
      const p = await this.programs.registerProgram({ module: s.program });
      programId = p.program!.id;
    }
    const res = await this.rounds.submitRound({
      request: {
        payload: { case: "compute", value: { programId, input: s.input ?? new Uint8Array(), fuel: s.fuel } },
        clientNonce: s.nonce ?? randomNonce(),
      },
    });
    return res.round!;
  }

  /** Every state of the round until it is closed (WatchRound's stream). */
  async *watchRound(roundId: string, signal?: AbortSignal): AsyncIterable<Round> {
    for await (const res of this.rounds.watchRound({ roundId }, { signal })) {
      if (res.round) yield res.round;
    }
  }

  /** Follows the round until it is decided (or the timeout passes). */
  async waitDecided(roundId: string, timeoutMs = 120_000): Promise<Round> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    try {
      let last: Round | undefined;
      for await (const r of this.watchRound(roundId, ctl.signal)) {
        last = r;
        if (isDecided(r)) return r;
      }
      // The stream ended (closed round): read it once more.
      const got = last ?? (await this.rounds.getRound({ roundId })).round;
      if (isDecided(got)) return got!;
      throw new Error(`round ${roundId}: stream ended before a decision`);
    } finally {
      clearTimeout(timer);
      ctl.abort();
    }
  }

  async getCertificate(roundId: string): Promise<Certificate> {
    return (await this.rounds.getCertificate({ roundId })).certificate!;
  }

  /**
   * Fetches a round's certificate, its deciding block and its seed block
   * and checks them (cert.ts, the same rules as Go's verify-cert ID). The consensus
   * parameters are the caller's trusted ones; without them they are read
   * from the coordinator, and then trustedParamsHash (hex), when given,
   * pins them. Throws BadCertificateError.
   */
  async verifyCertificate(roundId: string, trust: { params?: ConsensusParams; trustedParamsHash?: string } = {}): Promise<{ certificate: Certificate; block: Block; seedBlock: Block }> {
    const certificate = await this.getCertificate(roundId);
    let params = trust.params;
    if (!params) {
      const info = await this.chainInfo();
      params = info.params!;
      if (trust.trustedParamsHash !== undefined && hex(paramsHash(info.chainId, params)) !== trust.trustedParamsHash) {
        throw new BadCertificateError(`bad certificate: the coordinator's parameters do not hash to the pinned ${trust.trustedParamsHash}`);
      }
    }
    const block = (await this.ledger.getBlock({ height: certificate.height })).block!;
    verifyCertificateInBlock(certificate, params, block);
    // As verify-cert ID: the seed block is the chain's and submits the round.
    const seedBlock = (await this.ledger.getBlock({ height: certificate.seedBlock?.height ?? 0n })).block!;
    try {
      seedBlockMatches(certificate, seedBlock);
    } catch (e) {
      throw new BadCertificateError("bad certificate: " + (e as Error).message);
    }
    return { certificate, block, seedBlock };
  }

  /**
   * One page of round summaries, newest first (at most 1,000; a page also
   * ends at the coordinator's byte budget: follow nextPageToken until it is
   * empty). getRound has the full record.
   */
  async listRounds(pageSize = 100, pageToken = ""): Promise<{ rounds: RoundSummary[]; nextPageToken: string }> {
    const res = await this.rounds.listRounds({ pageSize, pageToken });
    return { rounds: res.rounds, nextPageToken: res.nextPageToken };
  }

  /** Every keeper, following the coordinator's pages (bounded in bytes). */
  async listKeepers(): Promise<Keeper[]> {
    const all: Keeper[] = [];
    let pageToken = "";
    do {
      const res = await this.keepers.listKeepers({ pageToken });
      all.push(...res.keepers);
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    return all;
  }

  async getKeeper(keeperId: string): Promise<Keeper> {
    return (await this.keepers.getKeeper({ keeperId })).keeper!;
  }

  /** The current epoch (and, with epoch, that completed epoch's statement). */
  async getEpoch(epoch?: bigint): Promise<GetEpochResponse> {
    return this.staking.getEpoch(epoch === undefined ? {} : { epoch });
  }
}
