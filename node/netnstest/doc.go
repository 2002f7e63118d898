// Package netnstest runs tests inside Linux network namespaces, for code whose
// sockets are the thing under test: multicast, mDNS, a LAN of several hosts.
// It is the namespace counterpart of net/http/httptest, and like it is meant
// for tests only.
//
// It creates every namespace it uses, with iproute2, and deletes each one in
// the test's cleanup, whether the test passes or fails. It never creates,
// changes or sends on an interface of the caller's own namespace, so a test
// built on it cannot multicast on the machine's real network. It needs root
// and iproute2's ip; Require skips the test without them.
//
// Code runs inside a namespace in one of two ways. Command runs any program
// there, as `ip netns exec` does. RunChild and StartChild rerun the calling
// test itself there, so that its body, chosen by IsChild, runs as an
// ordinary Go test inside the namespace:
//
//	func TestX(t *testing.T) {
//		if netnstest.IsChild(t) {
//			netnstest.RequireIsolated(t) // the real body, inside the namespace
//			...
//			return
//		}
//		netnstest.Require(t)
//		ns := netnstest.NewNamespace(t)
//		netnstest.EnableLoopbackMulticast(t, ns)
//		netnstest.RunChild(t, ns)
//	}
package netnstest
