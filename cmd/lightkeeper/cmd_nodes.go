package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/coordinator/service"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	wasmhost "github.com/lightkeeper-net/lightkeeper/wasmclient/host"
)

func init() {
	register(newInitCmd)
	register(newCoordinatorCmd)
	register(newKeeperCmd)
}

func newInitCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "init --dir DIR [--keepers N] [--chain-id ID]",
		Short: "write keeper keys, genesis.json and a commented config.toml",
		Args:  exactArgs(0, ""),
	}
	dir := c.Flags().String("dir", "", "directory to write into (required)")
	n := c.Flags().Int("keepers", 10, "number of keeper keys in genesis")
	chainID := c.Flags().String("chain-id", "lightkeeper-local", "chain id")
	c.RunE = func(*cobra.Command, []string) error { return initDir(*dir, *n, *chainID) }
	return c
}

func initDir(dir string, n int, chainID string) error {
	if dir == "" {
		return usagef("--dir is required")
	}
	if n < 0 || n > 10000 {
		return usagef("--keepers %d: want 0..10000", n)
	}
	_, g, err := setup.Init(dir, chainID, n)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s, %s and %d keys in %s\n", setup.GenesisFile, setup.ConfigFile, n, filepath.Join(dir, setup.KeysDir))
	fmt.Printf("params hash %x (chain %s, the params of this genesis.json; they are frozen at the first start,\n"+
		"  and offline certificate checks pin them: verify-cert --file CERT --params PARAMS.json --params-hash HASH)\n",
		protocol.ParamsHash(chainID, g.GetParams()), chainID)
	fmt.Printf("start the coordinator: lightkeeper coordinator --config %s --data %s\n",
		filepath.Join(dir, setup.ConfigFile), filepath.Join(dir, "data"))
	return nil
}

func newCoordinatorCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "coordinator --data DIR [--config FILE] [--listen ADDR] [--tls-cert FILE --tls-key FILE]",
		Short: "run a coordinator",
		Args:  exactArgs(0, ""),
	}
	fs := c.Flags()
	var o coordinatorOptions
	o.cfgPath = fs.String("config", "", "config.toml (defaults for every key when empty)")
	o.data = fs.String("data", "", "Pebble data directory (required)")
	o.listen = fs.String("listen", "", "address to serve on (overrides network.listen)")
	o.genesisPath = fs.String("genesis", "", "genesis.json (default: beside --config)")
	o.logLevel = fs.String("log-level", "info", "debug, info, warn or error")
	o.tlsCert = fs.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain) (overrides network.tls_cert)")
	o.tlsKey = fs.String("tls-key", "", "the certificate's PEM private key (overrides network.tls_key)")
	c.RunE = func(cmd *cobra.Command, _ []string) error { return runCoordinator(cmd.Context(), o) }
	return c
}

type coordinatorOptions struct {
	cfgPath, data, listen, genesisPath, logLevel, tlsCert, tlsKey *string
}

func runCoordinator(ctx context.Context, o coordinatorOptions) error {
	cfgPath, data, listen, genesisPath, logLevel, tlsCert, tlsKey := o.cfgPath, o.data, o.listen, o.genesisPath, o.logLevel, o.tlsCert, o.tlsKey
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

// keeperStrategyFlag, set by dev_strategy.go, adds keeper's --strategy
// flag and returns what parses it: the Byzantine behaviours are
// development tools (devtools/byzantine), so the production command only
// has the hook.
var keeperStrategyFlag func(fs *pflag.FlagSet) func() (keeper.Behaviour, error)

func newKeeperCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "keeper --key FILE [--coordinator URL,URL,…] [--pull] [--engine native|wasm [--wasm FILE]]",
		Short: "run a keeper (native, or the wasip1 module under wazero)",
		Long: `Runs a keeper until interrupted.

--coordinator takes one URL or a comma-separated list of the coordinators
(replicas) of one chain, in order of preference: the keeper talks to one at
a time and, when it cannot be reached, moves to the next, re-opens its
session there and re-sends the votes it had not got acknowledged.`,
		Args: exactArgs(0, ""),
	}
	fs := c.Flags()
	url := coordinatorFlag(fs, "coordinator URL, or a comma-separated list of the chain's coordinators")
	keyPath := keyFlag(fs, "keeper key file (required; see 'lightkeeper keys new')")
	pull := fs.Bool("pull", false, "long-poll PullTasks instead of holding a Subscribe stream")
	behaviour := func() (keeper.Behaviour, error) { return nil, nil }
	if keeperStrategyFlag != nil {
		behaviour = keeperStrategyFlag(fs)
	}
	workers := fs.Int("workers", 1, "tasks checked at once")
	engine := fs.String("engine", "native", "what checks tasks: native, or wasm (the wasip1 module under wazero)")
	wf := wasmFlags(fs)
	computeCache := ""
	if dir, err := os.UserCacheDir(); err == nil {
		computeCache = filepath.Join(dir, "lightkeeper", "compute")
	}
	fs.StringVar(&computeCache, "compute-cache", computeCache, "directory keeping compute programs compiled across restarts, native engine (empty: compile after every start)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		if *keyPath == "" {
			return usagef("--key is required")
		}
		coordinators, err := keeper.ParseCoordinators(*url)
		if err != nil {
			return usagef("--coordinator: %v", err)
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
		st, err := behaviour()
		if err != nil {
			return err
		}
		cfg := keeper.NewConfig().WithLogger(log).WithBehaviour(st).WithWorkers(*workers).WithHTTPClient(mustAPIClient())
		if *pull {
			cfg = cfg.WithPull(20 * time.Second)
		}
		if *engine == "native" {
			ne := keeper.NewNativeEngine()
			ne.ComputeCacheDir = computeCache
			cfg = cfg.WithEngine(ne)
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
		k, err := keeper.NewList(coordinators, key, cfg)
		if err != nil {
			return usagef("--coordinator: %v", err)
		}
		log.Info("keeper starting", "keeper", k.ID(), "coordinators", coordinators)
		return k.Run(ctx)
	}
	return c
}

// DefaultWasmModule is where `make wasm-keeper` writes the keeper module.
const DefaultWasmModule = "bin/keeper-wasip1.wasm"

// wasmOptions are the flags of the commands that run wasm keepers.
type wasmOptions struct {
	file, cache *string
	instances   *int
}

func wasmFlags(fs *pflag.FlagSet) wasmOptions {
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
