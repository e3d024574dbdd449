package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// chainAgreeWithin bounds how long 'query chain' with several replicas
// reads them again until they report one height: replicas commit a block
// within moments of each other, so a few reads normally do.
const chainAgreeWithin = 10 * time.Second

// queryChain prints each coordinator's chain head: on a replica its
// committed height, app hash and whether its consensus runs. Given
// several replicas of a chain (--coordinator URL,URL,…), it reads them
// until they report the same height, so that their app hashes compare,
// and fails when they differ there.
func queryChain(ctx context.Context, list string, asJSON bool) error {
	urls, err := keeper.ParseCoordinators(list)
	if err != nil {
		return usagef("--coordinator: %v", err)
	}
	infos := make([]*lightkeeperv1.GetChainInfoResponse, len(urls))
	read := func() error {
		for i, u := range urls {
			res, err := newClient(u).Ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
			if err != nil {
				return fmt.Errorf("%s: %w", u, describe(err))
			}
			infos[i] = res.Msg
		}
		return nil
	}
	deadline := time.Now().Add(chainAgreeWithin)
	for {
		if err := read(); err != nil {
			return err
		}
		if oneHeight(infos) || time.Now().After(deadline) {
			break
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if asJSON {
		for _, info := range infos {
			if err := printProto(info); err != nil {
				return err
			}
		}
	} else {
		fmt.Printf("chain %s\n", infos[0].GetChainId())
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "coordinator\theight\tapp hash\tconsensus")
		for i, info := range infos {
			height, hash, consensus := info.GetReplicaHeight(), fmt.Sprintf("%X", info.GetAppHash()), "running"
			switch {
			case info.GetConsensusHalted():
				consensus = "HALTED: " + info.GetHaltReason()
			case len(info.GetAppHash()) == 0:
				// The single-node coordinator: no app hash, its own blocks.
				height, hash, consensus = info.GetHeadHeight(), "-", "single node"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", urls[i], height, hash, consensus)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(infos) < 2 {
		return nil
	}
	for i, info := range infos {
		if info.GetChainId() != infos[0].GetChainId() {
			return fmt.Errorf("%s serves chain %q, %s chain %q", urls[i], info.GetChainId(), urls[0], infos[0].GetChainId())
		}
	}
	if !oneHeight(infos) {
		if !asJSON {
			fmt.Printf("not at one height within %v (a replica catching up or halted): app hashes not compared\n", chainAgreeWithin)
		}
		return nil
	}
	for i, info := range infos {
		if !bytes.Equal(info.GetAppHash(), infos[0].GetAppHash()) {
			return fmt.Errorf("replicas disagree at height %d: app hash %X on %s, %X on %s", info.GetReplicaHeight(), infos[0].GetAppHash(), urls[0], info.GetAppHash(), urls[i])
		}
	}
	if !asJSON {
		fmt.Printf("all %d at height %d with the same app hash\n", len(infos), infos[0].GetReplicaHeight())
	}
	return nil
}

// oneHeight reports whether every replica read reports the same
// committed height.
func oneHeight(infos []*lightkeeperv1.GetChainInfoResponse) bool {
	for _, info := range infos[1:] {
		if info.GetReplicaHeight() != infos[0].GetReplicaHeight() {
			return false
		}
	}
	return true
}
