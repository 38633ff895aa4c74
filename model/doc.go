// Package model holds a frozen multigrade model and its evaluators: the sum
// of grades, plain, staged (after every grade) and per-grade predictions,
// and a compiled sparse evaluator (Program) for models of many narrow
// grades, such as those of the constructive scheme.
//
// Grade 1 reads the input x (n×InDim); grade l+1 reads grade l's last hidden
// layer; every grade has OutDim outputs and the prediction is their sum.
// Walk is the one traversal of the grades: Predict, GradeOutputs and
// StagedPredict are built on it, and it picks the compiled Program for
// narrow models and the grades' GEMM forward pass for wide ones.
//
// The package stands below everything that makes or reads models: the
// trainer (package mgdl), the constructive scheme, the verifier, the model
// file and the report import it; it imports only nn and tensor. Wrong
// widths are programmer errors and panic with the widths named.
package model
