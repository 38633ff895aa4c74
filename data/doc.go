// Package data holds datasets (inputs X, n×d, and targets Y, n×k, as dense
// matrices), train/validation/test splits, and the papers' synthetic
// targets, generated from a seed.
package data
