// Package ratelimit throttles failed attempts per source, so that a flood of
// bad credentials is refused before any expensive verification runs.
package ratelimit
