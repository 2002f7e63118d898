package ratelimit

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter holds one token bucket per source (a remote address, a peer ID)
// and spends a token for each failed attempt. A source whose bucket is empty
// is refused until it refills at the configured rate. Only failures are
// counted: a source that always succeeds never enters the table.
//
// The table holds at most maxSources buckets. Beyond that the least recently
// failing source is forgotten, which only hands it a fresh bucket, so memory
// stays bounded under a flood of distinct sources. Callers choose what a
// source is; for IPv6 clients a /64 prefix is a sensible key.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	max   int
	now   func() time.Time

	mu      sync.Mutex
	sources map[string]*list.Element // values are *bucket
	lru     *list.List               // front: least recently failed
}

// bucket is one source's token bucket.
type bucket struct {
	source string
	lim    *rate.Limiter
}

// New returns a Limiter that lets each source fail burst times in a row and
// then once per 1/limit (a finite rate), tracking at most maxSources sources.
// burst and maxSources below one count as one. now is the clock; nil means
// time.Now.
func New(limit rate.Limit, burst, maxSources int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		limit:   limit,
		burst:   max(burst, 1),
		max:     max(maxSources, 1),
		now:     now,
		sources: make(map[string]*list.Element),
		lru:     list.New(),
	}
}

// Allow reports whether source may make an attempt now. It spends nothing:
// call Fail when the attempt fails.
func (l *Limiter) Allow(source string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.sources[source]
	if !ok {
		return true
	}
	return el.Value.(*bucket).lim.TokensAt(l.now()) >= 1
}

// Fail spends one of source's tokens for a failed attempt.
func (l *Limiter) Fail(source string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.sources[source]
	if ok {
		l.lru.MoveToBack(el)
	} else {
		if l.lru.Len() >= l.max {
			l.evict()
		}
		el = l.lru.PushBack(&bucket{source: source, lim: rate.NewLimiter(l.limit, l.burst)})
		l.sources[source] = el
	}
	el.Value.(*bucket).lim.AllowN(now, 1)
}

// Len returns the number of sources currently tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// evict forgets the least recently failing source. l.mu must be held.
func (l *Limiter) evict() {
	el := l.lru.Front()
	l.lru.Remove(el)
	delete(l.sources, el.Value.(*bucket).source)
}
