// Package client is the Go client of a node's local HTTP API.
package client
