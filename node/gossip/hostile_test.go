package gossip_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/gossip"
)

// scoreBoard keeps the latest peer scores a node's GossipSub reported.
type scoreBoard struct {
	mu     sync.Mutex
	scores map[peer.ID]float64
}

func (s *scoreBoard) update(m map[peer.ID]float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scores = m
}

func (s *scoreBoard) score(p peer.ID) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.scores[p]
	return v, ok
}

// rawPublisher joins the topic with plain GossipSub, strictly signed like
// the real nodes but with no validator and room for huge messages: a
// hostile or buggy peer.
func rawPublisher(t *testing.T, h host.Host) *pubsub.Topic {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithFloodPublish(true),
		pubsub.WithMaxMessageSize(16<<20))
	if err != nil {
		t.Fatalf("raw gossipsub: %v", err)
	}
	topic, err := ps.Join(testTopic)
	if err != nil {
		t.Fatalf("raw join: %v", err)
	}
	return topic
}

func TestHostileMessagesAreRejected(t *testing.T) {
	futureMS := int64(baseMS + time.Hour.Milliseconds())
	bigValue := jsonValue(1<<20-64, 'x')

	cases := []struct {
		name string
		data func(from peer.ID) []byte
		want error
	}{{
		name: "garbage",
		data: func(peer.ID) []byte { return []byte("\x01\xff\xff\xff\xff\x0fnot a batch at all") },
		want: crdt.ErrCorrupt,
	}, {
		name: "3 MiB",
		data: func(from peer.ID) []byte {
			var recs []crdt.Record
			for i := range 3 {
				r := record(from, uint64(i+1), crdt.NewTimestamp(baseMS, uint16(i)), fmt.Sprintf("big%d", i))
				r.Value = bigValue
				recs = append(recs, r)
			}
			return gossip.EncodeBatch(recs)
		},
		want: gossip.ErrTooLarge,
	}, {
		name: "invalid record",
		data: func(from peer.ID) []byte {
			good := record(from, 1, crdt.NewTimestamp(baseMS, 1), "fine")
			bad := record(from, 2, crdt.NewTimestamp(baseMS, 2), "bad")
			bad.Value = []byte("{not json")
			return gossip.EncodeBatch([]crdt.Record{good, bad})
		},
		want: crdt.ErrInvalid,
	}, {
		name: "stamped 1h ahead",
		data: func(from peer.ID) []byte {
			return gossip.EncodeBatch([]crdt.Record{record(from, 1, crdt.NewTimestamp(futureMS, 0), "future")})
		},
		want: crdt.ErrClockSkew,
	}}

	// Two honest nodes, and one hostile peer per case: a peer rejected
	// twice is already past PublishThreshold, and past three its traffic
	// is ignored, so each case starts from a clean score.
	mn, hosts := mustNet(t, 2+len(cases))
	boards := []*scoreBoard{{}, {}}
	honest := make([]*testNode, 2)
	for i := range honest {
		honest[i] = startNode(t, hosts[i], func(c *gossip.Config) {
			c.Options = append(c.Options, pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(boards[i].update), 10*time.Millisecond))
		})
	}
	hostile := make([]*pubsub.Topic, len(cases))
	for i := range cases {
		hostile[i] = rawPublisher(t, hosts[2+i])
	}
	connectAll(t, mn)
	honestIDs := []peer.ID{hosts[0].ID(), hosts[1].ID()}

	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, topic := hosts[2+ci], hostile[ci]
			waitFor(t, "hostile to see both honest nodes", func() bool {
				return containsAll(topic.ListPeers(), honestIDs)
			})
			data := tc.data(h.ID())
			if tc.name == "3 MiB" && len(data) < 3<<20 {
				t.Fatalf("oversized message is only %d bytes", len(data))
			}
			if err := topic.Publish(context.Background(), data); err != nil {
				t.Fatalf("hostile publish: %v", err)
			}
			for i, n := range honest {
				waitFor(t, fmt.Sprintf("node %d to reject", i), func() bool { return len(n.events.rejectsFrom(h.ID())) > 0 })
				errs := n.events.rejectsFrom(h.ID())
				if len(errs) != 1 || !errors.Is(errs[0], tc.want) {
					t.Errorf("node %d: rejections %v, want one wrapping %v", i, errs, tc.want)
				}
				waitFor(t, fmt.Sprintf("node %d to score the hostile peer below zero", i), func() bool {
					s, ok := boards[i].score(h.ID())
					return ok && s < 0
				})
				if st := n.gossip.Stats(); st.ReceivedMessages != 0 || st.RejectedMessages != uint64(ci+1) {
					t.Errorf("node %d stats = %+v, want nothing received and %d rejected", i, st, ci+1)
				}
			}
		})
	}

	for i, n := range honest {
		if st := n.store.Stats(); st.Live != 0 || st.Tombstones != 0 || st.Digest != (crdt.Digest{}) {
			t.Errorf("node %d state changed by rejected messages: %+v", i, st)
		}
	}
	// Both nodes keep working.
	rec := honest[0].put(t, "tasks", "after", []byte(`"still here"`))
	waitFor(t, "honest write after the attack", func() bool {
		got, err := honest[1].store.Get("tasks", "after")
		return err == nil && got.Version == rec.Version
	})
}

func containsAll(have, want []peer.ID) bool {
	set := map[peer.ID]bool{}
	for _, p := range have {
		set[p] = true
	}
	for _, p := range want {
		if !set[p] {
			return false
		}
	}
	return true
}

// The validator must refuse an oversized message even when the transport
// would carry it.
func TestOversizedRejectedAtConfiguredLimit(t *testing.T) {
	mn, hosts := mustNet(t, 2)
	recv := startNode(t, hosts[0], func(c *gossip.Config) { c.MaxMessageBytes = 4 << 10 })
	topic := rawPublisher(t, hosts[1])
	connectAll(t, mn)
	waitFor(t, "raw publisher to see the node", func() bool { return containsAll(topic.ListPeers(), []peer.ID{hosts[0].ID()}) })

	r := record(hosts[1].ID(), 1, crdt.NewTimestamp(baseMS, 1), "k")
	r.Value = []byte(`"` + strings.Repeat("y", 5<<10) + `"`)
	if err := topic.Publish(context.Background(), gossip.EncodeBatch([]crdt.Record{r})); err != nil {
		t.Fatalf("publish: %v", err)
	}
	waitFor(t, "rejection", func() bool { return len(recv.events.rejectsFrom(hosts[1].ID())) > 0 })
	if errs := recv.events.rejectsFrom(hosts[1].ID()); !errors.Is(errs[0], gossip.ErrTooLarge) || !errors.Is(errs[0], crdt.ErrInvalid) {
		t.Errorf("rejection %v, want ErrTooLarge wrapping crdt.ErrInvalid", errs[0])
	}
}
