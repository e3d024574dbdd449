package devnet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/coordinator/service"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/proto"
)

// Options configure a devnet. The zero value of each field is a sensible
// default.
type Options struct {
	// Dir holds genesis, keys and data; a temporary directory when empty
	// (removed by Close). An existing Dir is reused: same keys, same chain.
	Dir string
	// Listen is the coordinator's address; 127.0.0.1:0 when empty.
	Listen string
	// Keepers is how many keepers the genesis has and how many are run.
	Keepers int
	// Byzantine gives the strategies of the last len(Byzantine) keepers.
	Byzantine []byzantine.Strategy
	// ExtraGenesisKeepers get stake in genesis but are not run here (for
	// tests and benchmarks that drive keepers themselves).
	ExtraGenesisKeepers int
	// Config for the coordinator; config.Default() when nil.
	Config *config.Config
	// Params are a new chain's parameters, written into its genesis;
	// protocol.DefaultParams() when nil. An existing Dir's are kept.
	Params *lightkeeperv1.ConsensusParams
	// Keeper is the base keeper configuration.
	Keeper *keeper.Config
	// WasmKeepers is how many of the keepers (the first ones; Byzantine
	// ones are the last) check tasks with WasmEngine instead of the base
	// configuration's engine.
	WasmKeepers int
	// WasmEngine is the wasm keepers' engine, normally a wasmhost.Engine
	// (the wasip1 module under wazero). It is passed in, not built here,
	// so this package and its users do not depend on wazero; one engine
	// serves every wasm keeper, as it is safe for concurrent use.
	WasmEngine keeper.Engine
	Logger     *slog.Logger
	// Genesis, when set, edits a new chain's genesis before it is written
	// (a shielded pool key, balances); an existing Dir's genesis is kept.
	Genesis func(g *lightkeeperv1.Genesis, keys []ed25519.PrivateKey)
}

// Devnet is a running network.
type Devnet struct {
	URL     string
	Node    *service.Node
	Keepers []*keeper.Keeper
	// Keys of every genesis keeper, run here or not.
	Keys    []ed25519.PrivateKey
	Genesis *lightkeeperv1.Genesis
	Dir     string

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	tempDir bool
	mu      sync.Mutex
	errs    []error
}

// Start starts a devnet and returns once the coordinator is serving.
func Start(ctx context.Context, o Options) (*Devnet, error) {
	if len(o.Byzantine) > o.Keepers {
		return nil, fmt.Errorf("byzantine keepers (%d) exceed keepers (%d)", len(o.Byzantine), o.Keepers)
	}
	if o.WasmKeepers < 0 || o.WasmKeepers > o.Keepers {
		return nil, fmt.Errorf("wasm keepers (%d): want 0..%d", o.WasmKeepers, o.Keepers)
	}
	if o.WasmKeepers > 0 && o.WasmEngine == nil {
		return nil, errors.New("wasm keepers need a WasmEngine")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Devnet{Dir: o.Dir}
	if d.Dir == "" {
		dir, err := os.MkdirTemp("", "lightkeeper-devnet-")
		if err != nil {
			return nil, err
		}
		d.Dir, d.tempDir = dir, true
	}
	cfg := config.Default()
	if o.Config != nil {
		cfg = *o.Config
	}
	if err := d.loadOrInit(o.Keepers+o.ExtraGenesisKeepers, o.Params, o.Genesis); err != nil {
		d.cleanup()
		return nil, err
	}
	node, err := service.Open(service.Options{
		Config: cfg, Genesis: d.Genesis, DataDir: filepath.Join(d.Dir, "data"), Logger: log,
	})
	if err != nil {
		d.cleanup()
		return nil, err
	}
	d.Node = node
	listen := o.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		node.Close()
		d.cleanup()
		return nil, err
	}
	d.URL = "http://" + ln.Addr().String()
	ctx, d.cancel = context.WithCancel(ctx)
	d.goRun("coordinator", func() error { return node.Run(ctx) })
	d.goRun("server", func() error { return node.Serve(ctx, ln) })

	base := keeper.NewConfig().WithLogger(log)
	if o.Keeper != nil {
		base = *o.Keeper
	}
	// Each keeper gets its own connection pool so one slow stream never
	// queues another keeper's votes behind it.
	for i := 0; i < o.Keepers; i++ {
		kc := base.WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}})
		if b := i - (o.Keepers - len(o.Byzantine)); b >= 0 {
			kc = kc.WithBehaviour(o.Byzantine[b])
		}
		if i < o.WasmKeepers {
			kc = kc.WithEngine(o.WasmEngine)
		}
		k := keeper.New(d.URL, d.Keys[i], kc)
		d.Keepers = append(d.Keepers, k)
		d.goRun("keeper", func() error { return k.Run(ctx) })
	}
	return d, nil
}

func (d *Devnet) loadOrInit(n int, params *lightkeeperv1.ConsensusParams, edit func(*lightkeeperv1.Genesis, []ed25519.PrivateKey)) error {
	gpath := filepath.Join(d.Dir, setup.GenesisFile)
	if _, err := os.Stat(gpath); err == nil {
		g, err := setup.ReadGenesis(gpath)
		if err != nil {
			return err
		}
		keys, err := setup.ReadKeys(d.Dir)
		if err != nil {
			return err
		}
		if len(keys) < n {
			return fmt.Errorf("%s holds %d keeper keys, %d wanted", d.Dir, len(keys), n)
		}
		d.Genesis, d.Keys = g, keys
		return nil
	}
	keys, g, err := setup.Init(d.Dir, "lightkeeper-devnet", n)
	d.Genesis, d.Keys = g, keys
	if err == nil && (edit != nil || params != nil) {
		if params != nil {
			g.Params = proto.Clone(params).(*lightkeeperv1.ConsensusParams)
		}
		if edit != nil {
			edit(g, keys)
		}
		err = setup.WriteGenesis(gpath, g)
	}
	return err
}

func (d *Devnet) goRun(name string, f func() error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := f(); err != nil {
			d.mu.Lock()
			d.errs = append(d.errs, fmt.Errorf("%s: %w", name, err))
			d.mu.Unlock()
		}
	}()
}

// WaitOnline waits until n keepers are online, or the timeout passes.
func (d *Devnet) WaitOnline(ctx context.Context, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	// Until the node's first block, the flags are those a previous run
	// stored: keepers of a restarted devnet would count as online before
	// the node takes them offline.
	select {
	case <-d.Node.Started():
	case <-time.After(timeout):
		return fmt.Errorf("coordinator not started after %v", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		online := 0
		for _, k := range d.Node.Keepers() {
			if k.GetOnline() {
				online++
			}
		}
		if online >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d keepers online after %v", online, n, timeout)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops everything and removes a temporary directory.
func (d *Devnet) Close() error {
	d.cancel()
	d.wg.Wait()
	err := d.Node.Close()
	d.cleanup()
	d.mu.Lock()
	defer d.mu.Unlock()
	return errors.Join(append(d.errs, err)...)
}

func (d *Devnet) cleanup() {
	if d.tempDir {
		os.RemoveAll(d.Dir)
	}
}
