package tests

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// TestKeeperAndChainAgreeOnComputeLimits: a keeper and the chain derive
// their compute limits from the same parameters (protocol.ComputeLimitsOf
// on both sides). A real coordinator whose genesis sets tight compute
// limits registers modules just inside and just outside each limit a
// module can exceed at registration (size, memory, table); a keeper checks
// the same modules under the same parameters. Any module one side accepts
// and the other refuses is a disagreement: a program the chain registers
// but its keepers refuse would split or stall every round on it.
func TestKeeperAndChainAgreeOnComputeLimits(t *testing.T) {
	params := protocol.DefaultParams()
	params.Compute.MaxModuleBytes = 4096
	params.Compute.MaxMemoryPages = 4
	params.Compute.MaxTableElements = 16
	d := startDevnet(t, devnet.Options{Keepers: 0, ExtraGenesisKeepers: 3, Params: params})
	programs := lightkeeperv1connect.NewProgramServiceClient(http.DefaultClient, d.URL)
	ctx := context.Background()

	base := len(limitsModule(1, 0, 0))
	cases := []struct {
		name   string
		module []byte
		inside bool
	}{
		{"size at max_module_bytes", limitsModule(1, 0, 4096-base), true},
		{"size over max_module_bytes", limitsModule(1, 0, 4096-base+1), false},
		{"memory at max_memory_pages", limitsModule(4, 0, 0), true},
		{"memory over max_memory_pages", limitsModule(5, 0, 0), false},
		{"table at max_table_elements", limitsModule(1, 16, 0), true},
		{"table over max_table_elements", limitsModule(1, 17, 0), false},
	}
	for _, c := range cases {
		_, chainErr := programs.RegisterProgram(ctx, connect.NewRequest(&lightkeeperv1.RegisterProgramRequest{Module: c.module}))
		keeperErr := keeper.PrepareProgram(ctx, c.module, params.Compute, compute.EngineInterpreter)
		if (chainErr == nil) != (keeperErr == nil) {
			t.Errorf("%s (%d bytes): the chain says %v, a keeper says %v", c.name, len(c.module), chainErr, keeperErr)
		}
		if (chainErr == nil) != c.inside {
			t.Errorf("%s: registration error %v, want accepted=%v", c.name, chainErr, c.inside)
		}
	}
	// The keeper's side really follows the parameters: under the defaults
	// it accepts what the tight chain refused.
	if err := keeper.PrepareProgram(ctx, limitsModule(5, 17, 4096), protocol.DefaultComputeParams(), compute.EngineInterpreter); err != nil {
		t.Errorf("default limits refuse a module within them: %v", err)
	}
}

// limitsModule is a minimal wasip1 command (an empty _start, the memory
// exported) with a memory of memPages pages, a funcref table of tableElems elements if any, and a
// custom section of pad bytes.
func limitsModule(memPages, tableElems, pad int) []byte {
	var b bytes.Buffer
	b.WriteString("\x00asm\x01\x00\x00\x00")
	section := func(id byte, body []byte) {
		b.WriteByte(id)
		b.Write(leb(len(body)))
		b.Write(body)
	}
	section(1, []byte{1, 0x60, 0, 0}) // one type: [] -> []
	section(3, []byte{1, 0})          // one function of type 0
	if tableElems > 0 {
		section(4, append([]byte{1, 0x70, 0}, leb(tableElems)...))
	}
	section(5, append([]byte{1, 0}, leb(memPages)...))
	exports := append(append([]byte{2, 6}, "_start"...), 0, 0)      // func 0
	exports = append(append(append(exports, 6), "memory"...), 2, 0) // memory 0
	section(7, exports)
	section(10, []byte{1, 2, 0, 0x0b}) // its body: no locals, end
	if pad > 0 {
		// A custom section "p": id, size, name length, name, padding.
		// The size prefix grows with the padding; shrink to hit pad total.
		for n := pad - 3; n >= 0; n-- {
			body := append([]byte{1, 'p'}, make([]byte, n)...)
			if 1+len(leb(len(body)))+len(body) == pad {
				section(0, body)
				return b.Bytes()
			}
		}
		panic(fmt.Sprintf("cannot pad by %d bytes", pad))
	}
	return b.Bytes()
}

func leb(n int) []byte {
	var out []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			out = append(out, c|0x80)
			continue
		}
		return append(out, c)
	}
}
