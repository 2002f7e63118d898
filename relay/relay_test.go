package relay_test

import (
	"context"
	"testing"
)

func TestDevicesSyncThroughRelay(t *testing.T) {
	g := newGroup(t)
	a := g.device(g.token("laptop"))
	b := g.device(g.token("phone"))

	put(t, a, "tasks", "t1", `{"title":"from laptop"}`)
	eventually(t, "phone sees the laptop's write", func() bool { return has(b, "tasks", "t1", `{"title":"from laptop"}`) })
	put(t, b, "tasks", "t2", `{"title":"from phone"}`)
	eventually(t, "laptop sees the phone's write", func() bool { return has(a, "tasks", "t2", `{"title":"from phone"}`) })

	if _, err := b.Delete(context.Background(), "tasks", "t1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "laptop sees the phone's delete", func() bool { return gone(a, "tasks", "t1") })
	eventually(t, "relay holds the delete", func() bool { return gone(g.relay.Node(), "tasks", "t1") })
}

func TestUnpairedDeviceGetsNothing(t *testing.T) {
	g := newGroup(t)
	a := g.device(g.token("laptop"))
	put(t, a, "tasks", "secret", `"only for paired devices"`)
	eventually(t, "relay has the record", func() bool { return held(g.relay.Node(), "tasks", "secret") })

	for name, token := range map[string]string{"no token": "", "wrong token": "snr_0011223344556677_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		t.Run(name, func(t *testing.T) {
			stranger := g.device(token)
			put(t, stranger, "tasks", "intruder", `"x"`)
			eventually(t, "the relay refuses the device", func() bool {
				st, err := stranger.Status(context.Background())
				return err == nil && st.Relay != nil && st.Relay.Error != ""
			})
			// A paired device's write after the refusal does not reach it.
			put(t, a, "tasks", "later", `"`+name+`"`)
			eventually(t, "relay has the later write", func() bool { return held(g.relay.Node(), "tasks", "later") })
			if _, err := stranger.Get("tasks", "secret"); err == nil {
				t.Error("an unpaired device got a record")
			}
			if _, err := g.relay.Node().Get("tasks", "intruder"); err == nil {
				t.Error("the relay took a record from an unpaired device")
			}
		})
	}
}

func TestRevokedDeviceIsCutOff(t *testing.T) {
	g := newGroup(t)
	a := g.device(g.token("laptop"))
	b := g.device(g.token("phone"))
	put(t, b, "tasks", "before", `1`)
	eventually(t, "laptop sees the phone", func() bool { return has(a, "tasks", "before", `1`) })

	if _, err := g.relay.Registry().Revoke("phone"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the relay drops the phone", func() bool {
		return len(g.relay.Node().Host().Network().ConnsToPeer(b.ID())) == 0
	})
	put(t, b, "tasks", "after", `2`)
	put(t, a, "tasks", "marker", `3`)
	eventually(t, "relay has the laptop's later write", func() bool { return held(g.relay.Node(), "tasks", "marker") })
	if _, err := g.relay.Node().Get("tasks", "after"); err == nil {
		t.Error("the relay took a revoked device's write")
	}
	eventually(t, "the phone learns it was refused", func() bool {
		st, err := b.Status(context.Background())
		return err == nil && st.Relay != nil && st.Relay.Error != ""
	})
	if len(g.relay.Node().Host().Network().ConnsToPeer(b.ID())) != 0 {
		t.Error("a revoked device reconnected")
	}
	// The token's revocation spreads to the group: the laptop cuts the
	// phone off too, even the connection through the relay's circuit.
	eventually(t, "the laptop learns of the revocation", func() bool { return a.Members().RevokedPeer(b.ID()) })
	eventually(t, "the laptop holds no connection to the phone", func() bool {
		return len(a.Host().Network().ConnsToPeer(b.ID())) == 0
	})
	if held(a, "tasks", "after") {
		t.Error("the laptop took a revoked device's write")
	}
}

// TestDeviceRevocationRevokesTheRelayToken: a revocation written on a
// device reaches the relay, which then refuses that device's token as well.
func TestDeviceRevocationRevokesTheRelayToken(t *testing.T) {
	g := newGroup(t)
	a := g.device(g.token("laptop"))
	b := g.device(g.token("phone"))
	eventually(t, "the laptop knows the phone", func() bool { return len(a.Devices()) >= 2 })
	if _, err := a.Revoke(context.Background(), b.ID().String()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the relay revokes the phone's token", func() bool {
		d, ok := g.relay.Registry().ByPeer(b.ID())
		return ok && d.Revoked
	})
	eventually(t, "the relay drops the phone", func() bool {
		return len(g.relay.Node().Host().Network().ConnsToPeer(b.ID())) == 0
	})
}

func TestDevicesReachEachOtherThroughTheCircuit(t *testing.T) {
	g := newGroup(t)
	a := g.device(g.token("laptop"), fastAcks)
	b := g.device(g.token("phone"), fastAcks)
	// Neither device knows the other's address: only the relay tells each
	// the other's peer ID, to dial through its circuit (then hole punching
	// may make the connection direct).
	eventually(t, "the devices connect to each other", func() bool {
		return len(a.Host().Network().ConnsToPeer(b.ID())) > 0 || len(b.Host().Network().ConnsToPeer(a.ID())) > 0
	})
}
