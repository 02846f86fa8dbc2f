// Package dedupe is the domain logic of the dedupe stage: for each story it
// decides new, update, kill, duplicate, near_duplicate or stale (see
// Deduper.Decide), so that subscribers get each story once and each real
// update once.
//
// Exact copies are found by a fingerprint of the normalised text (see
// Normalize); near copies by word-shingle MinHash signatures in an in-memory
// LSH index. Shared state lives behind two small interfaces so that many
// Dedupers in many processes decide as one:
//
//   - Store: atomic create-if-absent and compare-and-set on small records, one
//     per uri and one per content fingerprint (a JetStream KV bucket in
//     package pipeline; MemoryStore here).
//   - Log: a totally ordered log of signature records that every instance
//     applies to its index in the same order, so near-duplicate verdicts are
//     identical everywhere (a JetStream stream in package pipeline; MemoryLog
//     here). Without a Log the index is local, which is right for a single
//     instance and for the offline enrich command.
//
// The package does not import NATS. docs/dedupe.md describes the protocol,
// the evaluation and the measured costs.
package dedupe
