// Package faults holds wirestream's fault tests: real wirestream processes
// killed with SIGKILL while they hold unacknowledged inputs (each test
// checks those inputs were delivered again), a real server restarted, a
// separate nats-server process killed with SIGKILL and restarted on its
// store, a node of a real three-node cluster stopped, all mid-stream,
// checking that every story comes out once. The tests are in
// faults_test.go; go test -short skips them.
package faults
