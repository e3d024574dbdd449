package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
)

// Ids are lowercase hex; an uppercase one is refused as InvalidArgument
// by every method that takes one, saying why, and no message shows an
// internal Go package ("pebbledb: …", "encoding/hex: …").
func TestUppercaseIDsRefusedClearly(t *testing.T) {
	d := startDevnet(t, testConfig(), 10, 0)
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	r, err := sub.Submit(context.Background(), validItem(t), "upper")
	if err != nil {
		t.Fatal(err)
	}
	upper := strings.ToUpper(r.GetId())
	calls := map[string]string{
		"RoundService/GetRound":               `{"round_id":%q}`,
		"RoundService/GetCertificate":         `{"round_id":%q}`,
		"KeeperService/GetKeeper":             `{"keeper_id":%q}`,
		"VerifyingKeyService/GetVerifyingKey": `{"verifying_key_id":%q}`,
		"ProgramService/GetProgram":           `{"program_id":%q}`,
		"StakingService/GetAccount":           `{"account_id":%q}`,
		"StakingService/GetKeeperStake":       `{"keeper_id":%q}`,
		"StakingService/GetGroup":             `{"group_id":%q}`,
		"StakingService/ListGuarantees":       `{"guarantor_id":%q}`,
	}
	for method, body := range calls {
		for _, id := range []string{upper, "G" + r.GetId()[1:]} {
			b, err := postJSON(d.URL+"/lightkeeper.v1."+method, fmt.Sprintf(body, id))
			var e struct{ Code, Message string }
			json.Unmarshal(b, &e)
			if err == nil || e.Code != "invalid_argument" || !strings.Contains(e.Message, "lowercase hex") ||
				strings.Contains(e.Message, "pebbledb") || strings.Contains(e.Message, "encoding/hex") {
				t.Errorf("%s(%.8s…): %s; want invalid_argument asking for lowercase hex, without a Go package name", method, id, b)
			}
		}
	}
}

// Unknown JSON fields are refused (connect-go discards them by default),
// and known ones, in either spelling, are honoured.
func TestUnknownJSONFieldsRefused(t *testing.T) {
	d := startDevnet(t, testConfig(), 10, 0)
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	for i := range 3 {
		if _, err := sub.Submit(context.Background(), validItem(t), fmt.Sprint("json-", i)); err != nil {
			t.Fatal(err)
		}
	}
	list := d.URL + "/lightkeeper.v1.RoundService/ListRounds"
	for _, body := range []string{`{"pageSize":2}`, `{"page_size":2}`} {
		b, err := postJSON(list, body)
		var page struct{ Rounds []json.RawMessage }
		if err != nil || json.Unmarshal(b, &page) != nil || len(page.Rounds) != 2 {
			t.Errorf("ListRounds %s: %d rounds, %v", body, len(page.Rounds), err)
		}
	}
	for url, body := range map[string]string{
		list: `{"pageSzie":2}`,
		d.URL + "/lightkeeper.v1.LedgerService/GetPool": `{"limt":2}`,
	} {
		b, err := postJSON(url, body)
		var e struct{ Code, Message string }
		json.Unmarshal(b, &e)
		field := strings.Split(body, `"`)[1]
		if err == nil || e.Code != "invalid_argument" || !strings.Contains(e.Message, field) {
			t.Errorf("%s: %s; want invalid_argument naming %q", body, b, field)
		}
	}
	if _, err := postJSON(d.URL+"/lightkeeper.v1.LedgerService/GetPool", `{"limit":2}`); err != nil {
		t.Errorf(`GetPool {"limit":2}: %v`, err)
	}
}
