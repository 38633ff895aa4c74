package experiment

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/mgdl/mgdl/internal/fileio"
	"github.com/mgdl/mgdl/limits"
	"go.yaml.in/yaml/v3"
)

// ReadFile reads a configuration file (YAML or JSON): see Decode.
func ReadFile(path string) (Config, error) {
	b, err := fileio.ReadFile(path, limits.MaxConfig, "a configuration file")
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Decode(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Decode reads a configuration written in YAML or JSON (JSON is YAML): the
// JSON encoding of Config, starting from Default, with three conveniences
// for files written by hand:
//
//   - a grade may be written as its widths alone: [1,256,256,1];
//   - grade_defaults holds settings every grade takes unless it sets them
//     (epochs, lr, batch_size, ...);
//   - data may be a file name: data: table.csv.
//
// Settings a grade leaves out take DefaultGrade's values. Unknown keys and
// keys given twice are errors that name them.
func Decode(b []byte) (Config, error) {
	var raw any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		if err == io.EOF {
			return Config{}, errors.New("the file is empty; want a mapping of settings (method, data, grades, ...)")
		}
		return Config{}, fmt.Errorf("not valid YAML or JSON: %v", err)
	}
	var more any
	if err := dec.Decode(&more); err != io.EOF {
		return Config{}, errors.New("the file holds more than one document (a second object, or YAML's ---); want one mapping of settings")
	}
	doc, ok := raw.(map[string]any)
	if !ok {
		return Config{}, fmt.Errorf("want a mapping of settings (method, data, grades, ...), got %s", kindOf(raw))
	}
	if err := expand(doc); err != nil {
		return Config{}, err
	}
	if err := checkKeys(doc, reflect.TypeFor[Config](), ""); err != nil {
		return Config{}, err
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return Config{}, fmt.Errorf("encoding the settings: %v", err)
	}
	c := Default()
	d := json.NewDecoder(bytes.NewReader(j))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if k := kindName(te.Type); k == "a whole number" && strings.HasPrefix(te.Value, "number") {
				// A number, but not one the field holds: a fraction, or
				// beyond its range (JSON's value is shown rounded).
				return Config{}, fmt.Errorf("%s: want a whole number from %s, got %s", te.Field, intRange(te.Type), strings.TrimPrefix(te.Value, "number "))
			}
			return Config{}, fmt.Errorf("%s: want %s, got a %s", te.Field, kindName(te.Type), te.Value)
		}
		return Config{}, err
	}
	return c, nil
}

// expand applies the conveniences of Decode to doc in place.
func expand(doc map[string]any) error {
	if f, ok := doc["data"].(string); ok {
		doc["data"] = map[string]any{"file": f}
	}
	if d, ok := doc["data"].(map[string]any); ok {
		for _, k := range []string{"inputs", "targets"} {
			if v, ok := d[k]; ok {
				if _, list := v.([]any); !list && v != nil {
					v = []any{v}
				}
				if list, ok := v.([]any); ok {
					for i, e := range list {
						if _, nested := e.([]any); !nested {
							list[i] = fmt.Sprint(e) // column indices are names too
						}
					}
				}
				d[k] = v
			}
		}
	}
	defaults := map[string]any{}
	if v, ok := doc["grade_defaults"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("grade_defaults: want a mapping of grade settings, got %s", kindOf(v))
		}
		if err := checkKeys(m, reflect.TypeFor[gradeKeys](), "grade_defaults"); err != nil {
			return err
		}
		defaults = m
		delete(doc, "grade_defaults")
	}
	base, err := toMap(DefaultGrade())
	if err != nil {
		return err
	}
	v, ok := doc["grades"]
	if ok && v == nil {
		// grades: null (as Encode writes an unresolved configuration) is
		// the same as no grades: the example's or the default ones.
		delete(doc, "grades")
		ok = false
	}
	if !ok {
		if len(defaults) > 0 {
			return fmt.Errorf("grade_defaults without grades: give grades too (or leave both to the example)")
		}
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("grades: want a list such as [[1,256,256,1],[256,256,256,1]], got %s", kindOf(v))
	}
	for i, g := range list {
		var m map[string]any
		switch x := g.(type) {
		case []any:
			m = map[string]any{"widths": x}
		case map[string]any:
			m = x
		default:
			return fmt.Errorf("grades[%d]: want a width list or a mapping with widths, got %s", i, kindOf(g))
		}
		if _, ok := m["widths"]; !ok {
			return fmt.Errorf("grades[%d]: no widths", i)
		}
		for k, dv := range defaults {
			if _, set := m[k]; !set {
				m[k] = dv
			}
		}
		for k, dv := range base {
			if _, set := m[k]; !set {
				m[k] = dv
			}
		}
		list[i] = m
	}
	return nil
}

// gradeKeys has the keys of a grade apart from its widths, for checking
// grade_defaults.
type gradeKeys struct {
	Activation any `json:"activation"`
	Init       any `json:"init"`
	Epochs     any `json:"epochs"`
	BatchSize  any `json:"batch_size"`
	LR         any `json:"lr"`
	Optimizer  any `json:"optimizer"`
	ZeroOutput any `json:"zero_output"`
	Refit      any `json:"refit"`
	EarlyStop  any `json:"early_stop"`
}

// toMap returns v's JSON encoding as a generic mapping.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// hints explains keys of the older flag-style files.
var hints = map[string]string{
	"epochs": "grade_defaults or each grade", "lr": "grade_defaults or each grade", "lr_min": "each grade's lr: {max, min}",
	"batch": "grade_defaults (batch_size)", "activation": "grade_defaults or each grade", "init": "grade_defaults",
	"optimizer": "grade_defaults", "early_stop": "grade_defaults", "example": "data: {example: …}", "data_seed": "data: {seed: …}",
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// checkKeys reports the first key in v that t (a struct, or a slice or
// pointer of one) has no JSON field for, naming the known ones.
func checkKeys(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if list, ok := v.([]any); ok {
			for i, e := range list {
				if err := checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
		return nil
	case reflect.Struct:
	default:
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil // a type error, which the decoder names
	}
	fields := jsonFields(t)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ft, ok := fields[k]
		at := strings.TrimPrefix(path+"."+k, ".")
		if !ok {
			known := make([]string, 0, len(fields)+1)
			for f := range fields {
				known = append(known, f)
			}
			if path == "" {
				known = append(known, "grade_defaults") // a convenience of hand-written files
			}
			sort.Strings(known)
			msg := fmt.Sprintf("unknown setting %q", at)
			if h, ok := hints[k]; ok && path == "" {
				msg += " (it belongs in " + h + ")"
			}
			return fmt.Errorf("%s; known here: %s", msg, strings.Join(known, ", "))
		}
		if err := checkKeys(m[k], ft, at); err != nil {
			return err
		}
	}
	return nil
}

// jsonFields maps the JSON names of t's fields (embedded structs inlined)
// to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// intRange describes the values of the integer type t.
func intRange(t reflect.Type) string {
	bits := t.Bits()
	if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64 {
		return fmt.Sprintf("0 to %d", ^uint64(0)>>(64-bits))
	}
	return fmt.Sprintf("%d to %d", -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1)
}

func kindName(t reflect.Type) string {
	switch {
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "a mapping"
	case t.Kind() == reflect.String || reflect.PointerTo(t).Implements(textUnmarshaler):
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case slices.Contains([]reflect.Kind{reflect.Int, reflect.Int64, reflect.Uint64, reflect.Uint, reflect.Int32}, t.Kind()):
		return "a whole number"
	}
	return "a number"
}
