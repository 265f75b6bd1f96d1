//go:build race

package gate_test

// niRace is true under the race detector, which makes every command
// several times slower: TestNonInterference then runs fewer seeds.
const niRace = true
