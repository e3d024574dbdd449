// The explorer page: every number comes from the coordinator's public
// Connect API on this page's own origin, through the TypeScript client
// (clients/ts), and certificates are checked here with its offline checker
// (cert.ts, the twin of Go's state.VerifyCertificate). docs/explorer.md
// says where each number comes from.
//
// gRPC-Web rather than the Connect protocol: it answers errors with HTTP
// 200 and the status in trailers, so an unknown id shows its message in
// the page without the browser also logging a failed request.

import { ConnectError } from "@connectrpc/connect";
import { toJsonString } from "@bufbuild/protobuf";
import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { connectWeb } from "../../../clients/ts/src/web.ts";
import { hex } from "../../../clients/ts/src/cert.ts";
import {
  type Keeper,
  type Round,
  Curve,
  Outcome,
  RejectReason,
  RoundKind,
  RoundPhase,
  Scheme,
  VoteKind,
  CertificateSchema,
  RoundSchema,
} from "../../../clients/ts/src/gen/lightkeeper/v1/types_pb.ts";
import type { RoundSummary } from "../../../clients/ts/src/gen/lightkeeper/v1/round_service_pb.ts";
import type { GetChainInfoResponse } from "../../../clients/ts/src/gen/lightkeeper/v1/ledger_service_pb.ts";
import { barChart, lineChart, type Series } from "./charts.ts";

const api = connectWeb(location.origin, "grpc-web");

// ---------------------------------------------------------------- DOM

type Child = Node | string | number | bigint | null | undefined | false;

function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

const link = (href: string, text: string, attrs: Record<string, string> = {}) => h("a", { href, ...attrs }, text);
const short = (id: string) => (id.length > 16 ? id.slice(0, 8) + "…" + id.slice(-6) : id);
const roundLink = (id: string) => link(`#/round/${id}`, short(id), { title: id, class: "mono" });
const keeperLink = (id: string) => link(`#/keeper/${id}`, short(id), { title: id, class: "mono" });

function table(head: string[], rows: Child[][], attrs: Record<string, string> = {}): HTMLElement {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, ...head.map((c) => h("th", {}, c)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))));
}

function dl(pairs: [string, Child][]): HTMLElement {
  const d = h("dl", { class: "facts" });
  for (const [k, v] of pairs) d.append(h("dt", {}, k), h("dd", {}, v));
  return d;
}

/** The message a person should read for any failure. */
function message(e: unknown): string {
  if (e instanceof ConnectError) return `${e.rawMessage} (${codeName(e.code)})`;
  if (e instanceof Error) return e.message;
  return String(e);
}

const codeNames: Record<number, string> = {
  1: "canceled", 2: "unknown", 3: "invalid argument", 4: "deadline exceeded", 5: "not found", 6: "already exists",
  7: "permission denied", 8: "resource exhausted", 9: "failed precondition", 10: "aborted", 11: "out of range",
  12: "unimplemented", 13: "internal", 14: "unavailable", 15: "data loss", 16: "unauthenticated",
};
const codeName = (c: number) => codeNames[c] ?? `code ${c}`;

function errorBox(text: string): HTMLElement {
  return h("p", { class: "error", role: "alert", "data-testid": "error" }, text);
}

// ---------------------------------------------------------------- formats

const ms = (t: Timestamp | undefined) => (t ? timestampMs(t) : 0);
const fmtTime = (t: Timestamp | undefined) => (t ? new Date(timestampMs(t)).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "—");
const kindName = (k: RoundKind) => (RoundKind[k] ?? String(k)).toLowerCase();
const outcomeName = (o: Outcome) => (o === Outcome.UNSPECIFIED ? "" : (Outcome[o] ?? String(o)).toLowerCase());
const phaseName = (p: RoundPhase) => (RoundPhase[p] ?? String(p)).toLowerCase();
const voteName = (k: VoteKind) => (VoteKind[k] ?? String(k)).toLowerCase();
const ppmPct = (ppm: number) => (ppm / 10_000).toFixed(1) + " %";
const num = (v: bigint | number) => v.toLocaleString("en-US");

function what(r: { kind: RoundKind; scheme: Scheme; curve: Curve; programId: string }): string {
  if (r.kind === RoundKind.COMPUTE) return "program " + short(r.programId);
  return `${(Scheme[r.scheme] ?? "?").toLowerCase()} / ${(Curve[r.curve] ?? "?").toLowerCase().replace("_", "-")}`;
}

function summaryWhat(s: RoundSummary): string {
  return what(s);
}

function roundWhat(r: Round): string {
  const req = r.request?.payload;
  if (req?.case === "proof") return what({ kind: r.kind, scheme: req.value.scheme, curve: req.value.curve, programId: "" });
  if (req?.case === "compute") return what({ kind: r.kind, scheme: 0, curve: 0, programId: req.value.programId });
  return "groth16 / bn254";
}

function latencyMs(s: { submittedAt?: Timestamp; decidedAt?: Timestamp }): number | undefined {
  if (!s.decidedAt || !s.submittedAt) return undefined;
  return ms(s.decidedAt) - ms(s.submittedAt);
}

function outcomeCell(s: { phase: RoundPhase; outcome: Outcome }): HTMLElement {
  const name = s.phase === RoundPhase.VOTING ? "voting" : outcomeName(s.outcome);
  return h("span", { class: "badge " + name }, name);
}

// ---------------------------------------------------------------- views

interface View {
  /** Aborted when the page leaves the view: timers, streams. */
  signal: AbortSignal;
  main: HTMLElement;
}

/** Calls f now and every periodMs until the view is left. A failure is
 * shown in the slot and the next tick tries again. */
function every(v: View, periodMs: number, slot: HTMLElement, f: () => Promise<Node[]>) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      const nodes = await f();
      if (v.signal.aborted) return;
      slot.replaceChildren(...nodes);
    } catch (e) {
      if (v.signal.aborted) return;
      slot.replaceChildren(errorBox(message(e)));
    }
    if (!v.signal.aborted) timer = setTimeout(tick, periodMs);
  };
  v.signal.addEventListener("abort", () => clearTimeout(timer));
  void tick();
}

let chainInfo: GetChainInfoResponse | undefined;
async function chain(): Promise<GetChainInfoResponse> {
  chainInfo = await api.chainInfo();
  return chainInfo;
}

/** Over the rounds of one listing: decided rounds per second and decision
 * latency p50/p99, in buckets of bucketS seconds over the last windowS. */
function rateSeries(rounds: RoundSummary[], nowMs: number, windowS = 300, bucketS = 10) {
  const n = windowS / bucketS;
  const counts = new Array<number>(n).fill(0);
  const lat: number[][] = Array.from({ length: n }, () => []);
  for (const s of rounds) {
    if (!s.decidedAt) continue;
    const age = (nowMs - ms(s.decidedAt)) / 1000;
    if (age < 0 || age >= windowS) continue;
    const b = n - 1 - Math.floor(age / bucketS);
    counts[b]++;
    const l = latencyMs(s);
    if (l !== undefined) lat[b].push(l);
  }
  const rate: [number, number][] = [], p50: [number, number][] = [], p99: [number, number][] = [];
  for (let b = 0; b < n; b++) {
    const x = -(n - 1 - b) * bucketS;
    rate.push([x, counts[b] / bucketS]);
    if (lat[b].length) {
      const sorted = lat[b].sort((a, c) => a - c);
      // Nearest rank.
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
      p50.push([x, at(0.5)]);
      p99.push([x, at(0.99)]);
    }
  }
  return { rate, p50, p99 };
}

const secondsAgo = (x: number) => (x === 0 ? "now" : `${-x} s`);

async function homeView(v: View) {
  const head = h("section", { "data-testid": "head" });
  const charts = h("section", { class: "charts" });
  const list = h("section", { "data-testid": "rounds" });
  v.main.append(h("h1", {}, "Chain"), head, charts, h("h2", {}, "Rounds, newest first"), list);
  every(v, 2000, head, async () => {
    const [info, page] = await Promise.all([chain(), api.listRounds(500)]);
    const now = Date.now();
    const rounds = page.rounds;
    const lastMinute = rounds.filter((s) => s.decidedAt && now - ms(s.decidedAt) < 60_000).length;
    const voting = rounds.filter((s) => s.phase === RoundPhase.VOTING).length;
    const { rate, p50, p99 } = rateSeries(rounds, now);
    const byOutcome = [Outcome.APPROVED, Outcome.REJECTED, Outcome.TIMEOUT].map((o) => rounds.filter((s) => s.decidedHeight > 0n && s.outcome === o).length);
    const votes = rounds.reduce((a, s) => [a[0] + s.approvals, a[1] + s.rejections, a[2] + s.abstentions], [0, 0, 0]);
    charts.replaceChildren(
      lineChart("Decided rounds per second (10 s buckets)", [{ name: "rounds/s", color: "#2b7bb9", points: rate }], secondsAgo, "rounds/s"),
      lineChart("Decision latency (submitted → decided)", [
        { name: "p50", color: "#3a9d5d", points: p50 },
        { name: "p99", color: "#c0392b", points: p99 },
      ], secondsAgo, "ms", false, [rate[0][0], 0]),
      barChart(`Outcomes of the last ${rounds.length} rounds`, [
        { label: "approved", value: byOutcome[0], color: "#3a9d5d" },
        { label: "rejected", value: byOutcome[1], color: "#c0392b" },
        { label: "timeout", value: byOutcome[2], color: "#999" },
      ]),
      barChart("Their votes by kind", [
        { label: "approve", value: votes[0], color: "#3a9d5d" },
        { label: "reject", value: votes[1], color: "#c0392b" },
        { label: "abstain", value: votes[2], color: "#999" },
      ]),
    );
    list.replaceChildren(table(
      ["round", "kind", "scheme / curve or program", "submitted", "outcome", "latency", "committee", "tally ✓/✗/–"],
      rounds.slice(0, 50).map((s) => {
        const l = latencyMs(s);
        return [roundLink(s.id), kindName(s.kind), summaryWhat(s), fmtTime(s.submittedAt), outcomeCell(s),
          l === undefined ? "—" : `${num(l)} ms`, h("span", {}, `${s.committeeSize} seat${s.committeeSize === 1 ? "" : "s"}, leader `, keeperLink(s.leader)),
          s.decidedHeight > 0n ? `${s.approvals} / ${s.rejections} / ${s.abstentions}` : "—"];
      }),
      { class: "rounds", "data-testid": "rounds-table" }));
    return [dl([
      ["chain", info.chainId],
      ["head", h("span", { "data-testid": "head-height" }, `block ${num(info.headHeight)}`)],
      ["head hash", h("span", { class: "mono" }, hex(info.headHash))],
      ["genesis", fmtTime(info.genesisTime)],
      ["decided, last minute", h("span", { "data-testid": "rate" }, `${lastMinute} rounds (${(lastMinute / 60).toFixed(2)}/s)`)],
      ["being voted on", `${voting} rounds`],
    ])];
  });
}

async function roundView(v: View, id: string) {
  v.main.append(h("h1", {}, "Round ", h("span", { class: "mono" }, id)));
  const body = h("section", {});
  v.main.append(body);
  const r = (await api.rounds.getRound({ roundId: id })).round!;
  const info = chainInfo ?? (await chain());
  const votes = new Map(r.votes.map((x) => [x.keeperId, x]));
  const req = r.request?.payload;
  body.append(dl([
    ["kind", kindName(r.kind)],
    ["what", roundWhat(r)],
    ...(req?.case === "proof" ? [["verifying key", h("span", { class: "mono" }, req.value.verifyingKeyId)] as [string, Child]] : []),
    ["phase", phaseName(r.phase)],
    ["outcome", outcomeCell(r)],
    ["submitted", `${fmtTime(r.submittedAt)} at block ${r.submittedHeight}`],
    ["decided", r.decidedHeight > 0n ? `${fmtTime(r.decidedAt)} at block ${r.decidedHeight} (${num(latencyMs(r) ?? 0)} ms)` : "not yet"],
    ["thresholds", `${r.threshold} to approve, ${r.rejectThreshold} to reject, of ${r.committee.length} seats drawn from ${r.eligible.length} eligible keepers (list ${short(hex(r.eligibleHash))})`],
    ["tally", r.phase === RoundPhase.VOTING ? "hidden until the decision" : `${r.approvals} approve, ${r.rejections} reject, ${r.abstentions} abstain`],
    ...(r.challenge ? [["challenge", `the coordinator's own test: the right answer was ${voteName(r.challenge.kind)}`] as [string, Child]] : []),
  ]));
  body.append(h("h2", {}, "Votes by seat"), table(["seat", "keeper", "vote", "reason", "result hash", "signature"],
    r.committee.map((k, i) => {
      const x = votes.get(k);
      return [i === 0 ? "0 (leader)" : i, keeperLink(k), x ? h("span", { class: "badge " + voteName(x.kind) }, voteName(x.kind)) : (r.phase === RoundPhase.VOTING ? "hidden" : "no vote"),
        x && x.reason !== RejectReason.UNSPECIFIED ? (RejectReason[x.reason] ?? "").toLowerCase() : "", x ? short(hex(x.resultHash)) : "", x ? short(hex(x.signature)) : ""];
    }), { "data-testid": "votes" }));
  if (r.phase === RoundPhase.VOTING) {
    body.append(h("p", {}, "The certificate exists once the round is decided; this page does not refresh itself: reload it."));
  } else {
    const cert = await api.getCertificate(id);
    const result = h("div", { "data-testid": "verify-result" });
    const button = h("button", { type: "button", "data-testid": "verify" }, "Verify in this browser") as HTMLButtonElement;
    button.addEventListener("click", async () => {
      button.disabled = true;
      result.replaceChildren(h("p", {}, "checking…"));
      try {
        // The same checks as `lightkeeper verify-cert`: the certificate
        // against the chain's parameters (committee redrawn from the
        // seed, every ed25519 signature, the tally), then its presence
        // in the deciding block and the seed block's hash.
        const t0 = performance.now();
        const got = await api.verifyCertificate(id, { params: info.params });
        const took = performance.now() - t0;
        result.replaceChildren(h("p", { class: "ok", "data-testid": "verified" },
          `✓ Verified in this browser: ${got.certificate.votes.length} ed25519 signatures, committee of ${got.certificate.committee.length} redrawn from the seed, ` +
          `tally matches ${outcomeName(got.certificate.outcome)}, included in block ${got.block.header?.height} (${took.toFixed(0)} ms).`));
      } catch (e) {
        result.replaceChildren(errorBox("✗ " + message(e)));
      } finally {
        button.disabled = false;
      }
    });
    body.append(h("h2", {}, "Certificate"), dl([
      ["chain", cert.chainId],
      ["block", String(cert.height)],
      ["params hash", h("span", { class: "mono" }, hex(cert.paramsHash))],
      ["signed votes", String(cert.votes.length)],
    ]), button, result,
    h("details", {}, h("summary", {}, "certificate as JSON"), h("pre", {}, toJsonString(CertificateSchema, cert, { prettySpaces: 1 }))));
  }
  body.append(h("details", {}, h("summary", {}, "round record as JSON"), h("pre", {}, toJsonString(RoundSchema, r, { prettySpaces: 1 }))));
}

const palette = ["#2b7bb9", "#c0392b", "#3a9d5d", "#8e44ad", "#d68910", "#17a589", "#7f8c8d", "#cb4335", "#2e4053", "#b7950b"];
const MAX_CHARTED = 10;

/** Points by epoch from the coordinator's GetKeeperHistory. */
async function keeperHistory(id: string) {
  return (await api.keepers.getKeeperHistory({ keeperId: id })).points;
}
const epochTick = (x: number) => `epoch ${x.toFixed(0)}`;

function keeperRow(k: Keeper): Child[] {
  return [keeperLink(k.id), k.active ? "yes" : "no", k.online ? "yes" : "no",
    k.tombstoned ? h("span", { class: "badge rejected" }, "tombstoned") : k.jailed ? h("span", { class: "badge rejected" }, "jailed") : "no",
    num(k.stake), num(k.guaranteed), num(k.stakeLimit), num(k.effectiveStake), String(k.reputation), ppmPct(k.uptimePpm),
    String(k.challengesPassed), k.challengeFailures > 0n ? h("span", { class: "badge rejected", "data-testid": "challenge-failures" }, String(k.challengeFailures)) : "0",
    `${k.votesCorrect} / ${k.votesIncorrect}`, num(k.slashedTotal), k.groupId ? short(k.groupId) : "—"];
}
const keeperHead = ["keeper", "active", "online", "jailed", "bond", "guarantees", "stake limit", "effective stake", "reputation", "uptime",
  "challenges passed", "challenges failed", "votes right / wrong", "slashed", "group"];

async function keepersView(v: View) {
  const slot = h("section", {});
  v.main.append(h("h1", {}, "Keepers"), slot);
  every(v, 3000, slot, async () => {
    const keepers = await api.listKeepers();
    // The reputation of the keepers that fare worst (at most ten lines):
    // Byzantine keepers fall out of the others' band.
    const charted = [...keepers].sort((a, b) => (a.reputation < b.reputation ? -1 : a.reputation > b.reputation ? 1 : 0)).slice(0, MAX_CHARTED);
    const hists = await Promise.all(charted.map((k) => keeperHistory(k.id)));
    const series = (f: (p: { reputation: bigint; effectiveStake: bigint }) => number): Series[] =>
      charted.map((k, i) => ({ name: k.id.slice(0, 6), color: palette[i % palette.length], points: hists[i].map((p) => [Number(p.epoch), f(p)] as [number, number]) }));
    return [
      table(keeperHead, keepers.map(keeperRow), { "data-testid": "keepers-table" }),
      h("section", { class: "charts" },
        lineChart(`Reputation by epoch${keepers.length > MAX_CHARTED ? `, the ${MAX_CHARTED} lowest` : ""}`, series((p) => Number(p.reputation)), epochTick, "points", true),
        lineChart("Effective stake by epoch", series((p) => Number(p.effectiveStake)), epochTick, "tokens", true)),
    ];
  });
}

async function keeperView(v: View, id: string) {
  v.main.append(h("h1", {}, "Keeper ", h("span", { class: "mono" }, id)));
  const slot = h("section", {});
  v.main.append(slot);
  every(v, 3000, slot, async () => {
    const [res, points] = await Promise.all([api.staking.getKeeperStake({ keeperId: id }), keeperHistory(id)]);
    const k = res.keeper!;
    const ser = (f: (p: (typeof points)[number]) => number): Series["points"] => points.map((p) => [Number(p.epoch), f(p)]);
    return [
      table(keeperHead, [keeperRow(k)], { "data-testid": "keeper-table" }),
      h("section", { class: "charts" },
        lineChart("Reputation by epoch", [{ name: "reputation", color: "#8e44ad", points: ser((p) => Number(p.reputation)) }], epochTick, "points"),
        lineChart("Stake by epoch", [
          { name: "effective", color: "#2b7bb9", points: ser((p) => Number(p.effectiveStake)) },
          { name: "bond", color: "#d68910", points: ser((p) => Number(p.stake)) },
        ], epochTick, "tokens")),
      h("h2", {}, "Guarantees received"),
      res.guarantees.length ? table(["guarantor", "amount", "since block"], res.guarantees.map((g) => [h("span", { class: "mono" }, short(g.guarantorId)), num(g.amount), String(g.height)])) : h("p", {}, "none"),
      dl([["rounds assigned", String(k.roundsAssigned)], ["rounds missed", String(k.roundsMissed)], ["abstentions", String(k.votesAbstained)],
        ["equivocations", String(k.equivocations)], ["rewards, total", num(k.rewardsTotal)], ["jailed until", k.jailed ? fmtTime(k.jailedUntil) : "—"]]),
    ];
  });
}

async function epochsView(v: View) {
  const slot = h("section", {});
  v.main.append(h("h1", {}, "Epochs"), slot);
  every(v, 5000, slot, async () => {
    const [cur, fund, keepers] = await Promise.all([api.getEpoch(), api.staking.getCommunityFund({}), api.listKeepers()]);
    const records = [];
    for (let e = cur.currentEpoch; e > 0n && records.length < 10; e--) {
      records.push((await api.getEpoch(e - 1n)).record);
    }
    const slashed = keepers.filter((k) => k.slashedTotal > 0n || k.jailed || k.tombstoned);
    return [
      dl([["current epoch", String(cur.currentEpoch)], ["started", fmtTime(cur.currentStartedAt)], ["next at", fmtTime(cur.nextEpochAt)],
        ["active set", h("span", {}, ...cur.activeSet.flatMap((id, i) => [i ? ", " : "", keeperLink(id)]))],
        ["slashed, all time", num(fund.totalSlashed)], ["community fund", num(fund.communityFund)], ["minted, all time", num(fund.totalMinted)]]),
      h("h2", {}, "Completed epochs"),
      table(["epoch", "ended", "block", "active set", "fees", "minted", "paid", "to community fund", "rewards"],
        records.filter((r) => r !== undefined).map((r) => [String(r!.epoch), fmtTime(r!.endedAt), String(r!.endedHeight), String(r!.activeSet.length),
          num(r!.fees), num(r!.minted), num(r!.paid), num(r!.toCommunityFund),
          r!.rewards.length ? h("details", {}, h("summary", {}, `${r!.rewards.length} keepers`), table(["keeper", "work", "uptime", "share", "multiplier", "withheld"],
            r!.rewards.map((w) => [keeperLink(w.keeperId), String(w.workUnits), ppmPct(w.uptimePpm), num(w.share), (w.multiplierBps / 100).toFixed(0) + " %", num(w.withheld)]))) : "none"]),
        { "data-testid": "epochs-table" }),
      h("h2", {}, "Slashes"),
      h("p", {}, "Per keeper, all time (the API keeps no per-epoch record of slashes)."),
      slashed.length ? table(["keeper", "slashed", "jailed", "tombstoned", "challenges failed", "votes wrong"],
        slashed.map((k) => [keeperLink(k.id), num(k.slashedTotal), k.jailed ? "until " + fmtTime(k.jailedUntil) : "no", k.tombstoned ? "yes" : "no", String(k.challengeFailures), String(k.votesIncorrect)])) : h("p", {}, "No keeper has been slashed."),
    ];
  });
}

async function poolView(v: View) {
  const state = h("section", {});
  const rows = h("tbody", {});
  v.main.append(h("h1", {}, "Shielded pool"), state, h("h2", {}, "Bridge stream: withdrawals paid, live"),
    h("table", { "data-testid": "withdrawals" }, h("thead", {}, h("tr", {}, ...["cursor", "block", "round", "nullifier", "recipient", "amount", "certificate votes"].map((c) => h("th", {}, c)))), rows));
  const status = h("p", {}, "waiting for withdrawals…");
  v.main.append(status);
  every(v, 5000, state, async () => {
    const p = await api.ledger.getPool({ limit: 1 });
    if (p.verifyingKeyId === "") return [h("p", {}, "The shielded pool is disabled on this chain (its genesis has no withdrawal verifying key).")];
    return [dl([["verifying key", h("span", { class: "mono" }, p.verifyingKeyId)], ["notes", num(p.size)], ["balance", num(p.balance)], ["known roots", String(p.roots.length)]])];
  });
  try {
    let n = 0;
    for await (const w of api.ledger.watchWithdrawals({ fromCursor: "" }, { signal: v.signal })) {
      const x = w.withdrawal!;
      rows.prepend(h("tr", {}, ...[w.cursor, String(x.height), roundLink(x.roundId), short(hex(x.nullifier)), short(x.recipient), num(x.amount), String(w.certificate?.votes.length ?? 0)].map((c) => h("td", {}, c))));
      status.textContent = `${++n} withdrawals so far`;
    }
  } catch (e) {
    if (!v.signal.aborted) status.replaceWith(errorBox(message(e)));
  }
}

const hexID = /^[0-9a-f]{64}$/;

async function searchView(v: View, q: string) {
  v.main.append(h("h1", {}, "Search"));
  const query = q.trim().toLowerCase();
  if (query === "") {
    v.main.append(h("p", {}, "Type a round id, a proof or verifying-key hash, a keeper id or an account in the box above."));
    return;
  }
  if (!hexID.test(query)) {
    v.main.append(errorBox(`“${q.trim()}” is not something the explorer can look up: round ids, proof and key hashes, keeper ids and accounts are 64 hex digits (got ${query.length} characters${/[^0-9a-f]/.test(query) ? ", not all hex" : ""}).`));
    return;
  }
  // One id names at most one thing of each sort; ask for all of them.
  const found: Child[][] = [];
  const notFound = (e: unknown) => {
    if (e instanceof ConnectError && e.code === 5) return undefined;
    throw e;
  };
  const [round, keeper, vk, program, proofs, account] = await Promise.all([
    api.rounds.getRound({ roundId: query }).then((r) => r.round, notFound),
    api.keepers.getKeeper({ keeperId: query }).then((r) => r.keeper, notFound),
    api.verifyingKeys.getVerifyingKey({ verifyingKeyId: query }).then((r) => r.verifyingKey, notFound),
    api.programs.getProgram({ programId: query }).then((r) => r.program, notFound),
    api.rounds.findRounds({ proofHash: query }),
    api.staking.getAccount({ accountId: query }).then((r) => r, notFound),
  ]);
  if (round) found.push(["round", roundLink(round.id), `${kindName(round.kind)}, ${phaseName(round.phase)} ${outcomeName(round.outcome)}`]);
  for (const s of proofs.rounds) found.push(["round carrying this proof", roundLink(s.id), `${kindName(s.kind)} ${summaryWhat(s)}, ${s.phase === RoundPhase.VOTING ? "voting" : outcomeName(s.outcome)}`]);
  if (proofs.total > proofs.rounds.length) found.push(["", "", `and ${proofs.total - proofs.rounds.length} older rounds with the same proof`]);
  if (keeper) found.push(["keeper", keeperLink(keeper.id), `reputation ${keeper.reputation}, ${keeper.active ? "active" : "not active"}`]);
  if (vk) found.push(["verifying key", h("span", { class: "mono" }, short(vk.id)), `${(Scheme[vk.scheme] ?? "").toLowerCase()} / ${(Curve[vk.curve] ?? "").toLowerCase()}, ${vk.numPublicInputs} public inputs, registered at block ${vk.registeredHeight}`]);
  if (program) found.push(["program", h("span", { class: "mono" }, short(program.id)), `${num(program.size)} bytes, registered at block ${program.registeredHeight}`]);
  const acct = account?.account;
  if (acct && (acct.balance > 0n || acct.nonce > 0n || account!.selfBond > 0n)) {
    found.push(["account", h("span", { class: "mono" }, short(acct.id)), `balance ${num(acct.balance)}, nonce ${acct.nonce}, own bond ${num(account!.selfBond)}, ${account!.guarantees.length} guarantees given`]);
  }
  if (found.length === 0) {
    v.main.append(errorBox(`Nothing has the id ${query}: no round, round carrying a proof with this SHA-256, keeper, verifying key, program or account with funds.`));
    return;
  }
  v.main.append(table(["what", "id", ""], found, { "data-testid": "search-results" }));
}

// ---------------------------------------------------------------- routing

let current: AbortController | undefined;

async function route() {
  current?.abort();
  const ctl = (current = new AbortController());
  const main = document.getElementById("main")!;
  main.replaceChildren();
  // Which route the content belongs to, for tests and scripts.
  main.dataset.route = location.hash;
  const v: View = { signal: ctl.signal, main };
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter((p) => p !== "");
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("here", a.getAttribute("href") === "#/" + (parts[0] ?? ""));
  try {
    switch (parts[0] ?? "") {
      case "": return await homeView(v);
      case "round": return await roundView(v, decodeURIComponent(parts[1] ?? ""));
      case "keepers": return await keepersView(v);
      case "keeper": return await keeperView(v, decodeURIComponent(parts[1] ?? ""));
      case "epochs": return await epochsView(v);
      case "pool": return await poolView(v);
      case "search": return await searchView(v, new URLSearchParams(query).get("q") ?? "");
      default:
        main.append(errorBox(`There is no page “${location.hash}”: use the links above.`));
    }
  } catch (e) {
    if (!ctl.signal.aborted) main.append(errorBox(message(e)));
  }
}

// A failure nobody caught still reaches the page, not only the console.
window.addEventListener("unhandledrejection", (ev) => {
  ev.preventDefault();
  document.getElementById("main")?.append(errorBox(message(ev.reason)));
});

document.getElementById("search")!.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = (document.getElementById("q") as HTMLInputElement).value;
  location.hash = "#/search?q=" + encodeURIComponent(q.trim());
});
window.addEventListener("hashchange", () => void route());
void route();
