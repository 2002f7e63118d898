package api_test

import (
	"fmt"
	"net/http"
	"testing"
)

func TestWrongTokenFloodIsLimitedAndTheOwnerServed(t *testing.T) {
	ts, _ := newServer(t)
	codes := map[int]int{}
	for i := range 1000 {
		r := do(t, ts, request{method: http.MethodGet, path: "/v1/status", auth: fmt.Sprintf("Bearer wrong-%d", i)})
		codes[r.want(t, r.code).code]++
	}
	if codes[http.StatusOK] != 0 || codes[http.StatusUnauthorized] == 0 || codes[http.StatusTooManyRequests] < 900 {
		t.Fatalf("1000 wrong tokens answered %v: want a few 401, then 429", codes)
	}
	r := do(t, ts, request{method: http.MethodGet, path: "/v1/status", auth: "Bearer wrong"})
	if r.header.Get("Retry-After") == "" {
		t.Error("a 429 without Retry-After")
	}
	// The right token is never limited, even from the flooding address.
	do(t, ts, request{method: http.MethodPut, path: "/v1/records/tasks/t1", body: `1`}).want(t, http.StatusOK)
	do(t, ts, request{method: http.MethodGet, path: "/v1/records/tasks/t1"}).want(t, http.StatusOK)
}
