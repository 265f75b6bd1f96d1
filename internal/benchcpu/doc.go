// Package benchcpu measures the CPU time this process uses, for
// benchmarks whose wall time is dominated by another process (the
// embedded test server): the cpu-ns/op metric of the server and gate
// benchmarks.
//
//	| term      | meaning                                                          |
//	|-----------|------------------------------------------------------------------|
//	| CPU time  | user plus system time of this process (getrusage RUSAGE_SELF)    |
//	| cpu-ns/op | the CPU time a benchmark loop used, divided by b.N               |
//
// On platforms without getrusage (not unix) nothing is measured: Process
// reports false and Report adds no metric.
package benchcpu
