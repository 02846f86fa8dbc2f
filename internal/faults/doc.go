// Package faults holds wirestream's fault tests: real wirestream processes
// killed with SIGKILL, a real server restarted, a node of a real
// three-node cluster stopped, all mid-stream, checking that every story
// comes out once. The tests are in faults_test.go; go test -short skips them.
package faults
