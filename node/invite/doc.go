// Package invite encodes and decodes join codes, which hand a group's secret
// and the inviting device's addresses to a new device.
package invite
