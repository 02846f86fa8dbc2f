package text

import "github.com/wirestream/wirestream/proto"

// Locate records what the dateline grammar finds at the start of
// s.BodyText: s.Dateline is recomputed from the body (whatever s carried is
// dropped; nil when the body opens with no dateline), and s.Located is set
// to the dateline's place when it is empty. A located field the provider
// sent is kept. This is what the ingest stage does to every story; the
// taggers only read the result.
func Locate(s *proto.Story) {
	s.Dateline = nil
	d, ok := ParseDateline(s.BodyText)
	if !ok {
		return
	}
	s.Dateline = &proto.Dateline{
		Text:      d.Text,
		Start:     int32(d.Start),
		End:       int32(d.End),
		BodyStart: int32(d.BodyStart),
		Agency:    d.Agency,
		Date:      d.Date,
	}
	if s.Located == "" {
		s.Located = d.Text
	}
}

// LocatedFromDateline reports whether s.Located is the place of s.Dateline
// (as Locate sets it when the provider sent no located field) and the
// dateline fits s.BodyText. Evidence for the located place is then the
// dateline in the body, not the located field.
func LocatedFromDateline(s *proto.Story) bool {
	return DatelineFits(s) && s.Located == s.Dateline.Text
}

// DatelineFits reports whether s.Dateline is set and its offsets lie in
// s.BodyText around its text: a story built or edited elsewhere may carry
// one that does not, and readers then ignore it.
func DatelineFits(s *proto.Story) bool {
	d := s.Dateline
	if d == nil {
		return false
	}
	st, e, b := int(d.Start), int(d.End), int(d.BodyStart)
	return 0 <= st && st <= e && e <= b && b <= len(s.BodyText) && s.BodyText[st:e] == d.Text
}
