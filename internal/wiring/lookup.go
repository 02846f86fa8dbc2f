package wiring

import (
	"fmt"

	"github.com/wirestream/wirestream/proto"
)

// RegionSubject returns the node subject of what a user typed for a region,
// and its name: an ISO 3166-1 alpha-2 code ("UZ"), a UN M49 code ("143"), or
// a name or slug the gazetteer knows ("central-asia", "Uzbekistan").
func (d *Data) RegionSubject(n proto.Names, code string) (subject, name string, err error) {
	t, err := d.Tagger()
	if err != nil {
		return "", "", err
	}
	if tok, err := proto.RegionToken(code); err == nil {
		_, name, _ := t.ResolveRegion(tok)
		return n.Region(tok), name, nil
	}
	tok, name, ok := t.ResolveRegion(code)
	if !ok {
		return "", "", fmt.Errorf("unknown region %q: use an ISO 3166-1 alpha-2 code (UZ), a UN M49 code (143) or a region name (central-asia)", code)
	}
	return n.Region(tok), name, nil
}

// TopicSubject returns the node subject of what a user typed for a topic,
// and its label: a Media Topic code ("medtop:11000000", "11000000") or label
// ("politics").
func (d *Data) TopicSubject(n proto.Names, code string) (subject, label string, err error) {
	t, err := d.Tagger()
	if err != nil {
		return "", "", err
	}
	if tok, err := proto.TopicToken(code); err == nil {
		_, label, _ := t.ResolveTopic(tok)
		return n.Topic(tok), label, nil
	}
	tok, label, ok := t.ResolveTopic(code)
	if !ok {
		return "", "", fmt.Errorf("unknown topic %q: use a Media Topic code (medtop:11000000) or label (politics)", code)
	}
	return n.Topic(tok), label, nil
}

// CitySubject returns the node subject of what a user typed for a city, and
// its name: a GeoNames id ("1216265"), a name ("Samarkand": the most
// populous city of that name) or a name with its country or division
// ("Paris, Texas", "Cordoba, Spain").
func (d *Data) CitySubject(n proto.Names, city string) (subject, name string, err error) {
	t, err := d.Tagger()
	if err != nil {
		return "", "", err
	}
	tok, name, ok := t.ResolveCity(city)
	if !ok {
		if tok, err := proto.CityToken(city); err == nil {
			return n.City(tok), "", nil // an id the gazetteer lacks: a provider's city
		}
		return "", "", fmt.Errorf("unknown city %q: use a GeoNames id (1216265), a city name (Samarkand) or a name with its country or state (Paris, Texas)", city)
	}
	return n.City(tok), name, nil
}
