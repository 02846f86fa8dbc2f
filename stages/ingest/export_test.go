package ingest

// NormalizeTextSlow exposes the full pass of NormalizeText to the fuzz test,
// which checks that the fast path agrees with it.
var NormalizeTextSlow = normalizeSlow

// IsNFC exposes the segment-wise NFC check of the fast path to its fuzz test.
var IsNFC = isNFC

// IsStablePunct exposes the punctuation isNFC treats as segment boundaries.
var IsStablePunct = isStablePunct
