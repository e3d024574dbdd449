package protocol

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/proto"
)

// ErrBadCertificate is wrapped by every error of VerifyCertificate.
var ErrBadCertificate = errors.New("bad certificate")

// ErrNeedsBlock is wrapped (with ErrBadCertificate) by VerifyCertificate
// when a certificate is consistent but says something only its deciding
// block can confirm: a WITHDRAWAL voided at the decision (REJECTED with
// approvals at the threshold). Nothing a certificate carries is signed
// with the round's kind, so offline such a certificate could be a PROOF
// round's approval relabelled; CertificateInBlock settles it.
var ErrNeedsBlock = errors.New("can only be checked against its deciding block")

// ErrEligibleMissing is wrapped (with ErrBadCertificate) by
// VerifyCertificate when a certificate carries eligible_hash but not the
// list: the certificate as its block holds it, not as the API serves it
// (GetCertificate fills the list from the store).
var ErrEligibleMissing = errors.New("eligible list missing")

// ErrEligibleMismatch is wrapped (with ErrBadCertificate) by
// VerifyCertificate when the eligible list delivered with a certificate
// does not hash to its eligible_hash.
var ErrEligibleMismatch = errors.New("eligible list does not match eligible_hash")

// VerifyCertificate checks a certificate offline against the consensus
// parameters p of the chain the verifier trusts. Nothing the certificate
// says about the rules is taken from it:
//
//   - params_hash must equal ParamsHash(chain_id, p) (so p must be the
//     chain's parameters, and a pinned params hash pins both);
//   - seed must equal CommitteeSeed(seed_block), and seed_block must be a
//     header before execution (32-byte previous and transactions hashes,
//     no results_hash, entropy empty or 32 bytes, height ≤ height);
//   - eligible_hash must be set, and the eligible list present and hash
//     to it (EligibleListHash; ErrEligibleMissing, ErrEligibleMismatch):
//     the deciding block commits to the hash, not to the list;
//   - committee size, threshold and reject_threshold must be those
//     CommitteeRule gives for p, the kind and the eligible list (the rule
//     the machine used; a random challenge to candidates, whose threshold
//     the rule lowers, cannot be checked offline and is refused);
//   - the committee is recomputed from seed, round id and eligible list;
//   - every vote must be for this round, from a distinct committee member,
//     well formed and validly signed over chain_id;
//   - the tally must match the outcome (APPROVED: approvals ≥ threshold;
//     REJECTED: rejections ≥ reject_threshold; TIMEOUT: neither). A
//     COMPUTE certificate needs its APPROVE or REJECT votes to open their
//     result hashes, and threshold votes of the outcome's kind for its
//     result_hash, which its result must open. A WITHDRAWAL voided at the
//     decision is refused with ErrNeedsBlock.
//
// What stays outside an offline check: the eligible list is only as
// trustworthy as its source (the block that commits to the certificate);
// height, decided_at and the votes' unsigned reason are bound only by the
// deciding block's hash (CertificateInBlock); and PROOF and WITHDRAWAL
// rounds are told apart by their request only (round_id = RoundID(chain,
// request)). It returns an error (wrapping ErrBadCertificate) naming the
// first problem found.
func VerifyCertificate(c *lightkeeperv1.Certificate, p *lightkeeperv1.ConsensusParams) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadCertificate, fmt.Sprintf(format, args...))
	}
	if c == nil {
		return bad("missing")
	}
	if p == nil {
		return bad("no consensus parameters to check it against: committee size and thresholds cannot be checked")
	}
	if c.ChainId == "" {
		return bad("chain_id: empty")
	}
	if want := ParamsHash(c.ChainId, p); want == nil || !bytes.Equal(c.ParamsHash, want) {
		return bad("params_hash: %x, but the trusted parameters of chain %q hash to %x", c.ParamsHash, c.ChainId, want)
	}
	rid, ok := ParseID(c.RoundId)
	if !ok {
		return bad("round_id: %q is not 64 lowercase hex digits", c.RoundId)
	}
	switch c.Kind {
	case lightkeeperv1.RoundKind_ROUND_KIND_PROOF, lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL, lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE:
	default:
		return bad("kind: %v is not a round kind", c.Kind)
	}
	switch c.Outcome {
	case lightkeeperv1.Outcome_OUTCOME_APPROVED, lightkeeperv1.Outcome_OUTCOME_REJECTED, lightkeeperv1.Outcome_OUTCOME_TIMEOUT:
	default:
		return bad("outcome: %v is not a decision", c.Outcome)
	}
	if err := checkSeedBlock(c); err != nil {
		return bad("%v", err)
	}
	eligible, err := checkEligible(c)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCertificate, err)
	}
	rule, err := CommitteeRule(p, c.Kind, c.Eligible, false)
	if err != nil {
		return bad("eligible: %v", err)
	}
	size := len(c.Committee)
	if size != rule.Size {
		return bad("committee: %d seats, but the chain's rule gives %d for %d eligible keepers", size, rule.Size, len(c.Eligible))
	}
	if c.Threshold != rule.Threshold {
		return bad("threshold: %d, but the chain's rule gives %d (a lower one only for a random challenge to candidates, which cannot be checked offline)", c.Threshold, rule.Threshold)
	}
	if c.RejectThreshold != rule.RejectThreshold {
		return bad("reject_threshold: %d, but the chain's rule gives %d", c.RejectThreshold, rule.RejectThreshold)
	}
	compute := c.Kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE
	committee, err := eligible.Draw(c.Seed, c.RoundId, size)
	if err != nil {
		return bad("committee: cannot recompute: %v", err)
	}
	seat := make(map[string]int, size)
	for i, id := range committee {
		if c.Committee[i] != id {
			return bad("committee[%d]: %s, recomputed %s", i, c.Committee[i], id)
		}
		seat[id] = i
	}
	voted := make(map[string]bool, len(c.Votes))
	var approvals, rejections uint32
	for i, v := range c.Votes {
		if v.GetRoundId() != c.RoundId {
			return bad("votes[%d]: round_id %q, want %s", i, v.GetRoundId(), c.RoundId)
		}
		kid := v.GetKeeperId()
		if _, ok := seat[kid]; !ok {
			return bad("votes[%d]: keeper %q is not in the committee", i, kid)
		}
		if voted[kid] {
			return bad("votes[%d]: second vote by keeper %s", i, kid)
		}
		voted[kid] = true
		kind := VoteKind(v.GetKind())
		if !kind.Valid() {
			return bad("votes[%d]: kind %v", i, v.GetKind())
		}
		if len(v.GetResultHash()) != 32 {
			return bad("votes[%d]: result_hash is %d bytes, want 32", i, len(v.GetResultHash()))
		}
		kb, _ := ParseID(kid)
		if !VerifyVote(c.ChainId, rid, ed25519.PublicKey(kb[:]), kind, [32]byte(v.GetResultHash()), v.GetSignature()) {
			return bad("votes[%d]: bad signature by keeper %s", i, kid)
		}
		switch kind {
		case VoteApprove:
			approvals++
		case VoteReject:
			rejections++
		}
	}
	if compute {
		return verifyComputeCertificate(c, bad)
	}
	if len(c.ResultHash) != 0 || c.Result != nil {
		return bad("result: set on a %s round", c.Kind)
	}
	approved := approvals >= c.Threshold
	rejected := rejections >= c.RejectThreshold
	switch c.Outcome {
	case lightkeeperv1.Outcome_OUTCOME_APPROVED:
		if !approved {
			return bad("outcome APPROVED with %d approvals, threshold %d", approvals, c.Threshold)
		}
	case lightkeeperv1.Outcome_OUTCOME_REJECTED:
		// A WITHDRAWAL approved by the committee but not payable at the
		// decision (nullifier spent meanwhile, root expired) is REJECTED
		// with approvals at the threshold: see Voided.
		voided := c.Kind == lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL && approved
		if !rejected && !voided {
			return bad("outcome REJECTED with %d rejections, reject_threshold %d", rejections, c.RejectThreshold)
		}
		if !rejected {
			return fmt.Errorf("%w: %w: REJECTED with %d approvals at threshold %d is a withdrawal voided at the decision", ErrBadCertificate, ErrNeedsBlock, approvals, c.Threshold)
		}
	case lightkeeperv1.Outcome_OUTCOME_TIMEOUT:
		if approved || rejected {
			return bad("outcome TIMEOUT with %d approvals (threshold %d) and %d rejections (reject_threshold %d)", approvals, c.Threshold, rejections, c.RejectThreshold)
		}
	}
	return nil
}

// checkEligible checks the certificate's eligible list against its
// eligible_hash and returns it checked.
func checkEligible(c *lightkeeperv1.Certificate) (*EligibleList, error) {
	if len(c.EligibleHash) != 32 {
		// Without it the list would be bound to the block by nothing
		// (CertificateHash leaves the list out of certificates with one),
		// and its block hashes no certificate without one.
		return nil, fmt.Errorf("eligible_hash: %d bytes, want 32", len(c.EligibleHash))
	}
	if len(c.Eligible) == 0 {
		return nil, fmt.Errorf("%w: the certificate carries only eligible_hash %x, not the list it names: fetch the certificate from the API (GetCertificate, 'lightkeeper verify-cert ID --save FILE'), which fills it in", ErrEligibleMissing, c.EligibleHash)
	}
	l, err := NewEligibleList(c.Eligible)
	if err != nil {
		return nil, fmt.Errorf("eligible: cannot recompute the committee: %w", err)
	}
	if !bytes.Equal(l.Hash(), c.EligibleHash) {
		return nil, fmt.Errorf("%w: the %d keepers delivered hash to %x, eligible_hash is %x", ErrEligibleMismatch, len(c.Eligible), l.Hash(), c.EligibleHash)
	}
	return l, nil
}

// checkSeedBlock checks that the certificate's seed is the committee seed
// of its seed_block, a header as it stood before its transactions ran.
func checkSeedBlock(c *lightkeeperv1.Certificate) error {
	h := c.SeedBlock
	switch {
	case h == nil:
		return errors.New("seed_block: missing")
	case h.Time == nil || h.Time.CheckValid() != nil:
		return errors.New("seed_block.time: missing or invalid")
	case len(h.PreviousHash) != 32 || len(h.TransactionsHash) != 32:
		return errors.New("seed_block: previous_hash and transactions_hash must be 32 bytes")
	case len(h.ResultsHash) != 0:
		return errors.New("seed_block.results_hash: set, but the seed is fixed before the block's transactions run")
	case len(h.Entropy) != 0 && len(h.Entropy) != EntropyLen:
		return fmt.Errorf("seed_block.entropy: %d bytes, want 0 or %d", len(h.Entropy), EntropyLen)
	case h.Height == 0 || h.Height > c.Height:
		return fmt.Errorf("seed_block.height: %d, decided at height %d", h.Height, c.Height)
	case !bytes.Equal(c.Seed, CommitteeSeed(h)):
		return fmt.Errorf("seed: %x is not CommitteeSeed(seed_block) = %x", c.Seed, CommitteeSeed(h))
	}
	return nil
}

// CertificateInBlock checks that b is a well-formed block (its hash
// matches its header, its results hash its certificates, evidence and
// reveals) that contains exactly this certificate: what binds the fields
// an offline check cannot (height, decided_at, unsigned vote fields, kind)
// to the chain. A closed challenge's certificate is compared without the
// answer the API attaches (the deciding block hashed it without).
func CertificateInBlock(cert *lightkeeperv1.Certificate, b *lightkeeperv1.Block) error {
	if !bytes.Equal(BlockHash(b.GetHeader()), b.GetHash()) {
		return errors.New("block hash does not match its header")
	}
	if b.GetHeader().GetHeight() != cert.GetHeight() {
		return fmt.Errorf("block %d is not the deciding block %d", b.GetHeader().GetHeight(), cert.GetHeight())
	}
	if cert.GetChallenge() != nil {
		cert = proto.Clone(cert).(*lightkeeperv1.Certificate)
		cert.Challenge = nil
	}
	want := CertificateHash(cert)
	for _, c := range b.GetCertificates() {
		if bytes.Equal(CertificateHash(c), want) {
			if !bytes.Equal(ResultsHash(b.GetCertificates(), b.GetEvidence(), b.GetChallenges()...), b.GetHeader().GetResultsHash()) {
				return errors.New("block results hash does not match its certificates")
			}
			return nil
		}
	}
	return fmt.Errorf("block %d does not contain this certificate", b.GetHeader().GetHeight())
}

// VerifyCertificateInBlock is VerifyCertificate followed by
// CertificateInBlock with the deciding block b, which also settles what
// only the block can (ErrNeedsBlock: a withdrawal voided at the decision).
func VerifyCertificateInBlock(c *lightkeeperv1.Certificate, p *lightkeeperv1.ConsensusParams, b *lightkeeperv1.Block) error {
	err := VerifyCertificate(c, p)
	if err != nil && !errors.Is(err, ErrNeedsBlock) {
		return err
	}
	if berr := CertificateInBlock(c, b); berr != nil {
		return fmt.Errorf("%w: %v", ErrBadCertificate, berr)
	}
	return nil
}

// SeedBlockMatches checks a certificate's seed_block against the block it
// names (b at seed_block.height): same height, time, previous and
// transactions hashes and entropy, a block hash that matches its header,
// and a submission of this round among its transactions.
func SeedBlockMatches(cert *lightkeeperv1.Certificate, b *lightkeeperv1.Block) error {
	h, sb := b.GetHeader(), cert.GetSeedBlock()
	if !bytes.Equal(BlockHash(h), b.GetHash()) {
		return errors.New("seed block: hash does not match its header")
	}
	if h.GetHeight() != sb.GetHeight() || h.GetTime().AsTime().UnixMilli() != sb.GetTime().AsTime().UnixMilli() ||
		!bytes.Equal(h.GetPreviousHash(), sb.GetPreviousHash()) || !bytes.Equal(h.GetTransactionsHash(), sb.GetTransactionsHash()) ||
		!bytes.Equal(h.GetEntropy(), sb.GetEntropy()) {
		return fmt.Errorf("seed_block differs from block %d's header", h.GetHeight())
	}
	for _, tx := range b.GetTransactions() {
		req := tx.GetSubmitRound().GetRequest()
		if req == nil {
			req = submittedRequest(tx.GetSigned())
		}
		if req != nil && RoundID(cert.GetChainId(), req) == cert.GetRoundId() {
			return nil
		}
	}
	return fmt.Errorf("block %d does not submit round %s", h.GetHeight(), cert.GetRoundId())
}

// submittedRequest is the round request a signed transaction submits, if
// it is a well-formed submit_round (the signature is not checked: the block
// recorded the transaction, and its round id is what is compared).
func submittedRequest(stx *lightkeeperv1.SignedTx) *lightkeeperv1.RoundRequest {
	if stx == nil {
		return nil
	}
	body := &lightkeeperv1.TxBody{}
	if err := proto.Unmarshal(stx.GetBody(), body); err != nil {
		return nil
	}
	return body.GetSubmitRound().GetRequest()
}

// verifyComputeCertificate checks the compute part of a certificate: the
// thresholds are two thirds (ComputeThreshold), every APPROVE or REJECT vote opens its result
// hash, and the outcome is the one result that threshold votes of one kind
// agree on (none for TIMEOUT).
func verifyComputeCertificate(c *lightkeeperv1.Certificate, bad func(string, ...any) error) error {
	size := uint32(len(c.Committee))
	if c.RejectThreshold != c.Threshold || c.Threshold < ComputeThreshold(size) {
		return bad("compute thresholds %d/%d: want one two-thirds threshold (at least %d) of the %d-keeper committee", c.Threshold, c.RejectThreshold, ComputeThreshold(size), size)
	}
	count := map[string]uint32{}
	for i, v := range c.Votes {
		if v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
			continue
		}
		cv := v.GetCompute()
		if cv == nil || len(cv.OutputHash) != 32 || cv.Trap > MaxComputeTrap ||
			(v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_APPROVE) != (cv.Trap == 0) {
			return bad("votes[%d]: compute result missing or inconsistent with the vote kind", i)
		}
		if h := ComputeResultHash(cv.Trap, cv.ExitCode, cv.FuelUsed, [32]byte(cv.OutputHash)); !bytes.Equal(h[:], v.ResultHash) {
			return bad("votes[%d]: result_hash does not match its compute result", i)
		}
		count[fmt.Sprintf("%d/%x", v.Kind, v.ResultHash)]++
	}
	reached := ""
	for k, n := range count {
		if n >= c.Threshold {
			reached = k
		}
	}
	switch c.Outcome {
	case lightkeeperv1.Outcome_OUTCOME_TIMEOUT:
		if reached != "" {
			return bad("outcome TIMEOUT, but %d votes agree on one result (threshold %d)", count[reached], c.Threshold)
		}
		if len(c.ResultHash) != 0 || c.Result != nil {
			return bad("outcome TIMEOUT with a result")
		}
		return nil
	}
	kind := lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
	if c.Outcome == lightkeeperv1.Outcome_OUTCOME_REJECTED {
		kind = lightkeeperv1.VoteKind_VOTE_KIND_REJECT
	}
	if want := fmt.Sprintf("%d/%x", kind, c.ResultHash); count[want] < c.Threshold {
		return bad("outcome %s with %d votes for result %x, threshold %d", OutcomeName(c.Outcome), count[want], c.ResultHash, c.Threshold)
	}
	r := c.Result
	if r == nil || len(r.OutputHash) != 32 || r.Trap > MaxComputeTrap {
		return bad("result: missing or malformed")
	}
	if h := ComputeResultHash(r.Trap, r.ExitCode, r.FuelUsed, [32]byte(r.OutputHash)); !bytes.Equal(h[:], c.ResultHash) {
		return bad("result does not hash to result_hash")
	}
	return nil
}

// OutcomeName is an outcome without its enum prefix (APPROVED, REJECTED,
// TIMEOUT), as certificates' error messages and events print it.
func OutcomeName(o lightkeeperv1.Outcome) string {
	switch o {
	case lightkeeperv1.Outcome_OUTCOME_APPROVED:
		return "APPROVED"
	case lightkeeperv1.Outcome_OUTCOME_REJECTED:
		return "REJECTED"
	case lightkeeperv1.Outcome_OUTCOME_TIMEOUT:
		return "TIMEOUT"
	}
	return o.String()
}
