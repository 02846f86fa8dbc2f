// Package hostile holds the tests of what a hostile client or a careless
// operator does to a running pipeline (docs/reliability.md lists each
// attack, what happened before and the test that shows what happens now).
// The package has no code of its own.
package hostile
