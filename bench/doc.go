// Package bench measures the performance figures of design.md. It holds no
// product code: `make bench` runs TestBenchTable with SCISPOT_BENCH=1 and
// prints one table. Ordinary test runs skip it, because speed is a
// measurement here, never an assertion.
package bench
