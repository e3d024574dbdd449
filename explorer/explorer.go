// Package explorer serves the explorer: a page that reads the
// coordinator's own Connect API (same origin) and shows rounds, keepers,
// epochs and the shielded pool's withdrawals (docs/explorer.md). The page
// is built from web/ with esbuild (`make explorer`) and the bundle in
// dist/ is committed, so building the coordinator needs no npm;
// `make checkexplorer` fails when the bundle is not what web/ builds.
package explorer

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed dist
var dist embed.FS

// ContentSecurityPolicy is sent with every file: the page loads nothing
// but its own files and talks only to its own origin, so a script
// injected through data it shows could neither run inline nor call out.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Prefix is where the coordinator mounts Handler.
const Prefix = "/explorer/"

// Handler serves the bundle under Prefix. The page routes by the URL's
// fragment (#/round/ID), so the server knows only its few files.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embedded tree always has dist/
	}
	files := http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the explorer serves GET and HEAD only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The files change only with the binary; revalidating each load
		// costs little on loopback and never shows a stale page.
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// Redirect sends a visitor of the coordinator's root to the explorer.
func Redirect() http.Handler {
	return http.RedirectHandler(Prefix, http.StatusFound)
}
