package service

import "sync"

// watchHub wakes WatchRound streams when their round changes.
type watchHub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func newWatchHub() *watchHub {
	return &watchHub{subs: make(map[string]map[chan struct{}]struct{})}
}

func (h *watchHub) subscribe(roundID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[roundID] == nil {
		h.subs[roundID] = make(map[chan struct{}]struct{})
	}
	h.subs[roundID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[roundID], ch)
		if len(h.subs[roundID]) == 0 {
			delete(h.subs, roundID)
		}
		h.mu.Unlock()
	}
}

func (h *watchHub) notify(roundID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[roundID] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
