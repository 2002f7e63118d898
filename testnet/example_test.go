package testnet_test

import (
	"context"
	"fmt"
	"time"

	"github.com/syncnode/syncnode/testnet"
)

// A write made on one side of a partition reaches the other side once the
// partition heals.
func ExampleNet() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := testnet.New(ctx, testnet.Options{Nodes: 4, InMemory: true})
	if err != nil {
		panic(err)
	}
	defer n.Close()

	if err := n.Partition(ctx, []int{0, 1}, []int{2, 3}); err != nil {
		panic(err)
	}
	if _, err := n.Node(0).Put(ctx, "notes", "hello", []byte(`"world"`)); err != nil {
		panic(err)
	}
	converged, _ := n.Converged(ctx)
	fmt.Println("converged while partitioned:", converged)

	if err := n.Heal(ctx); err != nil {
		panic(err)
	}
	if _, err := n.WaitConverged(ctx); err != nil {
		panic(err)
	}
	rec, err := n.Node(3).Get("notes", "hello")
	fmt.Println("node 3 reads:", string(rec.Value), err)
	// Output:
	// converged while partitioned: false
	// node 3 reads: "world" <nil>
}
