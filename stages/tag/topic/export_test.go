package topic

// LoadFrom builds a classifier from the given taxonomy and lexicon sources,
// so that tests can exercise Load's error handling.
var LoadFrom = load
