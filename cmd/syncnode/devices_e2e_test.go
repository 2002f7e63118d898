package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDevicesListAndRevoke: three devices of one group list each other by
// name; revoking one from another spreads to the third, whose node then
// refuses the revoked device's writes.
func TestDevicesListAndRevoke(t *testing.T) {
	root := t.TempDir()
	a, b, c := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")
	startNode(t, a, "--name", "desk")
	for _, dir := range []string{b, c} {
		code := strings.TrimSpace(strings.SplitN(mustCLI(t, "invite", "--data", a), "\n", 2)[0])
		mustCLI(t, "join", code, "--data", dir)
	}
	startNode(t, b, "--name", "laptop")
	startNode(t, c, "--name", "phone")
	eventually(t, 20*time.Second, "every device listed on b", func() bool {
		out, _, err := runCLI(t, "", "devices", "--data", b)
		return err == nil && strings.Contains(out, "desk") && strings.Contains(out, "laptop") && strings.Contains(out, "phone")
	})

	if _, stderr, err := runCLI(t, "", "devices", "revoke", "desk", "--data", a); err == nil || !strings.Contains(stderr, "itself") {
		t.Errorf("revoking this device itself: err %v, stderr %q", err, stderr)
	}
	if _, stderr, err := runCLI(t, "", "devices", "revoke", "toaster", "--data", a); err == nil || !strings.Contains(stderr, "no such device") {
		t.Errorf("revoking an unknown device: err %v, stderr %q", err, stderr)
	}
	out := mustCLI(t, "devices", "revoke", "phone", "--data", a, "--json")
	if !strings.Contains(out, `"revoked":true`) {
		t.Fatalf("devices revoke phone: %s", out)
	}
	eventually(t, 20*time.Second, "b to see the phone revoked", func() bool {
		out, _, err := runCLI(t, "", "devices", "--data", b, "--json")
		return err == nil && strings.Contains(out, `"name":"phone"`) && strings.Count(out, `"revoked":true`) == 1
	})

	mustCLI(t, "put", "notes", "from-phone", `"revoked"`, "--data", c)
	mustCLI(t, "put", "notes", "marker", `"later"`, "--data", a)
	eventually(t, 20*time.Second, "b to get a's later write", func() bool {
		_, _, err := runCLI(t, "", "get", "notes", "marker", "--data", b)
		return err == nil
	})
	if out, _, err := runCLI(t, "", "get", "notes", "from-phone", "--data", b); err == nil {
		t.Errorf("a revoked device's write reached b: %s", out)
	}
}
