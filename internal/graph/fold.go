package graph

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// foldKey returns the form of an object key under which encoding/json
// considers two keys the same field: it matches field names with Unicode
// simple case folding (bytes.EqualFold), so "k", "K" and the Kelvin sign
// U+212A are one key, and so are "s", "S" and the long s U+017F. Two keys
// collide exactly when their foldKey values are equal: ASCII letters are
// uppercased, and every other rune is replaced by the smallest rune of its
// case-folding orbit.
func foldKey(key string) string {
	ascii := true
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(key)
	}
	var b strings.Builder
	b.Grow(len(key))
	for _, r := range key {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		b.WriteRune(smallestFold(r))
	}
	return b.String()
}

// smallestFold returns the smallest rune that folds to the same orbit as r.
// unicode.SimpleFold walks the orbit in increasing order and wraps around
// to its smallest member.
func smallestFold(r rune) rune {
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < min {
			min = f
		}
	}
	return min
}
