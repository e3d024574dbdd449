package wasmcheck

import "sort"

// WASIModule is the only import module a program may use.
const WASIModule = "wasi_snapshot_preview1"

const i32, i64 = valI32, valI64

func sig(p ...byte) []byte { return p }

// wasiSignatures is the deterministic WASI subset: name -> signature. An
// import of any other name, or of one of these names with another
// signature, is refused at registration. What each function does is
// verifier/compute's (wasi.go), which has one behaviour for every name here.
var wasiSignatures = map[string]funcType{
	// Arguments and environment: argv is ["program"], the environment empty.
	"args_get":          {sig(i32, i32), sig(i32)},
	"args_sizes_get":    {sig(i32, i32), sig(i32)},
	"environ_get":       {sig(i32, i32), sig(i32)},
	"environ_sizes_get": {sig(i32, i32), sig(i32)},
	// Clocks: derived from the fuel used and the time slept, nothing else.
	"clock_res_get":  {sig(i32, i32), sig(i32)},
	"clock_time_get": {sig(i32, i64, i32), sig(i32)},
	// Descriptors: 0 (stdin, the input), 1 (stdout, the output), 2
	// (stderr, discarded); no preopened directories, so no other
	// descriptor can ever exist.
	"fd_advise":             {sig(i32, i64, i64, i32), sig(i32)},
	"fd_allocate":           {sig(i32, i64, i64), sig(i32)},
	"fd_close":              {sig(i32), sig(i32)},
	"fd_datasync":           {sig(i32), sig(i32)},
	"fd_fdstat_get":         {sig(i32, i32), sig(i32)},
	"fd_fdstat_set_flags":   {sig(i32, i32), sig(i32)},
	"fd_fdstat_set_rights":  {sig(i32, i64, i64), sig(i32)},
	"fd_filestat_get":       {sig(i32, i32), sig(i32)},
	"fd_filestat_set_size":  {sig(i32, i64), sig(i32)},
	"fd_filestat_set_times": {sig(i32, i64, i64, i32), sig(i32)},
	"fd_pread":              {sig(i32, i32, i32, i64, i32), sig(i32)},
	"fd_prestat_get":        {sig(i32, i32), sig(i32)},
	"fd_prestat_dir_name":   {sig(i32, i32, i32), sig(i32)},
	"fd_pwrite":             {sig(i32, i32, i32, i64, i32), sig(i32)},
	"fd_read":               {sig(i32, i32, i32, i32), sig(i32)},
	"fd_readdir":            {sig(i32, i32, i32, i64, i32), sig(i32)},
	"fd_renumber":           {sig(i32, i32), sig(i32)},
	"fd_seek":               {sig(i32, i64, i32, i32), sig(i32)},
	"fd_sync":               {sig(i32), sig(i32)},
	"fd_tell":               {sig(i32, i32), sig(i32)},
	"fd_write":              {sig(i32, i32, i32, i32), sig(i32)},
	// Paths: every directory descriptor is missing (EBADF) or a character
	// device (ENOTDIR), so no file can be opened, made or inspected.
	"path_create_directory":   {sig(i32, i32, i32), sig(i32)},
	"path_filestat_get":       {sig(i32, i32, i32, i32, i32), sig(i32)},
	"path_filestat_set_times": {sig(i32, i32, i32, i32, i64, i64, i32), sig(i32)},
	"path_link":               {sig(i32, i32, i32, i32, i32, i32, i32), sig(i32)},
	"path_open":               {sig(i32, i32, i32, i32, i32, i64, i64, i32, i32), sig(i32)},
	"path_readlink":           {sig(i32, i32, i32, i32, i32, i32), sig(i32)},
	"path_remove_directory":   {sig(i32, i32, i32), sig(i32)},
	"path_rename":             {sig(i32, i32, i32, i32, i32, i32), sig(i32)},
	"path_symlink":            {sig(i32, i32, i32, i32, i32), sig(i32)},
	"path_unlink_file":        {sig(i32, i32, i32), sig(i32)},
	// Scheduling and process.
	"poll_oneoff": {sig(i32, i32, i32, i32), sig(i32)},
	"proc_exit":   {sig(i32), nil},
	"sched_yield": {nil, sig(i32)},
	// Randomness: a SHA-256 stream seeded by the round.
	"random_get": {sig(i32, i32), sig(i32)},
	// Sockets: there are none; stdio descriptors are not sockets.
	"sock_accept":   {sig(i32, i32, i32), sig(i32)},
	"sock_recv":     {sig(i32, i32, i32, i32, i32, i32), sig(i32)},
	"sock_send":     {sig(i32, i32, i32, i32, i32), sig(i32)},
	"sock_shutdown": {sig(i32, i32), sig(i32)},
}

// WASIFunctions lists the subset's function names, sorted.
func WASIFunctions() []string {
	names := make([]string, 0, len(wasiSignatures))
	for n := range wasiSignatures {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// WASISignature returns the parameter and result value types (binary
// encoding: 0x7f i32, 0x7e i64) of a function of the subset.
func WASISignature(name string) (params, results []byte, ok bool) {
	f, ok := wasiSignatures[name]
	return f.params, f.results, ok
}
