package invite

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/p2p"
)

// RedeemTimeout bounds Redeem as a whole: dialling the invite host, the
// exchange and its answer.
const RedeemTimeout = 15 * time.Second

// Redeem redeems a join code: it refuses an expired code without dialling,
// then dials the code's invite host from a throwaway host that listens
// nowhere, hands over the token and returns what the inviter grants. A
// refusal is an error wrapping ErrExpired, ErrUsed, ErrUnknown or
// ErrRateLimited; a bad code wraps Decode's errors and a failed dial
// ErrUnreachable. A redeemed code is spent even if the caller then fails to
// use what it got, so check everything else first.
func Redeem(ctx context.Context, code string) (Joined, error) {
	return redeemAt(ctx, code, time.Now())
}

// redeemAt is Redeem with the joiner's clock reading now.
func redeemAt(ctx context.Context, code string, now time.Time) (Joined, error) {
	inv, err := Decode(code)
	if err != nil {
		return Joined{}, err
	}
	if inv.Expired(now) {
		return Joined{}, fmt.Errorf("invite redeem: expired at %s: %w", inv.Expires.Local().Format(time.DateTime), ErrExpired)
	}
	ctx, cancel := context.WithTimeout(ctx, RedeemTimeout)
	defer cancel()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return Joined{}, fmt.Errorf("invite redeem: key: %w", err)
	}
	h, err := p2p.New(p2p.Config{PrivKey: key, ListenAddrs: []ma.Multiaddr{}})
	if err != nil {
		return Joined{}, fmt.Errorf("invite redeem: %w", err)
	}
	defer h.Close()
	if err := h.Connect(ctx, inv.AddrInfo()); err != nil {
		return Joined{}, fmt.Errorf("invite redeem: %w (tried %v: %v)", ErrUnreachable, inv.Addrs, err)
	}
	st, err := h.NewStream(ctx, inv.Peer, ProtocolID)
	if err != nil {
		return Joined{}, fmt.Errorf("invite redeem: %w (%v)", ErrUnreachable, err)
	}
	defer st.Close()
	if d, ok := ctx.Deadline(); ok {
		st.SetDeadline(d)
	}
	// The write side stays open until the answer is read: the inviter
	// takes its closing as the sign that the answer arrived.
	if _, err := st.Write(inv.Token[:]); err != nil {
		st.Reset()
		return Joined{}, fmt.Errorf("invite redeem: send the token: %w", err)
	}
	answer, err := io.ReadAll(io.LimitReader(st, maxAnswer+1))
	if err != nil {
		st.Reset()
		return Joined{}, fmt.Errorf("invite redeem: read the answer: %w", err)
	}
	j, err := decodeAnswer(answer)
	if err != nil {
		return Joined{}, fmt.Errorf("invite redeem: %w", err)
	}
	return j, nil
}
