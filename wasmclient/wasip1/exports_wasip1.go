//go:build wasip1

package main

import "unsafe"

// mod is the instance's state. A global is the only place a reactor can
// keep state between export calls; each wasm instance has its own copy.
var mod = newModule()

// addr is the linear-memory address of b's first byte. The Go garbage
// collector does not move objects, and mod keeps the buffers reachable,
// so the address stays valid until the buffer is replaced.
func addr(b []byte) uint32 {
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

//go:wasmexport lk_abi_version
func lkABIVersion() uint32 { return abiVersion }

// lkInput returns the address of the input buffer, grown to at least n
// bytes, or 0 when n exceeds the module's limit. The address is valid
// until the next lk_input call.
//
//go:wasmexport lk_input
func lkInput(n uint32) uint32 {
	b := mod.input(n)
	if b == nil {
		return 0
	}
	return addr(b)
}

// lkOutputPtr and lkOutputLen locate the result of the last operation.
// They are valid until the next operation.
//
//go:wasmexport lk_output_ptr
func lkOutputPtr() uint32 { return addr(mod.out) }

//go:wasmexport lk_output_len
func lkOutputLen() uint32 { return uint32(len(mod.out)) }

//go:wasmexport lk_verify
func lkVerify(n uint32) int32 { return mod.verify(n) }

//go:wasmexport lk_verify_batch
func lkVerifyBatch(n uint32) int32 { return mod.verifyBatch(n) }

//go:wasmexport lk_sign_vote
func lkSignVote(n uint32) int32 { return mod.signVote(n) }

//go:wasmexport lk_sign_session
func lkSignSession(n uint32) int32 { return mod.signSession(n) }

//go:wasmexport lk_sign_registration
func lkSignRegistration(n uint32) int32 { return mod.signRegistration(n) }

//go:wasmexport lk_compute
func lkCompute(n uint32) int32 { return mod.compute(n) }
