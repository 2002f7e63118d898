// Package group holds a sync group's shared secret and the keys derived from it.
package group
