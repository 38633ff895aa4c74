// Package experiment holds one run's whole configuration as one typed
// value: the method (MGDL or its SGDL baseline), the dtype, the data source
// (data.Source) and the trainer's configuration (mgdl.Config: grades, seed,
// task, ridge, growth). A run folder's config.json is a Config, and
// `mgdl train --config` decodes the same format, so a configuration written
// by hand and one written by mgdl are one thing.
//
// A Config goes through three steps: Default or Decode (a file: YAML or
// JSON, with conveniences for hand-written files) gives a starting value;
// the command line sets fields of it; Resolve fills what is left open from
// the data (the example's published recipe, Paper, or a default
// architecture, DefaultWidths) and puts it in canonical form. A resolved
// Config encodes (Encode) to JSON that decodes back to itself, and its
// ComputeDigest names it: two runs of one digest train the same model.
// Trainer gives the mgdl.Config the trainer runs, the SGDL network for the
// SGDL method.
package experiment
