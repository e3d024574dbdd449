package state

import (
	"fmt"
	"strings"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Causes of Slashed and Jailed.
const (
	CauseEquivocation = "equivocation"
	CauseDowntime     = "downtime"
)

// FeeCharged: a signed transaction paid its fee (and, for a submission,
// the round fee) into the epoch's fee pot.
type FeeCharged struct {
	AccountID string
	Fee       uint64
	RoundFee  uint64
}

// Transferred: liquid tokens moved between accounts.
type Transferred struct {
	From, To string
	Amount   uint64
}

// Bonded: a keeper bonded Amount more of its own tokens (Bond is the new
// own bond).
type Bonded struct {
	KeeperID     string
	Amount, Bond uint64
}

// Guaranteed: a guarantor added backing to a target (Total is the new
// guarantee amount).
type Guaranteed struct {
	GuarantorID, TargetID string
	Amount, Total         uint64
}

// UnbondingStarted, UnbondingCompleted, UnbondingCancelled: an unbonding
// entry was created, paid out, or returned to its bond or guarantee.
type UnbondingStarted struct{ Entry *lightkeeperv1.UnbondingEntry }
type UnbondingCompleted struct{ Entry *lightkeeperv1.UnbondingEntry }
type UnbondingCancelled struct{ Entry *lightkeeperv1.UnbondingEntry }

// GroupChanged: a group was created, changed its commission, invited,
// gained, lost or un-invited a keeper (What is "created", "commission",
// "invited", "joined", "left", "uninvited", "removed").
type GroupChanged struct {
	GroupID  string
	What     string
	KeeperID string
}

// Slashed: a keeper's own bond, the guarantees to it and their unbonding
// entries created at or after the offence lost Amount; ReporterShare went
// to the reporter (if any), the rest to the community fund.
type Slashed struct {
	KeeperID      string
	Cause         string
	Amount        uint64
	Reporter      string
	ReporterShare uint64
	// Multiplier is the group's (or lone keeper's) reward multiplier after
	// halving, bps.
	Multiplier uint32
}

// Jailed: a keeper was jailed (Until unix ms; Tombstoned for ever).
type Jailed struct {
	KeeperID   string
	Cause      string
	Until      int64
	Tombstoned bool
}

// Unjailed: a jailed keeper came back by transaction.
type Unjailed struct{ KeeperID string }

// MultiplierReset: a group's (or lone keeper's) reward multiplier returned
// to 1 after the forgiveness period.
type MultiplierReset struct{ ID string }

// EpochEnded: an epoch's rewards were paid (Record is also in
// Result.Epochs).
type EpochEnded struct{ Record *lightkeeperv1.EpochRecord }

// Elected: the active set of a new epoch (in the seed's shuffled order).
type Elected struct {
	Epoch     uint64
	ActiveSet []string
}

func (FeeCharged) isEvent()         {}
func (Transferred) isEvent()        {}
func (Bonded) isEvent()             {}
func (Guaranteed) isEvent()         {}
func (UnbondingStarted) isEvent()   {}
func (UnbondingCompleted) isEvent() {}
func (UnbondingCancelled) isEvent() {}
func (GroupChanged) isEvent()       {}
func (Slashed) isEvent()            {}
func (Jailed) isEvent()             {}
func (Unjailed) isEvent()           {}
func (MultiplierReset) isEvent()    {}
func (EpochEnded) isEvent()         {}
func (Elected) isEvent()            {}

func (e FeeCharged) String() string {
	if e.RoundFee > 0 {
		return fmt.Sprintf("round fee %s paid %d", e.AccountID, e.RoundFee)
	}
	return fmt.Sprintf("fee %s paid %d", e.AccountID, e.Fee)
}

func (e Transferred) String() string {
	return fmt.Sprintf("transfer %s -> %s %d", e.From, e.To, e.Amount)
}

func (e Bonded) String() string {
	return fmt.Sprintf("bond %s +%d = %d", e.KeeperID, e.Amount, e.Bond)
}

func (e Guaranteed) String() string {
	return fmt.Sprintf("guarantee %s -> %s +%d = %d", e.GuarantorID, e.TargetID, e.Amount, e.Total)
}

func entryString(verb string, e *lightkeeperv1.UnbondingEntry) string {
	from := "guarantee to " + e.GetTargetId()
	if e.GetSelfBond() {
		from = "own bond"
	}
	return fmt.Sprintf("unbonding #%d %s %s %d from %s", e.GetId(), verb, e.GetOwnerId(), e.GetAmount(), from)
}

func (e UnbondingStarted) String() string   { return entryString("started", e.Entry) }
func (e UnbondingCompleted) String() string { return entryString("completed", e.Entry) }
func (e UnbondingCancelled) String() string { return entryString("cancelled", e.Entry) }

func (e GroupChanged) String() string {
	s := fmt.Sprintf("group %s %s", e.GroupID, e.What)
	if e.KeeperID != "" {
		s += " " + e.KeeperID
	}
	return s
}

func (e Slashed) String() string {
	s := fmt.Sprintf("slashed %s %d (%s) multiplier=%d", e.KeeperID, e.Amount, e.Cause, e.Multiplier)
	if e.Reporter != "" {
		s += fmt.Sprintf(" reporter %s +%d", e.Reporter, e.ReporterShare)
	}
	return s
}

func (e Jailed) String() string {
	if e.Tombstoned {
		return fmt.Sprintf("jailed %s (%s), tombstoned", e.KeeperID, e.Cause)
	}
	return fmt.Sprintf("jailed %s (%s) until %s", e.KeeperID, e.Cause, tsMilli(e.Until).AsTime().UTC().Format("2006-01-02T15:04:05.000Z"))
}

func (e Unjailed) String() string { return "unjailed " + e.KeeperID }

func (e MultiplierReset) String() string { return "reward multiplier reset " + e.ID }

func (e EpochEnded) String() string {
	r := e.Record
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d ended: fees=%d minted=%d paid=%d community=%d", r.GetEpoch(), r.GetFees(), r.GetMinted(), r.GetPaid(), r.GetToCommunityFund())
	for _, kr := range r.GetRewards() {
		fmt.Fprintf(&b, "\n    %s work=%d uptime=%d share=%d x%d commission=%d backers=%d withheld=%d", kr.GetKeeperId(), kr.GetWorkUnits(),
			kr.GetUptimePpm(), kr.GetShare(), kr.GetMultiplierBps(), kr.GetCommission(), kr.GetToBackers(), kr.GetWithheld())
	}
	return b.String()
}

func (e Elected) String() string {
	return fmt.Sprintf("elected epoch %d: [%s]", e.Epoch, strings.Join(e.ActiveSet, " "))
}
