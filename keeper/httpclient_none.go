//go:build lightkeeper_nohttpclient

package keeper

import (
	"errors"
	"net/http"

	"connectrpc.com/connect"
)

// Built with the tag lightkeeper_nohttpclient, the package does not refer
// to net/http's Client: once any *http.Client is held as an interface, the
// linker keeps its Transport and with it crypto/tls and crypto/x509 —
// about 1 MB gzipped of the edge worker, whose requests go through the
// runtime's fetch instead (make edge-worker-proofs). Such a host must set
// its client with Config.WithHTTPClient.

// errNoHTTPClient is every request's error when the host set no client.
var errNoHTTPClient = errors.New("keeper built without a default HTTP client (tag lightkeeper_nohttpclient): set one with Config.WithHTTPClient")

type noHTTPClient struct{}

func (noHTTPClient) Do(*http.Request) (*http.Response, error) { return nil, errNoHTTPClient }

func defaultHTTPClient() connect.HTTPClient { return noHTTPClient{} }
