// Package mongotest is what package rulegatetest was called while it was
// internal. It forwards to rulegatetest so that test files written against
// the old name still compile; use rulegatetest, and remove this package
// once `grep -rl internal/mongotest` finds nothing.
package mongotest
