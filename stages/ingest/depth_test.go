package ingest_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// nestedStory is a ninjs story with a field of n nested arrays.
func nestedStory(n int) []byte {
	return []byte(`{"uri":"urn:deep:1","body_text":"LIMA, Peru (AP) — Rain.","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
}

// A 6 MB story of nested arrays, within a raised --max-bytes, used to
// overflow the decoder's stack ("fatal error: stack overflow", the whole
// process gone). The depth is checked on the tokens first.
func TestDeepJSONRejectedNotCrashing(t *testing.T) {
	st := newStage(t, ingest.Config{MaxBytes: 8_000_000})
	for _, n := range []int{3_000_000, 65} {
		_, err := st.Parse(nestedStory(n), "")
		if !errors.Is(err, ingest.ErrInvalidJSON) || !strings.Contains(err.Error(), "invalid JSON: nesting deeper than 64") || !proto.IsPermanent(err) {
			t.Fatalf("depth %d: err = %v", n, err)
		}
	}
	if _, err := st.Parse(nestedStory(63), ""); err != nil { // 64 with the story object
		t.Fatalf("depth 64 rejected: %v", err)
	}
	deep := newStage(t, ingest.Config{Limits: proto.Limits{JSONDepth: 200}})
	if _, err := deep.Parse(nestedStory(150), ""); err != nil {
		t.Fatalf("JSONDepth 200: %v", err)
	}
}

// Rejecting a deep document costs memory in proportion to the input: a
// 3 MB one took the old code about 1 GB from the OS (512 MB of goroutine
// stack, Sys +1025 MB), and was accepted. Sys is what the process got
// from the OS, stacks included (TotalAlloc does not see stacks).
func TestDeepJSONMemory(t *testing.T) {
	st := newStage(t, ingest.Config{MaxBytes: 8_000_000})
	in := nestedStory(1_500_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := st.Parse(in, "")
	runtime.ReadMemStats(&after)
	grew := int64(after.Sys) - int64(before.Sys)
	if bound := int64(32<<20 + 4*len(in)); grew > bound {
		t.Errorf("parsing %d bytes took %d MB from the OS (stack %d MB), bound %d MB", len(in), grew>>20, after.StackSys>>20, bound>>20)
	}
	if err == nil {
		t.Fatal("accepted")
	}
	t.Logf("%d bytes rejected; Sys grew %d KB, TotalAlloc %d KB", len(in), grew>>10, (after.TotalAlloc-before.TotalAlloc)>>10)
}
