// Package report draws the plots of a training run and writes a
// self-contained HTML report (report.html: inline images and styles, no
// scripts, nothing fetched from the network).
//
// A run folder, as mgdl train writes it, holds
//
//	summary.json    per-grade results (mgdl.Summary)
//	config.json     the resolved experiment settings
//	metrics.jsonl   the metrics log: one JSON record per (sampled) epoch and per grade
//	staged.json     for 1-D problems: target and the prediction after each grade (Staged)
//
// Load reads a folder into a Run; Plots draws what the run's files allow
// (loss per grade, RSE per grade, target and prediction per grade, the
// residual's spectrum per grade, constructive residual norms); Write puts
// one or two runs (MGDL and SGDL side by side) into report.html. Every plot
// is written as PNG and SVG.
package report
