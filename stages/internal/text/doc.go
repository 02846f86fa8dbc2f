// Package text is the text toolkit the stages share: one dateline grammar
// (ParseDateline, ParsePlace, IsDate), one accent folding (FoldRune,
// Deaccent) and one HTML-to-text conversion (HTMLToText, Writer, with one
// list of block elements and one of skipped elements).
//
// It is plain Go over strings and the story schema; being internal to
// stages/, only the stages import it, so that ingest, dedupe and the taggers
// read a story's text by the same rules.
package text
