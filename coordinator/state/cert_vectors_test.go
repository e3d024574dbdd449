package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestCertificateVectorsReplay reads the committed vectors of
// testdata/certs back, as a checker in another language does
// (clients/ts/test/cert_vectors.test.ts), and replays every patch from the
// file: Go must refuse each tampering as recorded (same refused_by, same
// message). TestCertificateTampering checks that the files are current;
// this checks that what they say is reproducible from their own bytes.
func TestCertificateVectorsReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "certs", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v certVectors
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		p, cert, block := new(lightkeeperv1.ConsensusParams), new(lightkeeperv1.Certificate), new(lightkeeperv1.Block)
		if err := protojson.Unmarshal(v.Params, p); err != nil {
			t.Fatal(err)
		}
		if err := protojson.Unmarshal(v.Certificate, cert); err != nil {
			t.Fatal(err)
		}
		if err := protojson.Unmarshal(v.Block, block); err != nil {
			t.Fatal(err)
		}
		if err := protocol.VerifyCertificateInBlock(cert, p, block); err != nil {
			t.Fatalf("%s: the valid certificate: %v", f, err)
		}
		var doc any
		d = json.NewDecoder(bytes.NewReader(v.Certificate))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		for _, tm := range v.Tamperings {
			patched, err := applyPatch(doc, tm.Patch)
			if err != nil {
				t.Fatalf("%s: %s: %v", f, tm.Name, err)
			}
			pb, _ := json.Marshal(patched)
			c := new(lightkeeperv1.Certificate)
			if err := protojson.Unmarshal(pb, c); err != nil {
				t.Errorf("%s: %s: does not parse: %v", f, tm.Name, err)
				continue
			}
			got, reason := "nobody (informational field)", ""
			if err := protocol.VerifyCertificate(c, p); err != nil && !errors.Is(err, protocol.ErrNeedsBlock) {
				got, reason = "offline", err.Error()
			} else if err := protocol.CertificateInBlock(c, block); err != nil {
				got, reason = "block", err.Error()
			}
			if got != tm.RefusedBy || reason != tm.Reason {
				t.Errorf("%s: %s: replayed %s %q, recorded %s %q", f, tm.Name, got, reason, tm.RefusedBy, tm.Reason)
			}
		}
	}
}
