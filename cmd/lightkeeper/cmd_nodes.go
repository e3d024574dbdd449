package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/coordinator/service"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	wasmhost "github.com/lightkeeper-net/lightkeeper/wasmclient/host"
)

func init() {
	register("init", "write keeper keys, genesis.json and a commented config.toml", cmdInit)
	register("coordinator", "run a coordinator", cmdCoordinator)
	register("keeper", "run a keeper (native, or the wasip1 module under wazero)", cmdKeeper)
	register("devnet", "run a coordinator and keepers in one process", cmdDevnet)
}

func cmdInit(ctx context.Context, args []string) error {
	fs := newFlags("init", "init --dir DIR [--keepers N] [--chain-id ID]")
	dir := fs.String("dir", "", "directory to write into (required)")
	n := fs.Int("keepers", 10, "number of keeper keys in genesis")
	chainID := fs.String("chain-id", "lightkeeper-local", "chain id")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	if *n < 0 || *n > 10000 {
		return usagef("--keepers %d: want 0..10000", *n)
	}
	_, g, err := setup.Init(*dir, *chainID, *n)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s, %s and %d keys in %s\n", setup.GenesisFile, setup.ConfigFile, *n, filepath.Join(*dir, setup.KeysDir))
	fmt.Printf("params hash %x (chain %s, the params of this genesis.json; they are frozen at the first start,\n"+
		"  and offline certificate checks pin them: verify-cert --file CERT --params PARAMS.json --params-hash HASH)\n",
		protocol.ParamsHash(*chainID, g.GetParams()), *chainID)
	fmt.Printf("start the coordinator: lightkeeper coordinator --config %s --data %s\n",
		filepath.Join(*dir, setup.ConfigFile), filepath.Join(*dir, "data"))
	return nil
}

func cmdCoordinator(ctx context.Context, args []string) error {
	fs := newFlags("coordinator", "coordinator --config FILE --data DIR [--listen ADDR] [--genesis FILE] [--tls-cert FILE --tls-key FILE]")
	cfgPath := fs.String("config", "", "config.toml (defaults for every key when empty)")
	data := fs.String("data", "", "Pebble data directory (required)")
	listen := fs.String("listen", "", "address to serve on (overrides network.listen)")
	genesisPath := fs.String("genesis", "", "genesis.json (default: beside --config)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain) (overrides network.tls_cert)")
	tlsKey := fs.String("tls-key", "", "the certificate's PEM private key (overrides network.tls_key)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return usagef("--data is required")
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	cfg := config.Default()
	if *cfgPath != "" {
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
		if *genesisPath == "" {
			*genesisPath = filepath.Join(filepath.Dir(*cfgPath), setup.GenesisFile)
		}
	}
	if *listen != "" {
		cfg.Network.Listen = *listen
	}
	if err := tlsSettings(&cfg.Network, *cfgPath, *tlsCert, *tlsKey); err != nil {
		return err
	}
	var opts = service.Options{Config: cfg, DataDir: *data, Logger: log}
	if *genesisPath != "" {
		if _, err := os.Stat(*genesisPath); err == nil {
			if opts.Genesis, err = setup.ReadGenesis(*genesisPath); err != nil {
				return err
			}
		}
	}
	node, err := service.Open(opts)
	if err != nil {
		return err
	}
	defer node.Close()
	ln, err := net.Listen("tcp", cfg.Network.Listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if cfg.Network.TLSCert != "" {
		scheme = "https"
	}
	log.Info("coordinator serving", "url", scheme+"://"+ln.Addr().String(), "chain_id", node.ChainID(), "data", *data)
	fmt.Printf("coordinator listening on %s://%s\n", scheme, ln.Addr())
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return node.Run(ctx) })
	g.Go(func() error { return node.Serve(ctx, ln) })
	return g.Wait()
}

// tlsSettings applies --tls-cert and --tls-key over the config's, makes
// the config's paths relative to its file, and checks that both or
// neither are set and that the pair loads.
func tlsSettings(n *config.Network, cfgPath, cert, key string) error {
	if cfgPath != "" {
		for _, p := range []*string{&n.TLSCert, &n.TLSKey} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(filepath.Dir(cfgPath), *p)
			}
		}
	}
	if cert != "" || key != "" {
		n.TLSCert, n.TLSKey = cert, key
	}
	if (n.TLSCert == "") != (n.TLSKey == "") {
		return usagef("TLS needs both a certificate and a key (--tls-cert and --tls-key, or network.tls_cert and tls_key)")
	}
	if n.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(n.TLSCert, n.TLSKey); err != nil {
			return fmt.Errorf("TLS certificate %s, key %s: %w", n.TLSCert, n.TLSKey, err)
		}
	}
	return nil
}

func cmdKeeper(ctx context.Context, args []string) error {
	fs := newFlags("keeper", "keeper --coordinator URL --key FILE [--pull] [--strategy S] [--engine native|wasm [--wasm FILE]]")
	url := fs.String("coordinator", "http://127.0.0.1:8080", "coordinator URL")
	keyPath := fs.String("key", "", "keeper key file (required; see 'lightkeeper keys new')")
	pull := fs.Bool("pull", false, "long-poll PullTasks instead of holding a Subscribe stream")
	strategy := fs.String("strategy", string(byzantine.Honest), "behaviour, for testing: honest, approve-all, reject-all, random, silent, equivocate, wrong-output")
	workers := fs.Int("workers", 1, "tasks checked at once")
	engine := fs.String("engine", "native", "what checks tasks: native, or wasm (the wasip1 module under wazero)")
	wf := wasmFlags(fs)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keyPath == "" {
		return usagef("--key is required")
	}
	if *engine != "native" && *engine != "wasm" {
		return usagef("--engine %q: want native or wasm", *engine)
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	key, err := setup.ReadKey(*keyPath)
	if err != nil {
		return err
	}
	st, err := byzantine.ParseStrategy(*strategy)
	if err != nil {
		return usageError{err}
	}
	cfg := keeper.NewConfig().WithLogger(log).WithBehaviour(st).WithWorkers(*workers).WithHTTPClient(mustAPIClient())
	if *pull {
		cfg = cfg.WithPull(20 * time.Second)
	}
	if *engine == "wasm" {
		if *wf.instances <= 0 {
			*wf.instances = *workers // one instance per task checked at once
		}
		h, err := wf.open(ctx, log)
		if err != nil {
			return err
		}
		defer h.Close(context.WithoutCancel(ctx))
		cfg = cfg.WithEngine(h.Engine())
	}
	k := keeper.New(*url, key, cfg)
	log.Info("keeper starting", "keeper", k.ID(), "coordinator", *url)
	return k.Run(ctx)
}

func cmdDevnet(ctx context.Context, args []string) error {
	fs := newFlags("devnet", "devnet [--listen ADDR] [--data DIR] [--keepers N] [--byzantine N --byzantine-strategy S] [--wasm-keepers N [--wasm FILE]]")
	listen := fs.String("listen", "127.0.0.1:8080", "coordinator address")
	data := fs.String("data", "", "directory for keys, genesis and data (temporary when empty)")
	n := fs.Int("keepers", 10, "keepers to run")
	byz := fs.Int("byzantine", 0, "how many of them are Byzantine")
	strategy := fs.String("byzantine-strategy", string(byzantine.ApproveAll), "approve-all, reject-all, random, silent, equivocate or wrong-output")
	nwasm := fs.Int("wasm-keepers", 0, "how many of them (the first ones) check tasks in the wasip1 module under wazero")
	wf := wasmFlags(fs)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	poolVK := fs.String("pool-vk", "", "enable the shielded pool with this verifying key (from 'wallet setup'); a new chain only")
	poolBalance := fs.Uint64("pool-balance", 1_000_000, "with --pool-vk: the genesis balance of every keeper key, to deposit from")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	var poolKey []byte
	if *poolVK != "" {
		if poolKey, err = os.ReadFile(*poolVK); err != nil {
			return err
		}
	}
	st, err := byzantine.ParseStrategy(*strategy)
	if err != nil {
		return usageError{err}
	}
	if *byz < 0 || *byz > *n {
		return usagef("--byzantine %d: want 0..%d", *byz, *n)
	}
	if *nwasm < 0 || *nwasm > *n {
		return usagef("--wasm-keepers %d: want 0..%d", *nwasm, *n)
	}
	opts := devnet.Options{
		Dir: *data, Listen: *listen, Keepers: *n, Byzantine: slices.Repeat([]byzantine.Strategy{st}, *byz), Logger: log,
	}
	if poolKey != nil {
		opts.Genesis = poolGenesis(poolKey, *poolBalance)
	}
	if *nwasm > 0 {
		// One host (one compiled module, pooled instances) serves every
		// wasm keeper.
		h, err := wf.open(ctx, log)
		if err != nil {
			return err
		}
		defer h.Close(context.WithoutCancel(ctx))
		opts.WasmKeepers, opts.WasmEngine = *nwasm, h.Engine()
	}
	d, err := devnet.Start(ctx, opts)
	if err != nil {
		return err
	}
	if err := d.WaitOnline(ctx, *n, 30*time.Second); err != nil {
		d.Close()
		return err
	}
	fmt.Printf("devnet ready: %s (chain %s, %d keepers, %d %s, %d wasm; data in %s)\n", d.URL, d.Genesis.GetChainId(), *n, *byz, st, *nwasm, d.Dir)
	<-ctx.Done()
	return d.Close()
}

// DefaultWasmModule is where `make wasm-keeper` writes the keeper module.
const DefaultWasmModule = "bin/keeper-wasip1.wasm"

// wasmOptions are the flags of the commands that run wasm keepers.
type wasmOptions struct {
	file, cache *string
	instances   *int
}

func wasmFlags(fs *flag.FlagSet) wasmOptions {
	cache := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "lightkeeper", "wazero")
	}
	return wasmOptions{
		file:      fs.String("wasm", DefaultWasmModule, "the wasip1 keeper module (build it with 'make wasm-keeper')"),
		cache:     fs.String("wasm-cache", cache, "directory caching the module's compiled code across runs (empty: compile at every start)"),
		instances: fs.Int("wasm-instances", 0, "module instances run at once (default: one per CPU, or --workers for a keeper)"),
	}
}

// open loads the module: compiled (or taken from the cache) once, with
// instances started on demand.
func (o wasmOptions) open(ctx context.Context, log *slog.Logger) (*wasmhost.Host, error) {
	if _, err := os.Stat(*o.file); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("wasm keeper module %s not found: build it with 'make wasm-keeper', or pass --wasm FILE", *o.file)
	}
	cfg := wasmhost.NewConfig().WithCompilationCacheDir(*o.cache).WithLogger(log).WithStderr(os.Stderr)
	if *o.instances > 0 {
		cfg = cfg.WithMaxInstances(*o.instances)
	}
	start := time.Now()
	h, err := wasmhost.Load(ctx, *o.file, cfg)
	if err != nil {
		return nil, err
	}
	log.Info("wasm keeper module loaded", "file", *o.file, "compile", h.Stats().CompileTime.Round(time.Millisecond),
		"start", time.Since(start).Round(time.Millisecond), "cache", *o.cache)
	return h, nil
}
