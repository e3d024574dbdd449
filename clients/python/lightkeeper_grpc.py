#!/usr/bin/env python3
"""A Lightkeeper client in Python over plain gRPC (HTTP/2), not Connect.

It uses Debian's python3-grpcio and python3-protobuf; the stubs are
generated at run time from the repository's proto/ with Debian's protoc
and grpc_python_plugin into a temporary directory (nothing generated is
committed). The coordinator serves h2c gRPC on its one port.

    python3 clients/python/lightkeeper_grpc.py --coordinator 127.0.0.1:8080 \\
        --vk verification_key.json --proof proof.json --public public.json

registers the snarkjs verifying key (the coordinator converts it to
gnark's form), submits the proof, follows the round's WatchRound stream to
its decision, fetches the certificate and prints one JSON object:
round_id, outcome, the phases streamed, and the certificate's summary.
"""

import argparse
import glob
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "proto")


def generate_stubs(out):
    """protoc + grpc_python_plugin, from proto/ into out."""
    plugin = shutil.which("grpc_python_plugin")
    protoc = shutil.which("protoc")
    if not plugin or not protoc:
        sys.exit("lightkeeper_grpc.py: needs Debian's protobuf-compiler and protobuf-compiler-grpc (protoc, grpc_python_plugin)")
    files = sorted(glob.glob(os.path.join(PROTO, "lightkeeper", "v1", "*.proto")))
    cmd = [protoc, "-I", PROTO, "-I", "/usr/include",
           "--python_out=" + out, "--grpc_python_out=" + out,
           "--plugin=protoc-gen-grpc_python=" + plugin] + files
    subprocess.run(cmd, check=True)
    # protoc writes packages without __init__.py; Python 3 namespace
    # packages import them as they are.
    sys.path.insert(0, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--coordinator", default="127.0.0.1:8080", help="host:port of the coordinator (h2c gRPC)")
    ap.add_argument("--vk", required=True, help="snarkjs verification_key.json")
    ap.add_argument("--proof", required=True, help="snarkjs proof.json")
    ap.add_argument("--public", required=True, help="snarkjs public.json")
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="lightkeeper-py-")
    try:
        generate_stubs(tmp)
        import grpc
        from lightkeeper.v1 import types_pb2, round_service_pb2, round_service_pb2_grpc
        from lightkeeper.v1 import verifying_key_service_pb2, verifying_key_service_pb2_grpc

        def read(p):
            with open(p, "rb") as f:
                return f.read()

        with grpc.insecure_channel(a.coordinator) as ch:
            keys = verifying_key_service_pb2_grpc.VerifyingKeyServiceStub(ch)
            rounds = round_service_pb2_grpc.RoundServiceStub(ch)
            vk = keys.RegisterVerifyingKey(verifying_key_service_pb2.RegisterVerifyingKeyRequest(
                scheme=types_pb2.SCHEME_GROTH16, curve=types_pb2.CURVE_BN254,
                key=read(a.vk), format=types_pb2.PROOF_FORMAT_SNARKJS), timeout=a.timeout).verifying_key
            req = types_pb2.RoundRequest(
                proof=types_pb2.ProofRequest(scheme=types_pb2.SCHEME_GROTH16, curve=types_pb2.CURVE_BN254,
                                             verifying_key_id=vk.id, proof=read(a.proof), public_inputs=read(a.public)),
                client_nonce=secrets.token_hex(16))
            sub = rounds.SubmitRound(round_service_pb2.SubmitRoundRequest(
                request=req, proof_format=types_pb2.PROOF_FORMAT_SNARKJS), timeout=a.timeout)
            rid = sub.round.id
            phases, decided = [], None
            for msg in rounds.WatchRound(round_service_pb2.WatchRoundRequest(round_id=rid), timeout=a.timeout):
                r = msg.round
                phases.append(types_pb2.RoundPhase.Name(r.phase))
                if r.phase in (types_pb2.ROUND_PHASE_DECIDED, types_pb2.ROUND_PHASE_CLOSED):
                    decided = r
                    break
            if decided is None:
                sys.exit("round %s: the stream ended before a decision" % rid)
            cert = rounds.GetCertificate(round_service_pb2.GetCertificateRequest(round_id=rid), timeout=a.timeout).certificate
            print(json.dumps({
                "round_id": rid,
                "verifying_key_id": vk.id,
                "outcome": types_pb2.Outcome.Name(decided.outcome),
                "phases": phases,
                "certificate": {
                    "round_id": cert.round_id,
                    "outcome": types_pb2.Outcome.Name(cert.outcome),
                    "height": cert.height,
                    "votes": len(cert.votes),
                    "committee": len(cert.committee),
                },
            }))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
