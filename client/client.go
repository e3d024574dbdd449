package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"strings"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// Client holds the API clients of one coordinator: the Submitter's
// (rounds, verifying keys, programs, with retries) and the ledger's,
// keepers' and staking services'.
type Client struct {
	Submitter
	Ledger  lightkeeperv1connect.LedgerServiceClient
	Keeper  lightkeeperv1connect.KeeperServiceClient
	Staking lightkeeperv1connect.StakingServiceClient
}

// New returns a Client for the coordinator at url.
func New(h connect.HTTPClient, url string) Client {
	url = strings.TrimRight(url, "/")
	return Client{
		Submitter: NewSubmitter(h, url),
		Ledger:    lightkeeperv1connect.NewLedgerServiceClient(h, url),
		Keeper:    lightkeeperv1connect.NewKeeperServiceClient(h, url),
		Staking:   lightkeeperv1connect.NewStakingServiceClient(h, url),
	}
}

// RandomNonce is a fresh client nonce: a round submitted under it is a
// new round, not a repeat of an earlier submission.
func RandomNonce() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Describe turns a Connect error into a one-line reason with its code,
// keeping any context wrapped around it.
func Describe(err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		msg := err.Error()
		return fmt.Errorf("%s (%s)", strings.Replace(msg, ce.Error(), ce.Message(), 1), ce.Code())
	}
	return err
}

// ChainInfo is the coordinator's chain id and consensus parameters.
func (c Client) ChainInfo(ctx context.Context) (*lightkeeperv1.GetChainInfoResponse, error) {
	info, err := c.Ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		return nil, Describe(err)
	}
	return info.Msg, nil
}

// SignAndSubmit signs body with key (filling in the account's next nonce
// unless nonce ≥ 0) for the coordinator's chain and submits it.
func (c Client) SignAndSubmit(ctx context.Context, key ed25519.PrivateKey, body *lightkeeperv1.TxBody, nonce int64) (*lightkeeperv1.SubmitTxResponse, error) {
	info, err := c.ChainInfo(ctx)
	if err != nil {
		return nil, err
	}
	if nonce >= 0 {
		body.Nonce = uint64(nonce)
	} else {
		acct, err := c.Staking.GetAccount(ctx, connect.NewRequest(&lightkeeperv1.GetAccountRequest{AccountId: setup.KeyID(key)}))
		if err != nil {
			return nil, Describe(err)
		}
		body.Nonce = acct.Msg.GetAccount().GetNonce()
	}
	stx, err := protocol.SignTx(key, info.GetChainId(), body)
	if err != nil {
		return nil, err
	}
	res, err := c.Staking.SubmitTx(ctx, connect.NewRequest(&lightkeeperv1.SubmitTxRequest{Tx: stx}))
	if err != nil {
		return nil, Describe(err)
	}
	return res.Msg, nil
}

// RoundFilter selects rounds of a listing; a zero field selects every
// round.
type RoundFilter struct {
	Kind lightkeeperv1.RoundKind
	// Outcome "PENDING" selects the rounds still voting; else a decided
	// outcome's name without its prefix (APPROVED, REJECTED, TIMEOUT).
	Outcome string
}

// Match reports whether the filter selects r.
func (f RoundFilter) Match(r *lightkeeperv1.RoundSummary) bool {
	if f.Kind != lightkeeperv1.RoundKind_ROUND_KIND_UNSPECIFIED && r.GetKind() != f.Kind {
		return false
	}
	return f.Outcome == "" || OutcomeName(r.GetPhase(), r.GetOutcome()) == f.Outcome
}

// OutcomeName is a round's outcome as the CLI shows it: PENDING while it
// votes, else the outcome without its prefix (OUTCOME_APPROVED → APPROVED).
func OutcomeName(phase lightkeeperv1.RoundPhase, outcome lightkeeperv1.Outcome) string {
	if phase == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
		return "PENDING"
	}
	return strings.TrimPrefix(outcome.String(), "OUTCOME_")
}

// ListRounds pages through the coordinator's rounds (newest first) from
// pageToken, keeping those f selects, until it holds limit of them or has
// read maxScanned rounds: the coordinator has no server-side filters, so a
// filter that matches little must not read the whole chain. It returns
// the token that continues right after the last round it read ("" at the
// end of the listing) and how many rounds it read.
func (c Client) ListRounds(ctx context.Context, f RoundFilter, pageToken string, limit, maxScanned int) (rounds []*lightkeeperv1.RoundSummary, next string, scanned int, err error) {
	next = pageToken
	for len(rounds) < limit && scanned < maxScanned {
		size := min(maxScanned-scanned, MaxListPage)
		if f == (RoundFilter{}) {
			size = min(size, limit-len(rounds))
		}
		page, token, err := c.listPage(ctx, next, size)
		if err != nil {
			return nil, "", scanned, err
		}
		for i, r := range page {
			if !f.Match(r) {
				continue
			}
			if rounds = append(rounds, r); len(rounds) == limit && i < len(page)-1 {
				// The page holds rounds after the last one kept: ask
				// for the page again cut right after it, whose token
				// continues without skipping the rest.
				if _, token, err = c.listPage(ctx, next, i+1); err != nil {
					return nil, "", scanned, err
				}
				return rounds, token, scanned + i + 1, nil
			}
		}
		scanned += len(page)
		if next = token; next == "" || len(page) == 0 {
			return rounds, "", scanned, nil
		}
	}
	return rounds, next, scanned, nil
}

func (c Client) listPage(ctx context.Context, token string, size int) ([]*lightkeeperv1.RoundSummary, string, error) {
	res, err := c.Rounds.ListRounds(ctx, connect.NewRequest(&lightkeeperv1.ListRoundsRequest{PageSize: uint32(size), PageToken: token}))
	if err != nil {
		return nil, "", Describe(err)
	}
	return res.Msg.GetRounds(), res.Msg.GetNextPageToken(), nil
}

// MaxListPage is the coordinator's largest ListRounds page
// (service.MaxListPageSize).
const MaxListPage = 1000
