//go:build !linux

package geo_test

// cpuNanos is not measured off Linux.
func cpuNanos() int64 { return 0 }
