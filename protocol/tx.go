package protocol

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/proto"
)

// TxDomain separates transaction signatures from every other signature of
// the protocol (votes, registrations, sessions).
const TxDomain = "lightkeeper/tx/v1\x00"

// MaxTxBodyBytes bounds a SignedTx body (a signed submission carries a
// proof, so this is the API's request limit).
const MaxTxBodyBytes = 4 << 20

// TxSignBytes returns the bytes a client signs for a transaction body:
//
//	TxDomain || u16be(len(chainID)) || chainID || body
//
// The chain id is length-prefixed as in the vote signature, so no chain id
// and body can be confused with another pair. It returns nil for a chain
// id longer than 65,535 bytes.
func TxSignBytes(chainID string, body []byte) []byte {
	if len(chainID) > 0xFFFF {
		return nil
	}
	b := make([]byte, 0, len(TxDomain)+2+len(chainID)+len(body))
	b = append(b, TxDomain...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(chainID)))
	b = append(b, chainID...)
	return append(b, body...)
}

// SignTx serializes body (deterministically) and signs it with key for
// chainID.
func SignTx(key ed25519.PrivateKey, chainID string, body *lightkeeperv1.TxBody) (*lightkeeperv1.SignedTx, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: signing key: %d bytes, want %d", ErrInvalidRequest, len(key), ed25519.PrivateKeySize)
	}
	b, err := detMarshal.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%w: tx body: %v", ErrInvalidRequest, err)
	}
	msg := TxSignBytes(chainID, b)
	if msg == nil {
		return nil, fmt.Errorf("%w: chain id too long", ErrInvalidRequest)
	}
	return &lightkeeperv1.SignedTx{
		Body:      b,
		PublicKey: []byte(key.Public().(ed25519.PublicKey)),
		Signature: ed25519.Sign(key, msg),
	}, nil
}

// VerifyTx checks a SignedTx's shape and signature on chainID and decodes
// its body. It returns the body and the signer's account id (the public
// key in hex). Errors wrap ErrInvalidRequest (shape, undecodable body) or
// ErrBadSignature.
func VerifyTx(chainID string, tx *lightkeeperv1.SignedTx) (*lightkeeperv1.TxBody, string, error) {
	if tx == nil {
		return nil, "", fmt.Errorf("%w: signed: missing", ErrInvalidRequest)
	}
	if n := len(tx.PublicKey); n != ed25519.PublicKeySize {
		return nil, "", fmt.Errorf("%w: signed.public_key: %d bytes, want %d", ErrInvalidRequest, n, ed25519.PublicKeySize)
	}
	if n := len(tx.Signature); n != ed25519.SignatureSize {
		return nil, "", fmt.Errorf("%w: signed.signature: %d bytes, want %d", ErrInvalidRequest, n, ed25519.SignatureSize)
	}
	if n := len(tx.Body); n == 0 || n > MaxTxBodyBytes {
		return nil, "", fmt.Errorf("%w: signed.body: %d bytes, want 1..%d", ErrInvalidRequest, n, MaxTxBodyBytes)
	}
	msg := TxSignBytes(chainID, tx.Body)
	signer := hex.EncodeToString(tx.PublicKey)
	if msg == nil || !ed25519.Verify(ed25519.PublicKey(tx.PublicKey), msg, tx.Signature) {
		return nil, signer, fmt.Errorf("%w: signed.signature: not a valid signature by %s on chain %q", ErrBadSignature, signer, chainID)
	}
	body := new(lightkeeperv1.TxBody)
	if err := proto.Unmarshal(tx.Body, body); err != nil {
		return nil, signer, fmt.Errorf("%w: signed.body: %v", ErrInvalidRequest, err)
	}
	return body, signer, nil
}

// SignedTransaction wraps a SignedTx as a machine input.
func SignedTransaction(tx *lightkeeperv1.SignedTx) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_Signed{Signed: tx}}
}
