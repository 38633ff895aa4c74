// Package modelfile reads and writes mgdl models as single files in the
// safetensors layout: an 8-byte little-endian header length N, N bytes of
// JSON naming each tensor (dtype, shape, byte offsets), then the tensor
// bytes. The JSON's "__metadata__" object carries the mgdl metadata (format
// version, architecture, dtype, input normalisation, training config,
// per-grade metrics, seed, library version) as a JSON string, and the
// SHA-256 of the tensor bytes.
//
// Tensors are named grade.G.layer.L.weight (In×Out, row-major, so that a
// layer computes x·W + b) and grade.G.layer.L.bias (Out), with G and L
// counted from 1. docs/MODEL_FORMAT.md is the full specification.
//
// Reading never panics on bad input: a truncated, corrupted or foreign
// file, or one from a newer format version, gives an error that says which.
package modelfile
