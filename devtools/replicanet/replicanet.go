// Package replicanet runs a replicated devnet on loopback: every replica
// a separate `lightkeeper node` process (so it can be killed with SIGKILL
// and restarted, as an operator's would be), the keepers in this process,
// spread over the replicas. It is what `lightkeeper devnet --replicas N`,
// the replicated demo and the replication tests (tests/replicas_test.go)
// run.
package replicanet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/coordinator/replica"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// Options configure a replicated devnet. Zero values are sensible.
type Options struct {
	// Binary is the lightkeeper executable each replica runs
	// (`Binary node --home DIR/replica-i`); required.
	Binary string
	// Dir receives the keys, genesis.json and the replica homes; a
	// temporary directory when empty (removed by Close). A Dir that
	// already holds replica homes is reused: the same chain restarts.
	Dir string
	// Replicas is the number of replicas (4 when 0).
	Replicas int
	// Keepers is how many genesis keepers there are and run here (10
	// when 0); keeper i starts on replica i mod Replicas.
	Keepers int
	// Byzantine gives the strategies of the last len(Byzantine) keepers.
	Byzantine []byzantine.Strategy
	// TimeoutCommit is CometBFT's pause after a block (200 ms when 0).
	TimeoutCommit time.Duration
	// Keeper is the base keeper configuration.
	Keeper *keeper.Config
	Logger *slog.Logger
	// Env is extra environment for replica i's process (a test fault
	// switch: replica.FaultEnv).
	Env map[int][]string
	// Idle starts no keepers: the genesis has Keepers keys (Net.Keys) for
	// the caller to run its own (lightkeeper bench).
	Idle bool
	// APIConfig sets keys of a new Dir's replica API configs
	// (config/lightkeeper.toml, the coordinator's format), such as
	// "submit_rate": "1e6"; each key must appear once in the file.
	APIConfig map[string]string
}

// Net is a running replicated devnet.
type Net struct {
	Dir     string
	Genesis *lightkeeperv1.Genesis
	Keys    []ed25519.PrivateKey
	// URLs of the replicas' Connect APIs, in replica order.
	URLs    []string
	Keepers []*keeper.Keeper

	bin     string
	env     map[int][]string
	log     *slog.Logger
	tempDir bool
	homes   []string

	mu    sync.Mutex
	procs []*exec.Cmd // nil: not running
	exits []chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   []error
}

// Start initializes Dir (when new), starts every replica process and
// waits until each serves its API, then starts the keepers.
func Start(ctx context.Context, o Options) (*Net, error) {
	if o.Binary == "" {
		return nil, errors.New("replicanet: Options.Binary (the lightkeeper executable) is required")
	}
	o.Replicas = cmpOr(o.Replicas, 4)
	o.Keepers = cmpOr(o.Keepers, 10)
	o.TimeoutCommit = cmpOr(o.TimeoutCommit, 200*time.Millisecond)
	if len(o.Byzantine) > o.Keepers {
		return nil, fmt.Errorf("replicanet: %d Byzantine keepers of %d", len(o.Byzantine), o.Keepers)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Net{Dir: o.Dir, bin: o.Binary, env: o.Env, log: log}
	if n.Dir == "" {
		dir, err := os.MkdirTemp("", "lightkeeper-replicanet-")
		if err != nil {
			return nil, err
		}
		n.Dir, n.tempDir = dir, true
	}
	if err := n.loadOrInit(o); err != nil {
		n.cleanup()
		return nil, err
	}
	n.procs = make([]*exec.Cmd, len(n.homes))
	n.exits = make([]chan struct{}, len(n.homes))
	for i := range n.homes {
		if err := n.StartReplica(i); err != nil {
			n.stopAll()
			n.cleanup()
			return nil, err
		}
	}
	for i := range n.homes {
		if len(o.Env[i]) > 0 {
			continue // a replica started with a fault may stop at once: the caller watches it
		}
		if err := n.waitServing(ctx, i, 60*time.Second); err != nil {
			n.stopAll()
			n.cleanup()
			return nil, err
		}
	}
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.cancel = cancel
	base := keeper.NewConfig().WithLogger(log)
	if o.Keeper != nil {
		base = *o.Keeper
	}
	for i := range o.Keepers {
		if o.Idle {
			break
		}
		kc := base.WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}})
		if b := i - (o.Keepers - len(o.Byzantine)); b >= 0 {
			kc = kc.WithBehaviour(o.Byzantine[b])
		}
		// Every replica, starting with keeper i's own (i mod replicas):
		// a keeper whose replica dies goes on through the next.
		urls := append(slices.Clone(n.URLs[i%len(n.URLs):]), n.URLs[:i%len(n.URLs)]...)
		k, err := keeper.NewList(urls, n.Keys[i], kc)
		if err != nil {
			n.stopAll()
			n.cleanup()
			return nil, err
		}
		n.Keepers = append(n.Keepers, k)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := k.Run(kctx); err != nil && kctx.Err() == nil {
				n.mu.Lock()
				n.errs = append(n.errs, fmt.Errorf("keeper %d: %w", i, err))
				n.mu.Unlock()
			}
		}()
	}
	return n, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (n *Net) loadOrInit(o Options) error {
	home0 := filepath.Join(n.Dir, "replica-0")
	if _, err := os.Stat(home0); err != nil {
		params, challengers := replica.ReplicatedParams(o.Replicas)
		keys, g, err := setup.InitWith(n.Dir, "lightkeeper-replicanet", o.Keepers, params)
		if err != nil {
			return err
		}
		if _, err := replica.InitTestnet(replica.TestnetOptions{
			Dir: n.Dir, Replicas: o.Replicas, Genesis: g, TimeoutCommit: o.TimeoutCommit, Metrics: true, ChallengerKeys: challengers,
			TimeoutPropose: time.Second,
		}); err != nil {
			return err
		}
		n.Keys, n.Genesis = keys, g
		for i := range o.Replicas {
			if err := setKeys(replica.APIConfigFile(filepath.Join(n.Dir, fmt.Sprintf("replica-%d", i))), o.APIConfig); err != nil {
				return err
			}
		}
	} else {
		g, err := setup.ReadGenesis(filepath.Join(n.Dir, setup.GenesisFile))
		if err != nil {
			return err
		}
		keys, err := setup.ReadKeys(n.Dir)
		if err != nil {
			return err
		}
		if len(keys) < o.Keepers {
			return fmt.Errorf("replicanet: %s holds %d keeper keys, %d wanted", n.Dir, len(keys), o.Keepers)
		}
		n.Keys, n.Genesis = keys, g
	}
	for i := 0; ; i++ {
		home := filepath.Join(n.Dir, fmt.Sprintf("replica-%d", i))
		if _, err := os.Stat(home); err != nil {
			break
		}
		api, err := replica.LoadAPIConfig(home)
		if err != nil {
			return err
		}
		n.homes = append(n.homes, home)
		n.URLs = append(n.URLs, "http://"+api.Network.Listen)
	}
	if len(n.homes) == 0 {
		return fmt.Errorf("replicanet: no replica homes in %s", n.Dir)
	}
	return nil
}

// Home is replica i's CometBFT home; its log is Home(i)+".log".
func (n *Net) Home(i int) string { return n.homes[i] }

// StartReplica starts replica i's process (it must not be running). Its
// output is appended to Home(i)+".log".
func (n *Net) StartReplica(i int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.procs[i] != nil {
		return fmt.Errorf("replicanet: replica %d is running", i)
	}
	logf, err := os.OpenFile(n.homes[i]+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(n.bin, "node", "--home", n.homes[i])
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), n.env[i]...)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("replicanet: start replica %d: %w", i, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	n.procs[i], n.exits[i] = cmd, exited
	n.log.Info("replica started", "replica", i, "pid", cmd.Process.Pid, "api", n.URLs[i])
	return nil
}

// KillReplica sends SIGKILL to replica i and waits for the process to end:
// no shutdown code runs, as in a crash.
func (n *Net) KillReplica(i int) error { return n.signal(i, syscall.SIGKILL) }

// StopReplica stops replica i with SIGTERM and waits for it.
func (n *Net) StopReplica(i int) error { return n.signal(i, syscall.SIGTERM) }

func (n *Net) signal(i int, sig os.Signal) error {
	n.mu.Lock()
	cmd, exited := n.procs[i], n.exits[i]
	n.procs[i] = nil
	n.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("replicanet: replica %d is not running", i)
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("replicanet: replica %d did not stop within 30 s of %v; killed", i, sig)
	}
}

// PauseReplica stops replica i with SIGSTOP: the process stays, silent —
// no votes, no blocks, no answers — until ResumeReplica.
func (n *Net) PauseReplica(i int) error { return n.signalOnly(i, syscall.SIGSTOP) }

// ResumeReplica continues a paused replica (SIGCONT).
func (n *Net) ResumeReplica(i int) error { return n.signalOnly(i, syscall.SIGCONT) }

func (n *Net) signalOnly(i int, sig os.Signal) error {
	n.mu.Lock()
	cmd := n.procs[i]
	n.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("replicanet: replica %d is not running", i)
	}
	return cmd.Process.Signal(sig)
}

// Exited is closed when replica i's current process ends (nil when it
// was never started).
func (n *Net) Exited(i int) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exits[i]
}

// MetricsURL is replica i's CometBFT Prometheus endpoint.
func (n *Net) MetricsURL(i int) (string, error) {
	cfg, err := replica.LoadConfig(n.homes[i])
	if err != nil {
		return "", err
	}
	if !cfg.Instrumentation.Prometheus {
		return "", fmt.Errorf("replicanet: replica %d has no Prometheus metrics", i)
	}
	return "http://" + cfg.Instrumentation.PrometheusListenAddr + "/metrics", nil
}

// Running reports whether replica i's process is running.
func (n *Net) Running(i int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.procs[i] == nil {
		return false
	}
	select {
	case <-n.exits[i]:
		return false
	default:
		return true
	}
}

// Ledger is a client of replica i's ledger service.
func (n *Net) Ledger(i int) lightkeeperv1connect.LedgerServiceClient {
	return lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, n.URLs[i])
}

// ChainInfo asks replica i for its chain info (height, app hash).
func (n *Net) ChainInfo(ctx context.Context, i int) (*lightkeeperv1.GetChainInfoResponse, error) {
	res, err := n.Ledger(i).GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

func (n *Net) waitServing(ctx context.Context, i int, timeout time.Duration) error {
	_, err := n.WaitHeight(ctx, i, 0, timeout)
	return err
}

// WaitHeight waits until replica i has committed height h, and returns
// its chain info then.
func (n *Net) WaitHeight(ctx context.Context, i int, h uint64, timeout time.Duration) (*lightkeeperv1.GetChainInfoResponse, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		info, err := n.ChainInfo(cctx, i)
		cancel()
		if err == nil && info.GetReplicaHeight() >= h {
			return info, nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("at height %d", info.GetReplicaHeight())
		}
		if !n.Running(i) {
			return nil, fmt.Errorf("replicanet: replica %d exited (see %s.log): %v", i, n.homes[i], last)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("replicanet: replica %d not at height %d after %v: %v", i, h, timeout, last)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// WaitOnline waits until at least k keepers are online as replica i sees
// them.
func (n *Net) WaitOnline(ctx context.Context, i, k int, timeout time.Duration) error {
	cl := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, n.URLs[i])
	deadline := time.Now().Add(timeout)
	for {
		online := 0
		for _, key := range n.Keys {
			res, err := cl.GetKeeper(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: setup.KeyID(key)}))
			if err == nil && res.Msg.GetKeeper().GetOnline() {
				online++
			}
		}
		if online >= k {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replicanet: %d of %d keepers online at replica %d after %v", online, k, i, timeout)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops the keepers and every replica (SIGTERM) and removes a
// temporary Dir. It returns the keepers' errors.
func (n *Net) Close() error {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	err := n.stopAll()
	n.cleanup()
	n.mu.Lock()
	defer n.mu.Unlock()
	return errors.Join(append(slices.Clone(n.errs), err)...)
}

func (n *Net) stopAll() error {
	var errs []error
	for i := range n.procs {
		if n.Running(i) {
			errs = append(errs, n.StopReplica(i))
		}
	}
	return errors.Join(errs...)
}

func (n *Net) cleanup() {
	if n.tempDir {
		os.RemoveAll(n.Dir)
	}
}

// SameAppHash waits until the given replicas (every one when none is
// given) report the same committed height and returns that chain info; it
// fails if their app hashes differ there. Under CometBFT's empty blocks
// the heights move every block interval, so it asks again until one round
// of answers shows one height.
func (n *Net) SameAppHash(ctx context.Context, timeout time.Duration, replicas ...int) (*lightkeeperv1.GetChainInfoResponse, error) {
	if len(replicas) == 0 {
		for i := range n.URLs {
			replicas = append(replicas, i)
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		infos := make([]*lightkeeperv1.GetChainInfoResponse, len(replicas))
		var err error
		same := true
		for j, i := range replicas {
			if infos[j], err = n.ChainInfo(ctx, i); err != nil {
				break
			}
			same = same && infos[j].GetReplicaHeight() == infos[0].GetReplicaHeight()
		}
		if err == nil && same {
			for j, info := range infos {
				if len(info.GetAppHash()) == 0 || string(info.GetAppHash()) != string(infos[0].GetAppHash()) {
					return nil, fmt.Errorf("replicanet: at height %d replica %d has app hash %X, replica %d %X", info.GetReplicaHeight(), replicas[j], info.GetAppHash(), replicas[0], infos[0].GetAppHash())
				}
			}
			return infos[0], nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("replicanet: replicas %v were not at one height within %v (last error: %v)", replicas, timeout, err)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Pid is replica i's process id, 0 when it is not running.
func (n *Net) Pid(i int) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.procs[i] == nil {
		return 0
	}
	return n.procs[i].Process.Pid
}

// setKeys rewrites the lines "key = …" of a TOML file.
func setKeys(path string, kv map[string]string) error {
	if len(kv) == 0 {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	for k, v := range kv {
		found := 0
		for i, l := range lines {
			if strings.HasPrefix(l, k+" = ") {
				lines[i] = k + " = " + v
				found++
			}
		}
		if found != 1 {
			return fmt.Errorf("replicanet: %s has %d lines setting %q, want 1", path, found, k)
		}
	}
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600)
}
