// Package relaylink is the control protocol between a device and its relay,
// and the device's end of it.
//
// Data moves over the same gossip and anti-entropy as between devices; this
// protocol carries what only a relay does:
//
//   - pairing: the device presents its token once, and the relay binds it
//     to the device's peer ID;
//   - acknowledgement: the device reports its version vector, which the
//     relay uses to decide when a tombstone has been seen by every device;
//   - collection: the relay answers with the vector under which every
//     device has seen every tombstone, and the device collects those too;
//   - resync: a device that was away past the relay's horizon is sent the
//     relay's key set and drops the records the relay has since collected,
//     instead of keeping (or resurrecting) deleted data;
//   - the relay's server sequence and the paired devices it can reach, so
//     the device can dial them through the relay's circuit.
//
// One exchange is a request line and a response line of JSON, then, for a
// resync, key frames and a final vector frame, and a closing line from the
// device. Every line is bounded.
package relaylink
