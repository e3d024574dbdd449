package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sync"
)

// CAEnv names a PEM file of certificates to trust for https coordinator
// URLs besides the system's roots, like --ca.
const CAEnv = "LIGHTKEEPER_CA"

var (
	// caFile is the --ca flag of every command (a persistent flag of the root).
	caFile string

	clientOnce sync.Once
	httpClient *http.Client
	clientErr  error
)

// apiClient is the HTTP client of every command that talks to a
// coordinator: the default one, or with --ca (or $LIGHTKEEPER_CA) one that
// also trusts that CA. Both speak HTTP/2 to https URLs (ALPN) and
// HTTP/1.1 to http ones.
func apiClient() (*http.Client, error) {
	clientOnce.Do(func() {
		path := caFile
		if path == "" {
			path = os.Getenv(CAEnv)
		}
		if path == "" {
			httpClient = http.DefaultClient
			return
		}
		httpClient, clientErr = caClient(path)
	})
	return httpClient, clientErr
}

func caClient(path string) (*http.Client, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", path)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr.ForceAttemptHTTP2 = true
	return &http.Client{Transport: tr}, nil
}

// mustAPIClient is apiClient for the commands that already checked it in
// parseFlags; should one not have, its requests fail with the error.
func mustAPIClient() *http.Client {
	c, err := apiClient()
	if err != nil {
		return &http.Client{Transport: failingTransport{err}}
	}
	return c
}

type failingTransport struct{ err error }

func (t failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, t.err }
