// Package pebbledb is the coordinator's storage layer on Pebble
// (github.com/cockroachdb/pebble/v2).
//
// Records are the protobuf messages of proto/lightkeeper/v1, stored as
// their protobuf bytes (deterministic proto.Marshal). Every kind of record
// is a family of coordinator/ledger, and the store handles any family
// through one path: Batch.Apply writes a ledger.ChangeSet (the state
// machine's Result.Changes) with the family's index keys kept in step,
// and Store.Load reads what every family declares a restart needs. The
// typed Put methods and getters are thin uses of that layer. Writes go
// through a Batch, which Commit applies as one atomic Pebble batch with pebble.Sync:
// when Commit returns, the batch is in the synced write-ahead log and
// survives a crash. Nothing in a Batch is visible before Commit. Readers
// may run concurrently with each other and with the one writer; list
// methods that join an index with its records (OpenRounds, ListRounds)
// read from one Pebble snapshot.
//
// # Key layout (layout version 1)
//
// Every key starts with a one-byte family prefix. Ids (round, keeper,
// verifying-key) are 64 lowercase hex digits in records and in the API and
// 32 raw bytes in keys; because lowercase hex preserves byte order, key
// order is id order. Heights are 8-byte big-endian, so key order is
// height order. "‖" is concatenation.
//
//	prefix        key layout                                          value                  written by              read by
//	"\x00layout"  "\x00layout"                                        u64be(layout version)  Open (fresh directory)  Open
//	"m"           "m"                                                 StateMeta              Batch.PutMeta           Meta, Initialized
//	"g"           "g"                                                 Genesis                Batch.PutGenesis        Genesis
//	"b"           "b" ‖ u64be(header.height)                          Block                  Batch.PutBlock          Block
//	"r"           "r" ‖ id[32]                                        Round                  Batch.PutRound          Round, RoundIDs (keys only), OpenRounds, ListRounds
//	"o"           "o" ‖ id[32]                                        empty: open index      Batch.PutRound [1]      OpenRounds
//	"l"           "l" ‖ u64be(submitted_height) ‖ id[32]              empty: listing index   Batch.PutRound [2]      ListRounds
//	"k"           "k" ‖ keeper_id[32]                                 Keeper                 Batch.PutKeeper         Keeper, Keepers
//	"v"           "v" ‖ verifying_key_id[32]                          VerifyingKey           Batch.PutVerifyingKey   VerifyingKey, VerifyingKeys
//	"e"           "e" ‖ u64be(height) ‖ keeper_id[32] ‖ round_id[32]  Evidence               Batch.PutEvidence       Evidence
//	"a"           "a" ‖ account_id[32]                                Account                Batch.PutAccount        Account, Accounts
//	"s"           "s"                                                 StakingState           Batch.PutStaking        Staking
//	"q"           "q" ‖ guarantor_id[32] ‖ target_id[32]              Guarantee              Batch.PutGuarantee [3]  Guarantees
//	"p"           "p" ‖ group_id[32]                                  Group                  Batch.PutGroup          Group, Groups
//	"u"           "u" ‖ u64be(entry id)                               UnbondingEntry         Batch.PutUnbonding [4]  Unbonding
//	"h"           "h" ‖ u64be(epoch)                                  EpochRecord            Batch.PutEpoch          Epoch, LastEpoch
//	"w"           "w" ‖ program_id[32]                                Program, no module     Batch.PutProgram        Program, Programs
//	"x"           "x" ‖ program_id[32]                                Program with module    Batch.PutProgram [5]    Program (withModule)
//	"n"           "n" ‖ nullifier[32]                                 SpentNullifier         Batch.PutSpentNullifier SpentNullifier, SpentNullifiers
//	"y"           "y" ‖ u64be(height) ‖ u32be(index)                  SpentNullifier         Batch.PutSpentNullifier Withdrawals
//	"z"           "z" ‖ u64be(leaf index)                             PoolLeaf               Batch.PutPoolLeaf       PoolLeaves
//	"c"           "c" ‖ hash[32]                                      EligibleList [6]       Batch.Apply             EligibleList
//	"i"           "i" ‖ round_id[32]                                  PendingReveal [7]      Batch.Apply             Load (records)
//	"j"           "j" ‖ challenger[32]                                ChallengerQuota [7]    Batch.Apply             Load (records)
//
//	[1] set while the round's phase is not CLOSED, deleted when it is.
//	[2] when a stored round is put again with another submitted_height,
//	    its old listing entry is deleted in the same batch.
//	[3] a guarantee with amount 0 deletes the key.
//	[4] Batch.DeleteUnbonding deletes an entry paid out or cancelled.
//	[5] only when the record carries its module bytes; listings read "w"
//	    and never load modules.
//	[6] a weighted eligible list under protocol.EligibleListHash, put
//	    the first time a round is drawn from it; rounds and certificates
//	    carry only the hash. Load reads the keys.
//	[7] sealed challenges on a chain with params.challenges: a closed
//	    sealed round while its reveal window is open (deleted when it
//	    ends), and each challenger's reveals in its latest hour. The
//	    single-node chain never writes them.
//
// A replica (coordinator/replica) also keeps "\x00replica-apphash":
// u64be(height) ‖ app hash, written by Batch.PutAppHash in the same batch
// as its block, read by AppHash. It is not a family: the machine does not
// restore it, and the single-node coordinator never writes it.
//
// The economy's families ("a" … "h", docs/design.md §9) and the compute programs'
// ("w", "x", COMPUTE rounds) and the eligible lists ("c") were added without a layout bump: no existing
// key changed meaning, and a directory written before them lacks the
// staking (or compute) parameters in its meta, which Open's caller refuses
// anyway.
//
// docs/storage.md in this package has the same table. A change to the
// layout must bump LayoutVersion: Open refuses a directory whose stored
// layout version differs (ErrLayoutVersion).
//
// # Page tokens
//
// ListRounds walks the "l" index backwards (newest first). Its page token
// is the unpadded URL-safe base64 of the last listing key returned; the
// next page starts strictly before that key, so rounds added meanwhile do
// not shift pages. Tokens are opaque to clients.
//
// # Errors
//
// Errors wrap the sentinels (ErrNotFound, ErrNotInitialized,
// ErrLayoutVersion, ErrCorrupt, ErrInvalidPageToken, ErrInvalidID,
// ErrInvalidRecord, ErrNotStore, ErrLocked, ErrClosed); test them with
// errors.Is. A value that does not unmarshal is ErrCorrupt naming its key
// family and key.
package pebbledb
