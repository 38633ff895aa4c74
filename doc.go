// Package mgdl trains deep networks grade by grade (multigrade deep learning,
// MGDL) and, as a baseline, end to end (single-grade deep learning, SGDL).
//
// Grade 1 is a shallow network fitted to the data. Grade l+1 is a new
// shallow network that reads the frozen last-hidden-layer features of grade
// l and is fitted to the residual the first l grades leave. The model's
// prediction is the sum of all grade outputs. Features and residuals of each
// split are computed once per finished grade and cached, so an epoch of
// grade l costs only grade l's own network, whatever l is.
//
// A grade is written as its widths, input first: the papers' 4-grade model
// is [[1,256,256,1],[256,256,256,1],[256,256,256,1],[256,256,256,1]], and
// grade l+1's input width is grade l's last hidden width. SGDL stacks the
// same hidden layers in one network ([1, 256×8, 1]) and trains it through
// the same code: it is a model with a single grade.
//
// Models are generic over float32 and float64 (the default, as in the
// papers' code). Data problems return errors; wrong shapes in calls between
// packages are programmer errors and panic.
package mgdl
