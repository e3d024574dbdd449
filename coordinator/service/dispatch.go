package service

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/shielded"
)

// dispatcher holds each keeper's queue of tasks and its sessions. A keeper
// is in session while it holds a Subscribe stream or its last PullTasks is
// younger than pull_grace.
type dispatcher struct {
	mu      sync.Mutex
	inboxes map[string]*inbox
}

type inbox struct {
	tasks   []*lightkeeperv1.Task
	queued  map[string]bool // round ids in tasks
	wake    chan struct{}   // signalled when tasks arrive
	streams int
	lease   time.Time // end of the pull session; zero when none
}

func newDispatcher() *dispatcher {
	return &dispatcher{inboxes: make(map[string]*inbox)}
}

func (d *dispatcher) inbox(id string) *inbox {
	in := d.inboxes[id]
	if in == nil {
		in = &inbox{queued: make(map[string]bool), wake: make(chan struct{}, 1)}
		d.inboxes[id] = in
	}
	return in
}

func (in *inbox) push(t *lightkeeperv1.Task) {
	if in.queued[t.GetRoundId()] {
		return
	}
	in.queued[t.GetRoundId()] = true
	in.tasks = append(in.tasks, t)
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

func (in *inbox) active(now time.Time) bool {
	return in.streams > 0 || now.Before(in.lease)
}

// push queues a task for a keeper.
func (d *dispatcher) push(keeperID string, t *lightkeeperv1.Task) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inbox(keeperID).push(t)
}

// closeRound drops a closed round's tasks from every queue.
func (d *dispatcher) closeRound(roundID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, in := range d.inboxes {
		if !in.queued[roundID] {
			continue
		}
		delete(in.queued, roundID)
		in.tasks = slices.DeleteFunc(in.tasks, func(t *lightkeeperv1.Task) bool { return t.GetRoundId() == roundID })
	}
}

// begin records a session and reports whether it is a new one (no session
// was active), in which case the caller refills the queue from state.
func (d *dispatcher) begin(keeperID string, stream bool, now time.Time, grace time.Duration) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	in := d.inbox(keeperID)
	fresh := !in.active(now)
	if stream {
		in.streams++
	} else {
		in.lease = now.Add(grace)
	}
	return fresh
}

// endStream records the end of a stream.
func (d *dispatcher) endStream(keeperID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inbox(keeperID).streams--
}

// refill queues tasks the keeper still owes a vote on (after a restart or
// a reconnect, nothing it was sent before is assumed received).
func (d *dispatcher) refill(keeperID string, tasks []*lightkeeperv1.Task) {
	d.mu.Lock()
	defer d.mu.Unlock()
	in := d.inbox(keeperID)
	for _, t := range tasks {
		in.push(t)
	}
}

// active reports whether the keeper is in session.
func (d *dispatcher) active(keeperID string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	in := d.inboxes[keeperID]
	return in != nil && in.active(now)
}

// next waits until tasks are queued for the keeper (or ctx ends, or wait
// passes when wait > 0) and takes up to max of them.
func (d *dispatcher) next(ctx context.Context, keeperID string, max int, wait time.Duration) []*lightkeeperv1.Task {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		d.mu.Lock()
		in := d.inbox(keeperID)
		if len(in.tasks) > 0 {
			k := min(max, len(in.tasks))
			out := slices.Clone(in.tasks[:k])
			in.tasks = slices.Delete(in.tasks, 0, k)
			for _, t := range out {
				delete(in.queued, t.GetRoundId())
			}
			d.mu.Unlock()
			return out
		}
		wake := in.wake
		d.mu.Unlock()
		select {
		case <-wake:
		case <-timeout:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// dispatchRound queues a new round's task for each committee member.
func (n *Node) dispatchRound(r *lightkeeperv1.Round) {
	for _, id := range r.GetCommittee() {
		t, err := n.task(r, id)
		if err != nil {
			n.log.Error("cannot build task", "round", r.GetId(), "err", err)
			return
		}
		n.dispatch.push(id, t)
	}
}

// owedTasks lists the open rounds in which the keeper sits and has not
// voted, oldest deadline first.
func (n *Node) owedTasks(keeperID string) []*lightkeeperv1.Task {
	var rounds []*lightkeeperv1.Round
	n.readMachine(func(m *state.Machine) {
		for _, r := range m.OpenRounds() {
			if slices.Contains(r.GetCommittee(), keeperID) && !votedIn(r, keeperID) {
				rounds = append(rounds, r)
			}
		}
	})
	tasks := make([]*lightkeeperv1.Task, 0, len(rounds))
	for _, r := range rounds {
		t, err := n.task(r, keeperID)
		if err != nil {
			n.log.Error("cannot build task", "round", r.GetId(), "err", err)
			continue
		}
		tasks = append(tasks, t)
	}
	return tasks
}

func votedIn(r *lightkeeperv1.Round, keeperID string) bool {
	for _, v := range r.GetVotes() {
		if v.GetKeeperId() == keeperID {
			return true
		}
	}
	return false
}

// task builds the task of a round for one committee member: a proof task
// inlines the verifying key; a compute task names the program (keepers
// fetch and cache it by id), carries the chain's compute limits, and tells
// the leader (seat 0) to upload the output.
func (n *Node) task(r *lightkeeperv1.Round, keeperID string) (*lightkeeperv1.Task, error) {
	t := &lightkeeperv1.Task{RoundId: r.GetId(), Kind: r.GetKind(), Deadline: r.GetDeadline()}
	if c := r.GetRequest().GetCompute(); c != nil {
		t.Payload = &lightkeeperv1.Task_Compute{Compute: &lightkeeperv1.ComputeTask{
			ProgramId: c.GetProgramId(),
			Input:     c.GetInput(),
			Fuel:      c.GetFuel(),
			Leader:    len(r.GetCommittee()) > 0 && r.GetCommittee()[0] == keeperID,
			Limits:    n.computeParams,
		}}
		return t, nil
	}
	if w := r.GetRequest().GetWithdrawal(); w != nil {
		var vkID string
		var roots [][]byte
		if err := n.readMachine(func(m *state.Machine) { vkID, roots = m.PoolVerifyingKeyID(), m.PoolRoots() }); err != nil {
			return nil, err
		}
		vk, err := n.verifyingKey(vkID)
		if err != nil {
			return nil, err
		}
		inputs, err := shielded.WithdrawalPublicInputs(w)
		if err != nil {
			return nil, fmt.Errorf("%w: withdrawal.%v", state.ErrInvalidRequest, err)
		}
		pub, _ := inputs.MarshalBinary()
		t.Payload = &lightkeeperv1.Task_Withdrawal{Withdrawal: &lightkeeperv1.WithdrawalTask{
			Request:        w,
			VerifyingKeyId: vkID,
			VerifyingKey:   vk,
			PublicInputs:   pub,
			Roots:          roots,
		}}
		return t, nil
	}
	if p := r.GetRequest().GetProof(); p != nil {
		vk, err := n.verifyingKey(p.GetVerifyingKeyId())
		if err != nil {
			return nil, err
		}
		t.Payload = &lightkeeperv1.Task_Proof{Proof: &lightkeeperv1.ProofTask{
			Scheme:         p.GetScheme(),
			Curve:          p.GetCurve(),
			VerifyingKeyId: p.GetVerifyingKeyId(),
			VerifyingKey:   vk,
			Proof:          p.GetProof(),
			PublicInputs:   p.GetPublicInputs(),
		}}
	}
	return t, nil
}

// verifyingKey returns a key's bytes; keys never change, so they are
// cached for good.
func (n *Node) verifyingKey(id string) ([]byte, error) {
	if b, ok := n.vkCache.Load(id); ok {
		return b.([]byte), nil
	}
	vk, err := n.store.VerifyingKey(id)
	if err != nil {
		return nil, err
	}
	n.vkCache.Store(id, vk.GetKey())
	return vk.GetKey(), nil
}
