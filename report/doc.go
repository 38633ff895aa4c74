// Package report draws the figures of one or more run folders and writes a
// self-contained HTML report (report.html: inline images and styles, no
// scripts, nothing fetched from the network).
//
// It reads runs through package rundir (rundir.Read, rundir.ReadRuns),
// which owns the run folder's files, and writes the page and its figures
// back through it (rundir.WriteReport). Figures draws what the runs' files
// allow: RSE per grade (MGDL against SGDL), training loss and validation
// RSE per grade, target and prediction per grade and the residual's
// spectrum per grade for 1-D problems, residual norms for constructed
// models, and the reconstruction per grade for images. Write puts them,
// with the configuration and a per-grade table of each run, into
// report.html; every figure is also kept as PNG and SVG under plots/.
package report
