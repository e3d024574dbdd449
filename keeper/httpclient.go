//go:build !lightkeeper_nohttpclient

package keeper

import (
	"net/http"

	"connectrpc.com/connect"
)

// defaultHTTPClient is the client a Config starts with (httpclient_none.go
// has the build without one).
func defaultHTTPClient() connect.HTTPClient { return http.DefaultClient }
