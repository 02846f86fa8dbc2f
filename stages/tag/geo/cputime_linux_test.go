//go:build linux

package geo_test

import "syscall"

// cpuNanos is the CPU time (user and system) the process has used. Unlike
// wall time it does not grow when other processes compete for the cores.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
