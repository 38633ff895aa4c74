// Package rundir owns the run folder: the one place that knows its file
// names and formats, and the only package that writes or reads them.
//
//	config.json        the run's configuration (experiment.Config) with its digest
//	summary.json       per-grade results (Summary), after every grade and at the end
//	metrics.jsonl      the metrics log (MetricsRecord), one line per (sampled) epoch and grade
//	model.safetensors  the model after the last finished grade (modelfile), with the digest
//	staged.json        1-D problems: target and prediction after each grade (Staged)
//	images/            image regression: target and reconstruction after each grade
//	report.html, plots/  the report (WriteReport)
//
// While a process writes a folder it holds an exclusive flock on the folder
// itself, which the kernel releases when the process ends, however it ends.
//
// Create makes a new run folder (refusing one that holds a run, or replacing
// it whole when asked) and Resume reopens one, checking that config.json is
// the one the run started with and that the model was trained under it; both
// hold the folder's lock until Close. A Recorder writes what a training run
// produces as the trainer reports it. Read and ReadRuns read folders back
// for reports; OpenModel reads a model file or a folder's model. Every file
// is written atomically.
package rundir
