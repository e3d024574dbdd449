package compute

import "runtime"

// compilerSupported mirrors wazero's own test (internal/platform): its
// compiler runs on amd64 and arm64 under these operating systems. wazero's
// NewRuntimeConfigCompiler panics elsewhere, so the check is made first.
func compilerSupported() bool {
	switch runtime.GOARCH {
	case "amd64", "arm64":
	default:
		return false
	}
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "windows":
		return true
	}
	return false
}
