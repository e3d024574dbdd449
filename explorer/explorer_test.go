package explorer_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/explorer"
)

func get(t *testing.T, srv *httptest.Server, method, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// TestHandler: the page and every file it names are served under Prefix
// with the Content-Security-Policy, nothing else is, and only GET/HEAD.
func TestHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(explorer.Prefix, explorer.Handler())
	mux.Handle("GET /{$}", explorer.Redirect())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, _ := get(t, srv, "GET", "/")
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != explorer.Prefix {
		t.Fatalf("GET /: %s, Location %q", res.Status, res.Header.Get("Location"))
	}
	res, index := get(t, srv, "GET", explorer.Prefix)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %s, %s", explorer.Prefix, res.Status, res.Header.Get("Content-Type"))
	}
	if got := res.Header.Get("Content-Security-Policy"); got != explorer.ContentSecurityPolicy || !strings.Contains(got, "default-src 'self'") {
		t.Fatalf("Content-Security-Policy %q", got)
	}
	// Every file the page loads is ours, relative, and served.
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(index, -1)
	types := map[string]string{".js": "text/javascript", ".css": "text/css"}
	seen := 0
	for _, m := range refs {
		ref := m[1]
		if ref == "data:," { // the empty favicon: no request
			continue
		}
		if strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") {
			t.Errorf("index.html loads %q: want a file of the bundle", ref)
			continue
		}
		res, body := get(t, srv, "GET", explorer.Prefix+ref)
		ext := ref[strings.LastIndex(ref, "."):]
		if res.StatusCode != http.StatusOK || len(body) == 0 || !strings.HasPrefix(res.Header.Get("Content-Type"), types[ext]) {
			t.Errorf("GET %s: %s, %s, %d bytes", ref, res.Status, res.Header.Get("Content-Type"), len(body))
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", ref)
		}
		seen++
	}
	if seen != 2 {
		t.Errorf("index.html loads %d files, want app.js and app.css: %v", seen, refs)
	}
	if res, _ := get(t, srv, "GET", explorer.Prefix+"nothing.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown file: %s", res.Status)
	}
	if res, _ := get(t, srv, "POST", explorer.Prefix); res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %s, Allow %q", res.Status, res.Header.Get("Allow"))
	}
}
