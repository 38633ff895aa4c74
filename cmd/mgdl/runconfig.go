package main

// Experiment configs: a YAML or JSON file whose keys are the command's flag
// names (with - or _), plus the papers' notation for grades. Values a flag
// takes as a comma list (epochs, lr, activation per grade) may be written
// as lists; grades as a list of width lists, or as a list of objects with
// per-grade settings:
//
//	method: mgdl
//	example: spectral2        # or, once there are loaders, a data source
//	grades:
//	  - {widths: [1,256,256,1], activation: sin, epochs: 20, lr: 0.1, lr_min: 1e-4}
//	  - {widths: [256,128,128,64,1], epochs: 20, lr: 0.01, lr_min: 1e-4}
//	batch: 32
//
// Flags given on the command line override the file. The resolved settings
// are written to the run folder as config.json, which --config reads back
// (its "resolved" entry, the full per-grade configuration, is informational).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

const configFile = "config.json"

// informational keys a config file may hold that set nothing.
var configInfoKeys = map[string]bool{"resolved": true, "mgdl_version": true, "name": true, "description": true, "comment": true}

// configSkipFlags are flags that are not part of an experiment's settings:
// they are neither read from a config file nor written to config.json
// (the backend and thread count are the machine's, not the experiment's).
var configSkipFlags = map[string]bool{"config": true, "out": true, "quiet": true, "progress": true, "help": true, "resume": true, "backend": true, "threads": true}

// perGradeFlags take one value or a comma list with one per grade.
var perGradeFlags = map[string]bool{"activation": true, "epochs": true, "lr": true, "lr-min": true}

// addConfigFlag registers --config on a command that takes run settings.
func addConfigFlag(f *pflag.FlagSet) {
	f.String("config", "", "experiment config file (YAML or JSON; keys are flag names, grades in the papers' notation); flags given here override it")
}

// applyConfigFile reads the file named by --config, if any, and sets every
// flag it names that was not given on the command line.
func applyConfigFile(cmd *cobra.Command) error {
	f := cmd.Flags()
	path, _ := f.GetString("config")
	if path == "" {
		return nil
	}
	settings, err := readConfigFile(path)
	if err != nil {
		return usageError{err}
	}
	explicit := map[string]bool{}
	f.Visit(func(fl *pflag.Flag) { explicit[fl.Name] = true })
	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if explicit[name] {
			continue
		}
		if f.Lookup(name) == nil || configSkipFlags[name] {
			return usagef("%s: unknown setting %q for '%s' (known: %s)", path, name, cmd.CommandPath(), strings.Join(configKeys(f), ", "))
		}
		if err := f.Set(name, settings[name]); err != nil {
			return usagef("%s: %s: %v", path, name, err)
		}
	}
	return nil
}

// configKeys lists the settings a config file may give for a command.
func configKeys(f *pflag.FlagSet) []string {
	var out []string
	f.VisitAll(func(fl *pflag.Flag) {
		if !configSkipFlags[fl.Name] {
			out = append(out, fl.Name)
		}
	})
	sort.Strings(out)
	return out
}

// readConfigFile decodes a YAML or JSON config into flag values (as the
// strings the flags would be given).
func readConfigFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var raw map[string]any
	if strings.EqualFold(filepath.Ext(path), ".json") {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		err = d.Decode(&raw)
	} else {
		err = yaml.Unmarshal(b, &raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	out, err := flattenConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return out, nil
}

// flattenConfig turns decoded settings into flag values.
func flattenConfig(raw map[string]any) (map[string]string, error) {
	out := map[string]string{}
	set := func(k string, v any) error {
		k = strings.ReplaceAll(strings.ToLower(k), "_", "-")
		if _, dup := out[k]; dup {
			return fmt.Errorf("%s is given twice", k)
		}
		s, err := flagValue(k, v)
		if err != nil {
			return err
		}
		out[k] = s
		return nil
	}
	for k, v := range raw {
		switch key := strings.ToLower(k); {
		case configInfoKeys[key]:
		case key == "data":
			m, ok := v.(map[string]any)
			if !ok { // data: FILE, the --data flag
				if err := set(k, v); err != nil {
					return nil, err
				}
				continue
			}
			for dk, dv := range m {
				name := dk
				switch strings.ToLower(dk) {
				case "seed":
					name = "data-seed"
				case "file", "path":
					name = "data"
				}
				if err := set(name, dv); err != nil {
					return nil, fmt.Errorf("data.%s", err)
				}
			}
		case key == "grades":
			if err := flattenGrades(v, set); err != nil {
				return nil, err
			}
		case key == "lr":
			if m, ok := v.(map[string]any); ok { // {max: 1e-3, min: 1e-4}
				for mk, mv := range m {
					switch strings.ToLower(mk) {
					case "max":
						if err := set("lr", mv); err != nil {
							return nil, err
						}
					case "min":
						if err := set("lr-min", mv); err != nil {
							return nil, err
						}
					default:
						return nil, fmt.Errorf("lr: unknown key %q (want max and min)", mk)
					}
				}
				continue
			}
			if err := set(k, v); err != nil {
				return nil, err
			}
		default:
			if err := set(k, v); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// flattenGrades accepts [[1,256,256,1],[256,256,256,1]] or a list of
// {widths: [...], activation: ..., epochs: ..., lr: ..., lr_min: ...}.
func flattenGrades(v any, set func(string, any) error) error {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return fmt.Errorf("grades: want a list such as [[1,256,256,1],[256,256,256,1]]")
	}
	if _, ok := list[0].([]any); ok {
		return set("grades", list)
	}
	var widths []any
	per := map[string][]any{}
	var order []string
	for i, g := range list {
		m, ok := g.(map[string]any)
		if !ok {
			return fmt.Errorf("grades[%d]: want a width list or a mapping with widths", i)
		}
		w, ok := m["widths"]
		if !ok {
			return fmt.Errorf("grades[%d]: no widths", i)
		}
		widths = append(widths, w)
		for k, val := range m {
			if k == "widths" {
				continue
			}
			name := strings.ReplaceAll(strings.ToLower(k), "_", "-")
			if _, seen := per[name]; !seen {
				order = append(order, name)
			}
			if len(per[name]) != i {
				return fmt.Errorf("grades[%d]: %s must be given for every grade or none", i, k)
			}
			per[name] = append(per[name], val)
		}
		for name, vals := range per {
			if len(vals) != i+1 {
				return fmt.Errorf("grades[%d]: %s must be given for every grade or none", i, name)
			}
		}
	}
	if err := set("grades", widths); err != nil {
		return err
	}
	sort.Strings(order)
	for _, name := range order {
		vals := per[name]
		if perGradeFlags[name] {
			if err := set(name, vals); err != nil {
				return err
			}
			continue
		}
		first, _ := flagValue(name, vals[0])
		for _, x := range vals[1:] {
			if s, _ := flagValue(name, x); s != first {
				return fmt.Errorf("grades: %s differs between grades, but is one setting for the whole run", name)
			}
		}
		if err := set(name, vals[0]); err != nil {
			return err
		}
	}
	return nil
}

// flagValue writes a decoded value the way the flag takes it: scalars as
// text, lists as comma lists, grades (nested lists) as JSON.
func flagValue(name string, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", fmt.Errorf("%s: no value", name)
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case []any:
		if name == "grades" {
			b, err := json.Marshal(x)
			if err != nil {
				return "", fmt.Errorf("grades: %v", err)
			}
			return string(b), nil
		}
		parts := make([]string, len(x))
		for i, e := range x {
			if _, nested := e.([]any); nested {
				return "", fmt.Errorf("%s: want a value or a list of values", name)
			}
			s, err := flagValue(name, e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("%s: cannot use a value of type %T", name, v)
}

// writeRunConfig writes dir/config.json: every run setting of cmd (flags
// given, from a config file, or defaults), typed, and under "resolved" the
// full per-grade configuration the run uses. mgdl train --config
// dir/config.json repeats the run.
func writeRunConfig(cmd *cobra.Command, dir string, cfg mgdl.Config) error {
	out := map[string]any{"mgdl_version": mgdl.Version, "resolved": cfg}
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if configSkipFlags[fl.Name] {
			return
		}
		out[strings.ReplaceAll(fl.Name, "-", "_")] = typedValue(fl)
	})
	// The per-grade settings as resolved (an example's recipe fills in
	// what no flag gave), so that the file repeats the run exactly.
	if len(cfg.Grades) > 0 && cmd.Flags().Lookup("grades") != nil {
		var widths [][]int
		var acts, epochs, lrs, lrMins []any
		for _, g := range cfg.Grades {
			widths = append(widths, g.Widths)
			acts = append(acts, g.Activation.String())
			epochs = append(epochs, g.Epochs)
			lrs = append(lrs, g.LR.Max)
			lrMins = append(lrMins, g.LR.Min)
		}
		out["grades"] = widths
		out["activation"] = collapse(acts)
		out["epochs"] = collapse(epochs)
		out["lr"] = collapse(lrs)
		out["lr_min"] = collapse(lrMins)
		out["batch"] = cfg.Grades[0].BatchSize
		out["init"] = cfg.Grades[0].Init.String()
		out["optimizer"] = cfg.Grades[0].Optimizer.String()
		out["seed"] = cfg.Seed
	}
	b, err := encodeSettings(out)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", configFile, err)
	}
	return atomicfile.Write(filepath.Join(dir, configFile), b)
}

// encodeSettings writes one setting per line, keys sorted, each value on
// one line (grades read as in the papers: [[1,256,256,1],[256,256,256,1]]),
// except "resolved", which is indented.
func encodeSettings(m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "resolved" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := m["resolved"]; ok {
		keys = append(keys, "resolved")
	}
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range keys {
		kb, _ := json.Marshal(k)
		var vb []byte
		var err error
		if k == "resolved" {
			vb, err = json.MarshalIndent(m[k], "  ", "  ")
		} else {
			vb, err = json.Marshal(m[k])
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		fmt.Fprintf(&b, "  %s: %s", kb, vb)
		if i < len(keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// typedValue returns a flag's value as JSON would best hold it.
func typedValue(fl *pflag.Flag) any {
	s := fl.Value.String()
	if fl.Name == "grades" && s != "" {
		var g [][]int
		if json.Unmarshal([]byte(s), &g) == nil {
			return g
		}
	}
	switch fl.Value.Type() {
	case "bool":
		return s == "true"
	case "int", "int64", "uint64", "float64":
		return json.Number(s)
	}
	num := func(p string) (json.Number, bool) {
		p = strings.TrimSpace(p)
		if _, err := strconv.ParseFloat(p, 64); err != nil {
			return "", false
		}
		return json.Number(p), true
	}
	if n, ok := num(s); ok {
		return n
	}
	if perGradeFlags[fl.Name] && strings.Contains(s, ",") {
		parts := strings.Split(s, ",")
		var nums []any
		for _, p := range parts {
			n, ok := num(p)
			if !ok {
				nums = nil
				break
			}
			nums = append(nums, n)
		}
		if nums != nil {
			return nums
		}
		strs := make([]any, len(parts))
		for i, p := range parts {
			strs[i] = strings.TrimSpace(p)
		}
		return strs
	}
	return s
}

// collapse returns v[0] when every element of v is equal, else v.
func collapse(v []any) any {
	for _, x := range v[1:] {
		if x != v[0] {
			return v
		}
	}
	return v[0]
}
