package service

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lightkeeper-net/lightkeeper/explorer"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// serviceNames are the services offered for reflection and health.
var serviceNames = []string{
	lightkeeperv1connect.RoundServiceName,
	lightkeeperv1connect.KeeperServiceName,
	lightkeeperv1connect.VerifyingKeyServiceName,
	lightkeeperv1connect.LedgerServiceName,
	lightkeeperv1connect.StakingServiceName,
	lightkeeperv1connect.ProgramServiceName,
}

// compressMinBytes leaves small messages (tasks, votes, rounds: a few
// hundred bytes) uncompressed: gzipping each of them cost a fifth of the
// coordinator's CPU under load (docs/benchmarks.md) and saves little.
var compressMinBytes = connect.WithCompressMinBytes(4 << 10)

// fastGzip replaces connect's gzip (default level) with gzip.BestSpeed for
// what the coordinator sends: a decided round with its votes crosses
// compressMinBytes, and compressing each one at the default level took
// about a twentieth of the process's CPU in the bench profile
// (docs/benchmarks.md §8). Decompression is unchanged.
var fastGzip = connect.WithCompression("gzip",
	func() connect.Decompressor { return &gzip.Reader{} },
	func() connect.Compressor {
		w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level: no error
		return w
	})

// Handler returns the node's HTTP handler: the six Connect services,
// gRPC reflection and health, /metrics and the explorer at /explorer/.
func (n *Node) Handler() http.Handler {
	opts := connect.WithHandlerOptions(append([]connect.HandlerOption{
		connect.WithReadMaxBytes(n.cfg.Limits.MaxRequestBytes),
		connect.WithSendMaxBytes(n.cfg.Limits.MaxRequestBytes),
		compressMinBytes,
		fastGzip,
	}, strictJSONCodecs...)...)
	mux := http.NewServeMux()
	mux.Handle(lightkeeperv1connect.NewRoundServiceHandler(roundServer{n}, opts))
	mux.Handle(lightkeeperv1connect.NewKeeperServiceHandler(keeperServer{n}, opts))
	mux.Handle(lightkeeperv1connect.NewVerifyingKeyServiceHandler(verifyingKeyServer{n}, opts))
	mux.Handle(lightkeeperv1connect.NewLedgerServiceHandler(ledgerServer{n}, opts))
	mux.Handle(lightkeeperv1connect.NewStakingServiceHandler(stakingServer{n}, opts))
	// Programs are larger than other requests: up to compute.max_module_bytes.
	programBytes := programMessageBytes(n.computeParams.GetMaxModuleBytes(), n.cfg.Limits.MaxRequestBytes)
	mux.Handle(lightkeeperv1connect.NewProgramServiceHandler(programServer{n}, connect.WithHandlerOptions(append([]connect.HandlerOption{
		connect.WithReadMaxBytes(programBytes),
		connect.WithSendMaxBytes(programBytes),
		compressMinBytes,
		fastGzip,
	}, strictJSONCodecs...)...)))
	reflector := grpcreflect.NewStaticReflector(serviceNames...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.Handle(grpchealth.NewHandler(n.health))
	mux.Handle("/metrics", promhttp.HandlerFor(n.metrics.registry, promhttp.HandlerOpts{}))
	// The explorer reads the API above from the same origin
	// (docs/explorer.md); the root, otherwise unused, leads to it.
	mux.Handle(explorer.Prefix, explorer.Handler())
	mux.Handle("GET /{$}", explorer.Redirect())
	return mux
}

// Serve serves the API on ln until ctx is done: over TLS when
// network.tls_cert and tls_key are set (HTTP/2 by ALPN, and HTTP/1.1),
// else plain HTTP/1.1 and HTTP/2 without TLS (h2c), so Connect, gRPC and
// gRPC-Web share the port either way.
func (n *Node) Serve(ctx context.Context, ln net.Listener) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	srv := &http.Server{
		Handler:           n.Handler(),
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	netCfg := n.cfg.Network
	if netCfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(netCfg.TLSCert, netCfg.TLSKey)
		if err != nil {
			return fmt.Errorf("network.tls_cert, network.tls_key: %w", err)
		}
		protocols.SetHTTP2(true)
		srv.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"h2", "http/1.1"},
		}
		ln = tls.NewListener(ln, srv.TLSConfig)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	case <-n.stopped:
	}
	// Streams never end on their own; give them a moment, then cut them.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
