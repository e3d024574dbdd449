package pebbledb

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// LayoutVersion is the version of the key layout this build reads and
// writes. It is stored under the layout key of every data directory; a
// directory written by another layout version is refused at Open.
const LayoutVersion = 1

// DefaultListLimit is the page size ListRounds uses when limit <= 0.
const DefaultListLimit = 100

// Sentinel errors. Every error the package returns for one of these
// conditions wraps the sentinel, so callers test with errors.Is.
var (
	// ErrNotFound: the record asked for does not exist.
	ErrNotFound = errors.New("pebbledb: not found")
	// ErrLayoutVersion: the data directory was written by another layout
	// version.
	ErrLayoutVersion = errors.New("pebbledb: layout version mismatch")
	// ErrNotInitialized: no batch with PutMeta has been committed yet.
	ErrNotInitialized = errors.New("pebbledb: store not initialized")
	// ErrCorrupt: a stored value or index entry cannot be decoded, or an
	// index points at a missing record.
	ErrCorrupt = errors.New("pebbledb: corrupt data")
	// ErrInvalidPageToken: a ListRounds page token was not produced by
	// ListRounds.
	ErrInvalidPageToken = errors.New("pebbledb: invalid page token")
	// ErrInvalidID: an id is not 64 lowercase hex digits.
	ErrInvalidID = errors.New("pebbledb: invalid id")
	// ErrInvalidRecord: a record cannot be stored (nil, or missing the
	// field its key is built from).
	ErrInvalidRecord = errors.New("pebbledb: invalid record")
	// ErrNotStore: the path is not a directory, or holds files that are not
	// a Pebble database, or a Pebble database that pebbledb did not write.
	ErrNotStore = errors.New("pebbledb: not a lightkeeper data directory")
	// ErrLocked: another Store (in this or another process) has the data
	// directory open.
	ErrLocked = errors.New("pebbledb: data directory locked")
	// ErrClosed: the Store or Batch has been closed (a Batch also by
	// Commit).
	ErrClosed = errors.New("pebbledb: closed")
)

// Option configures Open.
type Option func(*options)

type options struct {
	cacheSize int64
	logger    *slog.Logger
	fs        vfs.FS
}

// WithCacheSize sets the size in bytes of Pebble's block cache. The default
// is Pebble's (8 MiB).
func WithCacheSize(bytes int64) Option {
	return func(o *options) { o.cacheSize = bytes }
}

// WithLogger routes Pebble's log messages to l (Infof at Info, Errorf at
// Error, Fatalf at Error followed by a panic). A nil logger silences Pebble
// (Fatalf still panics). Without this option the messages go to
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		o.logger = l
	}
}

// withFS makes Open use another file system (tests use a crashable
// in-memory one).
func withFS(fs vfs.FS) Option {
	return func(o *options) { o.fs = fs }
}

// Store is the coordinator's storage. It is safe for concurrent readers
// together with one writer (one Batch at a time). Close must not race with
// other calls.
type Store struct {
	db     *pebble.DB
	lock   *pebble.Lock
	dir    string
	closed atomic.Bool
}

// Open opens the store in dir, creating the directory and a fresh store if
// needed. A directory written by another layout version fails with an error
// wrapping ErrLayoutVersion; one that holds something other than a Pebble
// database with ErrNotStore; one another Store has open with ErrLocked.
func Open(dir string, opts ...Option) (*Store, error) {
	o := options{logger: slog.Default(), fs: vfs.Default}
	for _, opt := range opts {
		opt(&o)
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: empty data directory path", ErrNotStore)
	}
	if err := prepareDir(o.fs, dir); err != nil {
		return nil, err
	}
	lock, err := pebble.LockDirectory(dir, o.fs)
	if err != nil {
		var pathErr *iofs.PathError
		if errors.As(err, &pathErr) {
			// Creating the LOCK file failed: not a lock conflict.
			return nil, fmt.Errorf("pebbledb: open %q: %w", dir, err)
		}
		return nil, fmt.Errorf("%w: data directory %q is in use by another store or process: %v", ErrLocked, dir, err)
	}

	popts := &pebble.Options{
		FS:     o.fs,
		Lock:   lock,
		Logger: slogLogger{o.logger.With("component", "pebble", "dir", dir)},
	}
	if o.cacheSize > 0 {
		cache := pebble.NewCache(o.cacheSize)
		defer cache.Unref() // Open takes its own reference
		popts.Cache = cache
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		_ = lock.Close()
		if pebble.IsCorruptionError(err) {
			return nil, fmt.Errorf("%w: open %q: %w", ErrCorrupt, dir, err)
		}
		return nil, fmt.Errorf("pebbledb: open %q: %w", dir, err)
	}
	s := &Store{db: db, lock: lock, dir: dir}
	if err := s.checkLayout(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// prepareDir creates dir if it does not exist and refuses a path that is
// not a directory, or a non-empty directory with no Pebble files in it.
func prepareDir(fs vfs.FS, dir string) error {
	fi, err := fs.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := fs.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("pebbledb: create data directory: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("pebbledb: data directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("%w: %q is not a directory", ErrNotStore, dir)
	}
	names, err := fs.List(dir)
	if err != nil {
		return fmt.Errorf("pebbledb: list data directory %q: %w", dir, err)
	}
	if len(names) == 0 || containsPebbleFile(names) {
		return nil
	}
	return fmt.Errorf("%w: %q is not empty and holds no Pebble database (found %q); use an empty or new directory", ErrNotStore, dir, names[0])
}

// containsPebbleFile reports whether a directory listing has a file only
// Pebble writes (a database, possibly half-created).
func containsPebbleFile(names []string) bool {
	for _, n := range names {
		if n == "LOCK" || n == "CURRENT" || strings.HasPrefix(n, "MANIFEST-") ||
			strings.HasPrefix(n, "OPTIONS-") || strings.HasPrefix(n, "marker.") {
			return true
		}
	}
	return false
}

// checkLayout writes the layout version into an empty database and checks
// it in an existing one.
func (s *Store) checkLayout() error {
	val, closer, err := s.db.Get(layoutKey)
	if errors.Is(err, pebble.ErrNotFound) {
		empty, err := s.isEmpty()
		if err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("%w: %q holds a Pebble database without a layout version key; it was not written by pebbledb", ErrNotStore, s.dir)
		}
		if err := s.db.Set(layoutKey, encodeLayoutVersion(LayoutVersion), pebble.Sync); err != nil {
			return fmt.Errorf("pebbledb: write layout version: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("pebbledb: read layout version: %w", err)
	}
	v, err := decodeLayoutVersion(val)
	_ = closer.Close()
	if err != nil {
		return fmt.Errorf("data directory %q: %w", s.dir, err)
	}
	if v != LayoutVersion {
		return fmt.Errorf("%w: data directory %q was written by layout version %d; this build reads version %d: migrate or use a new data directory",
			ErrLayoutVersion, s.dir, v, LayoutVersion)
	}
	return nil
}

func (s *Store) isEmpty() (bool, error) {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return false, err
	}
	empty := !it.First()
	if err := it.Close(); err != nil {
		return false, err
	}
	return empty, nil
}

// Close closes the database and releases the directory lock. Calling it
// again returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.db.Close()
	if lerr := s.lock.Close(); err == nil {
		err = lerr
	}
	return err
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) check() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// get reads key from r into msg. A missing key returns a bare ErrNotFound
// for the caller to wrap.
func get(r pebble.Reader, key []byte, msg proto.Message) error {
	val, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("pebbledb: read %s: %w", familyName(key), err)
	}
	err = proto.Unmarshal(val, msg) // copies; val is not retained
	_ = closer.Close()
	if err != nil {
		return corrupt(key, err)
	}
	return nil
}

func corrupt(key []byte, err error) error {
	return fmt.Errorf("%w: %s record at key %x: %v", ErrCorrupt, familyName(key), key, err)
}

// scan calls fn for every key of a family in key order (reverse if
// reverse). Key and value are only valid during the call.
func scan(r pebble.Reader, prefix byte, fn func(key, val []byte) error) (err error) {
	lo, hi := prefixBounds(prefix)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := it.Close(); err == nil {
			err = cerr
		}
	}()
	for ok := it.First(); ok; ok = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key(), val); err != nil {
			return err
		}
	}
	return it.Error()
}

// Initialized reports whether a batch with PutMeta has been committed.
func (s *Store) Initialized() (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	_, closer, err := s.db.Get([]byte{prefixMeta})
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pebbledb: read meta: %w", err)
	}
	_ = closer.Close()
	return true, nil
}

// Meta returns the state meta; ErrNotInitialized before the first commit
// with PutMeta.
func (s *Store) Meta() (*lightkeeperv1.StateMeta, error) {
	m, err := record[*lightkeeperv1.StateMeta](s, ledger.Meta, nil, "state meta")
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: no state meta in %q", ErrNotInitialized, s.dir)
	}
	return m, err
}

// Genesis returns the genesis; ErrNotFound if none was stored.
func (s *Store) Genesis() (*lightkeeperv1.Genesis, error) {
	return record[*lightkeeperv1.Genesis](s, ledger.Genesis, nil, "genesis")
}

// Block returns the block at height.
func (s *Store) Block(height uint64) (*lightkeeperv1.Block, error) {
	return record[*lightkeeperv1.Block](s, ledger.Block, ledger.HeightKey(height), "block at height %d", height)
}

// Round returns the round with the given id.
func (s *Store) Round(id string) (*lightkeeperv1.Round, error) {
	return recordByID[*lightkeeperv1.Round](s, ledger.Round, "round", id)
}

// EligibleList returns the weighted eligible list stored under hash
// (protocol.EligibleListHash, 32 bytes), which rounds and certificates
// carry instead of the list.
func (s *Store) EligibleList(hash []byte) (*lightkeeperv1.EligibleList, error) {
	if len(hash) != idLen {
		return nil, fmt.Errorf("%w: eligible list hash: %d bytes, want %d", ErrInvalidID, len(hash), idLen)
	}
	return record[*lightkeeperv1.EligibleList](s, ledger.EligibleLists, hash, "eligible list %x", hash)
}

// Keeper returns the keeper with the given id.
func (s *Store) Keeper(id string) (*lightkeeperv1.Keeper, error) {
	return recordByID[*lightkeeperv1.Keeper](s, ledger.Keeper, "keeper", id)
}

// Keepers returns every keeper, sorted by id.
func (s *Store) Keepers() ([]*lightkeeperv1.Keeper, error) {
	return records[*lightkeeperv1.Keeper](s, ledger.Keeper)
}

// VerifyingKey returns the verifying key with the given id.
func (s *Store) VerifyingKey(id string) (*lightkeeperv1.VerifyingKey, error) {
	return recordByID[*lightkeeperv1.VerifyingKey](s, ledger.VerifyingKey, "verifying key", id)
}

// Program returns a registered program, with its module bytes when
// withModule is set.
func (s *Store) Program(id string, withModule bool) (*lightkeeperv1.Program, error) {
	f := ledger.Program
	if withModule {
		f = ledger.ProgramModule
	}
	return recordByID[*lightkeeperv1.Program](s, f, "program", id)
}

// Programs returns every registered program without its module bytes,
// sorted by id.
func (s *Store) Programs() ([]*lightkeeperv1.Program, error) {
	return records[*lightkeeperv1.Program](s, ledger.Program)
}

// VerifyingKeys returns every verifying key, sorted by id.
func (s *Store) VerifyingKeys() ([]*lightkeeperv1.VerifyingKey, error) {
	return records[*lightkeeperv1.VerifyingKey](s, ledger.VerifyingKey)
}

// Evidence returns every evidence record ordered by (height, keeper id,
// round id).
func (s *Store) Evidence() ([]*lightkeeperv1.Evidence, error) {
	return records[*lightkeeperv1.Evidence](s, ledger.Evidence)
}

// OpenRounds returns every round whose phase is not CLOSED, sorted by id,
// read through the open-rounds index from one consistent snapshot.
func (s *Store) OpenRounds() ([]*lightkeeperv1.Round, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	recs, err := indexed(snap, ledger.Round, ledger.OpenRounds)
	if err != nil {
		return nil, err
	}
	out := make([]*lightkeeperv1.Round, len(recs))
	for i, m := range recs {
		out[i] = m.(*lightkeeperv1.Round)
	}
	return out, nil
}

// RoundIDs returns the id of every round, sorted, reading keys only.
func (s *Store) RoundIDs() ([]string, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	keys, err := keysOf(s.db, prefixRound)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		if len(k) != idLen {
			return nil, fmt.Errorf("%w: round key %x has length %d, want %d", ErrCorrupt, k, len(k)+1, idKeyLen)
		}
		ids[i] = hex.EncodeToString(k)
	}
	return ids, nil
}

var pageTokenEncoding = base64.RawURLEncoding.Strict()

// RoundPageToken returns the page token that continues a listing right
// after r (the next token of a page that ended with r), for callers that
// cut a ListRounds page short.
func RoundPageToken(r *lightkeeperv1.Round) (string, error) {
	raw, err := hex.DecodeString(r.GetId())
	if err != nil || len(raw) != idLen {
		return "", fmt.Errorf("%w: round id %q", ErrInvalidID, r.GetId())
	}
	return pageTokenEncoding.EncodeToString(listingKey(r.GetSubmittedHeight(), [idLen]byte(raw))), nil
}

// ListRounds returns up to limit rounds (DefaultListLimit if limit <= 0),
// newest first: by submitted_height, then id, both descending. pageToken
// is "" for the first page, or the next token of the previous page; next
// is "" after the last page. A token not produced by ListRounds fails with
// ErrInvalidPageToken.
func (s *Store) ListRounds(pageToken string, limit int) (rounds []*lightkeeperv1.Round, next string, err error) {
	if err := s.check(); err != nil {
		return nil, "", err
	}
	var after []byte
	if pageToken != "" {
		after, err = pageTokenEncoding.DecodeString(pageToken)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrInvalidPageToken, err)
		}
		if len(after) != listingKeyLen || after[0] != prefixRoundListing {
			return nil, "", fmt.Errorf("%w: token does not name a round listing position", ErrInvalidPageToken)
		}
	}
	if limit <= 0 {
		limit = DefaultListLimit
	}

	snap := s.db.NewSnapshot()
	defer snap.Close()
	lo, hi := prefixBounds(prefixRoundListing)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, "", err
	}
	defer func() {
		if cerr := it.Close(); err == nil && cerr != nil {
			rounds, next, err = nil, "", cerr
		}
	}()

	var ok bool
	if after == nil {
		ok = it.Last()
	} else {
		ok = it.SeekLT(after)
	}
	var last []byte
	for ; ok && len(rounds) < limit; ok = it.Prev() {
		key := it.Key()
		rk, valid := listingRoundKey(key)
		if !valid {
			return nil, "", fmt.Errorf("%w: round listing index key %x has length %d, want %d", ErrCorrupt, key, len(key), listingKeyLen)
		}
		r := new(lightkeeperv1.Round)
		if err := get(snap, rk, r); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, "", fmt.Errorf("%w: round listing index entry %x points at a missing round", ErrCorrupt, key)
			}
			return nil, "", err
		}
		rounds = append(rounds, r)
		last = append(last[:0], key...)
	}
	if err := it.Error(); err != nil {
		return nil, "", err
	}
	if ok && len(last) > 0 {
		next = pageTokenEncoding.EncodeToString(last)
	}
	return rounds, next, nil
}
