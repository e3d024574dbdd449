package tests

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// testCA makes a CA and a certificate it signs for 127.0.0.1 and
// localhost, writes ca.pem, cert.pem and key.pem into dir, and returns the
// CA's pool.
func testCA(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lightkeeper test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "coordinator"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"ca.pem":   {Type: "CERTIFICATE", Bytes: caDER},
		"cert.pem": {Type: "CERTIFICATE", Bytes: leafDER},
		"key.pem":  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool
}

// The coordinator serves HTTPS given a certificate (config.toml, paths
// relative to it); keepers (in this process and `lightkeeper keeper` with
// --ca or $LIGHTKEEPER_CA) and a CLI submission reach it over TLS, gRPC
// clients get HTTP/2 by ALPN, and plain HTTP is not served.
func TestTLS(t *testing.T) {
	dir := initChain(t, 30)
	pool := testCA(t, dir)
	caFile := filepath.Join(dir, "ca.pem")
	cfgPath := filepath.Join(dir, setup.ConfigFile)
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), `tls_cert = ""`, `tls_cert = "cert.pem"`, 1)
	s = strings.Replace(s, `tls_key = ""`, `tls_key = "key.pem"`, 1)
	if s == string(b) {
		t.Fatal("config.toml has no tls_cert/tls_key lines")
	}
	if err := os.WriteFile(cfgPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	_, url := startCoordinator(t, "--config", cfgPath, "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0")
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("coordinator URL %q, want https", url)
	}
	tlsClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	}

	// HTTP/2 by ALPN; Connect's JSON works over it like over h2c.
	resp, err := tlsClient().Post(url+"/lightkeeper.v1.LedgerService/GetChainInfo", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("GetChainInfo over TLS: %s %s, want 200 over HTTP/2", resp.Status, resp.Proto)
	}
	// Without the CA the certificate is refused; plain HTTP gets nothing.
	if _, err := http.Post(url+"/lightkeeper.v1.LedgerService/GetChainInfo", "application/json", strings.NewReader("{}")); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
	if resp, err := http.Post("http"+strings.TrimPrefix(url, "https")+"/lightkeeper.v1.LedgerService/GetChainInfo", "application/json", strings.NewReader("{}")); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP served next to TLS")
	}

	// Two keepers as processes (--ca, and $LIGHTKEEPER_CA), eight here.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var procOut [2]strings.Builder
	for i, env := range []string{"", "LIGHTKEEPER_CA=" + caFile} {
		args := []string{"keeper", "--coordinator", url, "--key", setup.KeyPath(dir, i), "--log-level", "warn"}
		if env == "" {
			args = append(args, "--ca", caFile)
		}
		cmd := exec.CommandContext(ctx, binary, args...)
		cmd.Env = append(os.Environ(), env)
		cmd.Stderr = &procOut[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); cmd.Wait() }()
	}
	keys, err := setup.ReadKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys[2:] {
		kp := keeper.New(url, k, keeper.NewConfig().WithHTTPClient(tlsClient()))
		wg.Add(1)
		go func() { defer wg.Done(); kp.Run(ctx) }()
	}
	kc := lightkeeperv1connect.NewKeeperServiceClient(tlsClient(), url)
	online := 0
	for deadline := time.Now().Add(30 * time.Second); online < len(keys); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d keepers online over TLS; keeper processes said:\n%s\n%s", online, len(keys), &procOut[0], &procOut[1])
		}
		res, err := kc.ListKeepers(ctx, connect.NewRequest(&lightkeeperv1.ListKeepersRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		online = 0
		for _, k := range res.Msg.GetKeepers() {
			if k.GetOnline() {
				online++
			}
		}
	}

	// The CLI submits over TLS with --ca and waits for the decision.
	it := allItems(t)[0]
	write := func(name string, b []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	runCtx, runCancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer runCancel()
	out, errOut, code := run(t, runCtx, "submit", "proof", "--coordinator", url, "--ca", caFile,
		"--scheme", it.Scheme.String(), "--curve", it.Curve.String(),
		"--vk", write("vk.bin", it.VK), "--proof", write("proof.bin", it.Proof), "--public", write("public.bin", it.Public),
		"--wait", "--json")
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m["outcome"] != "APPROVED" {
		t.Fatalf("submit over TLS: exit %d, %q, stderr %q", code, out, errOut)
	}
	// Without the CA the CLI refuses the certificate.
	if _, errOut, code := run(t, runCtx, "round", "get", m["round_id"].(string), "--coordinator", url); code == 0 || !strings.Contains(errOut, "certificate") {
		t.Fatalf("round get without --ca: exit %d, stderr %q; want a certificate error", code, errOut)
	}
	if _, errOut, code := run(t, runCtx, "round", "get", m["round_id"].(string), "--coordinator", url, "--ca", caFile); code != 0 {
		t.Fatalf("round get with --ca: exit %d, stderr %q", code, errOut)
	}
}
