// Package jsonfmt writes indented JSON that keeps short lists of numbers
// on one line, so that grades read as in the papers: "widths": [1, 256,
// 256, 1].
package jsonfmt

import (
	"encoding/json"
	"regexp"
)

// numberList matches an indented JSON array holding only numbers.
var numberList = regexp.MustCompile(`\[\s*(-?[0-9][0-9.eE+-]*(?:,\s*-?[0-9][0-9.eE+-]*)*)\s*\]`)

var space = regexp.MustCompile(`,\s+`)

// Marshal is json.MarshalIndent with two spaces, lists of numbers on one
// line, and a final newline.
func Marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	b = numberList.ReplaceAllFunc(b, func(m []byte) []byte {
		inner := numberList.FindSubmatch(m)[1]
		return append(append([]byte("["), space.ReplaceAll(inner, []byte(", "))...), ']')
	})
	return append(b, '\n'), nil
}
