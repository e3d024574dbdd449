#!/usr/bin/env bash
# make-material.sh OUTDIR: real circom/snarkjs Groth16 (BN254) material for
# the tests, made with npm's circom2 (the compiler built to wasm) and
# snarkjs, pinned in clients/ts/package-lock.json (npm ci there first).
# A small powers of tau (2^6 constraints) is made here, then for each
# circuit of circuits/ (mul: c = a·b; range: x < 2^16, y = x² + x + 7) a
# key (one contribution), a proof and its public signals:
#   OUTDIR/<circuit>_vk.json, <circuit>_proof.json, <circuit>_public.json
# exactly as snarkjs writes them. Entropy is fixed text: this is test
# material, not a trusted setup. Takes about half a minute.
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
bin="$here/../ts/node_modules/.bin"
[ -x "$bin/snarkjs" ] || { echo "make-material.sh: run 'npm ci' in clients/ts first" >&2; exit 1; }
cd "$out"
q() { "$@" >/dev/null; }
q "$bin/snarkjs" powersoftau new bn128 6 pot0.ptau
q "$bin/snarkjs" powersoftau contribute pot0.ptau pot1.ptau --name=test -e="lightkeeper test entropy"
q "$bin/snarkjs" powersoftau prepare phase2 pot1.ptau pot.ptau
for c in mul range; do
	q "$bin/circom2" "$here/circuits/$c.circom" --r1cs --wasm -o "$out"
	q "$bin/snarkjs" groth16 setup "$c.r1cs" pot.ptau "${c}0.zkey"
	q "$bin/snarkjs" zkey contribute "${c}0.zkey" "$c.zkey" --name=test -e="lightkeeper $c"
	q "$bin/snarkjs" zkey export verificationkey "$c.zkey" "${c}_vk.json"
done
echo '{"a": "3", "b": "11"}' >mul_input.json
echo '{"x": "1234"}' >range_input.json
for c in mul range; do
	q "$bin/snarkjs" groth16 fullprove "${c}_input.json" "${c}_js/$c.wasm" "$c.zkey" "${c}_proof.json" "${c}_public.json"
	q "$bin/snarkjs" groth16 verify "${c}_vk.json" "${c}_public.json" "${c}_proof.json"
done
ls "$out"/*_vk.json "$out"/*_proof.json "$out"/*_public.json
