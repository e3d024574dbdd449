package state

// Reads for the service's hot paths. The producer compares every keeper's
// online flag with its session before each block, and every keeper
// session asks for its own flag: copying whole keeper records for that
// (Keepers, Keeper) cost as much as the block once there were many
// keepers.

// KeeperOnline reports whether the keeper is known and online.
func (m *Machine) KeeperOnline(id string) (online, known bool) {
	k, ok := m.keepers[id]
	if !ok {
		return false, false
	}
	return k.Online, true
}

// EachRegisteredKeeper calls f with the id and online flag of every
// registered keeper, in no particular order: a caller that keeps what it
// finds sorts it.
func (m *Machine) EachRegisteredKeeper(f func(id string, online bool)) {
	for id, k := range m.keepers {
		if k.Registered {
			f(id, k.Online)
		}
	}
}
