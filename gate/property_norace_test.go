//go:build !race

package gate_test

// niRace is true under the race detector (see property_race_test.go).
const niRace = false
