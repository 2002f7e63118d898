package registry

import (
	"errors"
	"testing"
	"time"
)

func TestExpiringToken(t *testing.T) {
	tr := openTest(t)
	tok, err := tr.CreateUntil("visitor", tr.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p := testPeer(t, 1)
	if _, err := tr.Pair(tok, p); err != nil {
		t.Fatal(err)
	}
	if !tr.Admitted(p) || tr.Refused(p) {
		t.Fatal("a device with a valid token is not admitted")
	}

	tr.clock.Advance(time.Hour)
	if _, err := tr.Authenticate(tok); !errors.Is(err, ErrExpired) {
		t.Errorf("authenticate after expiry: %v, want ErrExpired", err)
	}
	if _, ok := tr.Remembered(tok); ok {
		t.Error("an expired token is still remembered")
	}
	if tr.Admitted(p) || !tr.Refused(p) {
		t.Error("an expired device is still admitted")
	}
	if tr.RevokedPeer(p) {
		t.Error("expiry counts as revocation: the device's past records would be refused")
	}

	// Expiry survives a restart.
	again := reopen(t, tr.path, tr.clock)
	if again.Admitted(p) {
		t.Error("an expired device is admitted after a restart")
	}
	if _, err := again.Authenticate(tok); !errors.Is(err, ErrExpired) {
		t.Errorf("after a restart: %v, want ErrExpired", err)
	}
}
