package gossip

import (
	"net"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peer scoring for a small trusted mesh. Every peer already holds the group
// key, so scoring is not there to rank strangers: it isolates a device that
// is broken or compromised. Positive credit is therefore small (at most +13
// per peer), silence is never punished (a device may write nothing for
// days), and an invalid message costs much more than any credit can offset.
//
// The invalid-message penalty is -100 × n² for n rejected messages, decaying
// to nothing over an hour:
//
//	n = 1: about -100  below GossipThreshold: no more gossip (IHAVE/IWANT)
//	                   to or from it; at PublishThreshold
//	n = 2: about -400  below PublishThreshold: our own writes skip it
//	n = 3: about -900  below GraylistThreshold: all its traffic ignored
//
// Anti-entropy still runs with such a peer, and still rejects its bad
// records one by one.
const (
	gossipThreshold    = -50
	publishThreshold   = -100
	graylistThreshold  = -500
	acceptPXThreshold  = 10 // PX is off; only a well-behaved peer could reach it
	opportunisticGraft = 1

	invalidMessageWeight = -100
	invalidMessageDecay  = time.Hour

	// P1: +0.01 per second in the mesh, capped at +3 after five minutes.
	timeInMeshWeight = 0.01
	timeInMeshCap    = 300
	// P2: +0.5 per first delivery of a valid message, capped at +10.
	firstDeliveryWeight = 0.5
	firstDeliveryCap    = 20
	firstDeliveryDecay  = 10 * time.Minute

	topicScoreCap = 20

	// P6: peers beyond this many on one IP are penalised by the square of
	// the excess. Lenient, since the devices of a household or an office
	// may well share a NAT; ScoreWhitelist exempts networks entirely.
	ipColocationThreshold = 16
	ipColocationWeight    = -1

	// P7: protocol misbehaviour (GRAFT during backoff, broken IWANT
	// promises) beyond 6, squared.
	behaviourPenaltyWeight    = -1
	behaviourPenaltyThreshold = 6
	behaviourPenaltyDecay     = 10 * time.Minute

	retainScore = 10 * time.Minute

	// relayScore is the application score a device gives its relay: above
	// any other well-behaved peer's capped topic score, and far below what
	// one invalid message costs.
	relayScore = 2 * topicScoreCap
)

// scoreParams returns GossipSub's peer-score parameters and thresholds for
// topic, exempting whitelist from the same-IP penalty and favouring relay
// (see Config.Relay) if it is set.
func scoreParams(topic string, whitelist []*net.IPNet, relay peer.ID) (*pubsub.PeerScoreParams, *pubsub.PeerScoreThresholds) {
	params := &pubsub.PeerScoreParams{
		Topics: map[string]*pubsub.TopicScoreParams{topic: {
			TopicWeight:                    1,
			TimeInMeshWeight:               timeInMeshWeight,
			TimeInMeshQuantum:              time.Second,
			TimeInMeshCap:                  timeInMeshCap,
			FirstMessageDeliveriesWeight:   firstDeliveryWeight,
			FirstMessageDeliveriesDecay:    pubsub.ScoreParameterDecay(firstDeliveryDecay),
			FirstMessageDeliveriesCap:      firstDeliveryCap,
			InvalidMessageDeliveriesWeight: invalidMessageWeight,
			InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(invalidMessageDecay),
		}},
		TopicScoreCap: topicScoreCap,
		AppSpecificScore: func(p peer.ID) float64 {
			if relay != "" && p == relay {
				return relayScore
			}
			return 0
		},
		AppSpecificWeight:           1,
		IPColocationFactorWeight:    ipColocationWeight,
		IPColocationFactorThreshold: ipColocationThreshold,
		IPColocationFactorWhitelist: whitelist,
		BehaviourPenaltyWeight:      behaviourPenaltyWeight,
		BehaviourPenaltyThreshold:   behaviourPenaltyThreshold,
		BehaviourPenaltyDecay:       pubsub.ScoreParameterDecay(behaviourPenaltyDecay),
		DecayInterval:               pubsub.DefaultDecayInterval,
		DecayToZero:                 pubsub.DefaultDecayToZero,
		RetainScore:                 retainScore,
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:             gossipThreshold,
		PublishThreshold:            publishThreshold,
		GraylistThreshold:           graylistThreshold,
		AcceptPXThreshold:           acceptPXThreshold,
		OpportunisticGraftThreshold: opportunisticGraft,
	}
	return params, thresholds
}
