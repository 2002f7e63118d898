// Package datadir owns a node's data directory: its identity key, group
// secret, API token, API address and database, all private to the user.
package datadir
