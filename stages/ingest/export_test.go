package ingest

// NormalizeTextSlow exposes the full pass of NormalizeText to the fuzz test,
// which checks that the fast path agrees with it.
var NormalizeTextSlow = normalizeSlow
