package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startRelay runs `syncnode relay` on loopback.
func startRelay(t *testing.T, data string, extra ...string) *daemon {
	t.Helper()
	return startDaemon(t, data, append([]string{"relay", "--data", data,
		"--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0", "--http", "127.0.0.1:0"}, extra...)...)
}

func decodeJSON[T any](t *testing.T, text string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("decode %q: %v", text, err)
	}
	return v
}

// TestRelayWalkthrough follows the README: a relay code from a device, the
// relay joined with it, tokens made while it runs, two devices that know
// only the relay syncing through it, and a revocation cutting one off.
func TestRelayWalkthrough(t *testing.T) {
	root := t.TempDir()
	laptop, phone, rdir := filepath.Join(root, "laptop"), filepath.Join(root, "phone"), filepath.Join(root, "relay")
	mustCLI(t, "init", "--data", laptop)
	code := decodeJSON[struct{ Code string }](t, mustCLI(t, "invite", "--relay", "--data", laptop, "--json")).Code
	if !strings.HasPrefix(code, "syncnode-relay1-") {
		t.Fatalf("relay code %q", code)
	}

	relay := startRelay(t, rdir, "--join", code)
	if out := mustCLI(t, "health", "--data", rdir); strings.TrimSpace(out) != "ok" {
		t.Errorf("health = %q, want ok", out)
	}
	if _, stderr, err := runCLI(t, "", "invite", "--data", rdir); err == nil || !strings.Contains(stderr, "a relay cannot invite devices") {
		t.Errorf("invite on the relay: err=%v stderr=%q, want a refusal", err, stderr)
	}
	addrs := decodeJSON[struct{ Addrs []string }](t, mustCLI(t, "relay", "addr", "--data", rdir, "--json")).Addrs
	if len(addrs) == 0 || !strings.Contains(addrs[0], "/p2p/") {
		t.Fatalf("relay addr = %v, want multiaddrs with /p2p/", addrs)
	}
	type token struct{ Name, Token string }
	tl := decodeJSON[token](t, mustCLI(t, "relay", "token", "create", "--name", "laptop", "--data", rdir, "--json"))
	tp := decodeJSON[token](t, mustCLI(t, "relay", "token", "create", "--name", "phone", "--data", rdir, "--json"))
	if _, _, err := runCLI(t, "", "relay", "token", "create", "--name", "laptop", "--data", rdir); err == nil {
		t.Error("a second token with the same name was created")
	}

	startNode(t, laptop, "--relay", addrs[0], "--relay-token", tl.Token)
	// The running laptop invites the phone. join keeps the laptop as a
	// static peer; drop it, so the phone knows only the relay.
	join := decodeJSON[struct{ Code string }](t, mustCLI(t, "invite", "--data", laptop, "--json")).Code
	mustCLI(t, "join", join, "--data", phone)
	if err := os.Remove(filepath.Join(phone, "peers")); err != nil {
		t.Fatal(err)
	}
	ph := startNode(t, phone, "--relay", addrs[0], "--relay-token", tp.Token)
	mustCLI(t, "put", "tasks", "t1", `{"title":"x"}`, "--data", laptop)
	eventually(t, 20*time.Second, "the phone gets the laptop's write", func() bool {
		out, _, err := runCLI(t, "", "get", "tasks", "t1", "--data", phone)
		return err == nil && strings.Contains(out, `"x"`)
	})
	mustCLI(t, "del", "tasks", "t1", "--data", phone)
	eventually(t, 20*time.Second, "the laptop sees the phone's delete", func() bool {
		_, _, err := runCLI(t, "", "get", "tasks", "t1", "--data", laptop)
		return err != nil
	})

	// The remembered relay and token: the phone restarts without flags.
	ph.stop(t)
	ph = startNode(t, phone)
	mustCLI(t, "put", "tasks", "t2", `2`, "--data", phone)
	eventually(t, 20*time.Second, "the restarted phone still syncs", func() bool {
		_, _, err := runCLI(t, "", "get", "tasks", "t2", "--data", laptop)
		return err == nil
	})

	list := decodeJSON[struct{ Devices []struct{ Name, Peer string } }](t, mustCLI(t, "relay", "token", "list", "--data", rdir, "--json"))
	if len(list.Devices) != 2 || list.Devices[0].Peer == "" || list.Devices[1].Peer == "" {
		t.Errorf("token list = %+v, want both devices paired", list.Devices)
	}
	mustCLI(t, "relay", "token", "revoke", "phone", "--data", rdir)
	eventually(t, 20*time.Second, "the phone is cut off", func() bool {
		st := decodeJSON[struct {
			Relay struct {
				Connected bool
				Error     string
			}
		}](t, mustCLI(t, "status", "--data", phone, "--json"))
		return !st.Relay.Connected && st.Relay.Error != ""
	})
	mustCLI(t, "put", "tasks", "after-revoke", `3`, "--data", phone)
	mustCLI(t, "put", "tasks", "marker", `4`, "--data", laptop)
	eventually(t, 20*time.Second, "the relay has the laptop's later write", func() bool {
		_, _, err := runCLI(t, "", "get", "tasks", "marker", "--data", rdir)
		return err == nil
	})
	if _, _, err := runCLI(t, "", "get", "tasks", "after-revoke", "--data", rdir); err == nil {
		t.Error("the relay took a revoked device's write")
	}
	relay.stop(t)
	if _, _, err := runCLI(t, "", "health", "--data", rdir); err == nil {
		t.Error("health succeeds with the relay stopped")
	}
}

func TestRelayBadInput(t *testing.T) {
	root := t.TempDir()
	device := filepath.Join(root, "device")
	mustCLI(t, "init", "--data", device)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"fresh dir without a code": {[]string{"relay", "--data", filepath.Join(root, "fresh")}, "--join"},
		"a device's data dir":      {[]string{"relay", "--data", device}, "group secret"},
		"a join code, not a relay code": {[]string{"relay", "--data", filepath.Join(root, "r1"), "--join", "syncnode1-AAAA"},
			"not a syncnode relay code"},
		"a typo in the code":            {[]string{"relay", "--data", filepath.Join(root, "r2"), "--join", "syncnode-relay1-AAAA"}, "relay code"},
		"relay addr before it ever ran": {[]string{"relay", "addr", "--data", filepath.Join(root, "never")}, "not initialized"},
		"run with a relay address without /p2p/": {[]string{"run", "--data", filepath.Join(root, "d2"), "--no-mdns",
			"--relay", "/ip4/127.0.0.1/tcp/1"}, "/p2p/"},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, err := runCLI(t, "", tc.args...)
			if err == nil {
				t.Fatalf("syncnode %s succeeded", strings.Join(tc.args, " "))
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.want)
			}
		})
	}
}
