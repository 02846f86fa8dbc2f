package dedupe_test

import (
	"testing"

	"github.com/wirestream/wirestream/stages/dedupe"
)

func BenchmarkZZFingerprint(b *testing.B) {
	s := newSynth(9).story(1, benchBase)
	b.SetBytes(int64(len(s.BodyText)))
	c0 := cpuNow()
	for i := 0; i < b.N; i++ {
		dedupe.FingerprintOf(s.Headline, s.BodyText)
	}
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkZZRecord(b *testing.B) {
	s := newSynth(9).story(1, benchBase)
	d, _ := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	b.SetBytes(int64(len(s.BodyText)))
	c0 := cpuNow()
	for i := 0; i < b.N; i++ {
		d.Record(s)
	}
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
}
