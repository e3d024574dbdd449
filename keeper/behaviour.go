package keeper

import lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"

// Behaviour decides which votes a keeper casts on a task. A keeper is
// honest unless told otherwise: it checks every task with its Engine and
// votes the verdict. Other behaviours (the Byzantine strategies of
// devtools/byzantine) exist so devnets, tests and the demo can show the
// network coping with them; production code never sets one.
type Behaviour interface {
	// Checks reports whether the keeper checks a task before voting; if
	// not, Votes gets the zero Verdict as the honest one.
	Checks() bool
	// Votes returns the verdicts to sign on task t, given the honest one.
	Votes(t *lightkeeperv1.Task, honest Verdict) []Verdict
}

// honest is the default Behaviour: check, then vote the verdict.
type honest struct{}

func (honest) Checks() bool { return true }

func (honest) Votes(_ *lightkeeperv1.Task, v Verdict) []Verdict { return []Verdict{v} }
