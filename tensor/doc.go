// Package tensor provides dense row-major matrices of float32 or float64 and
// the single dispatch point for matrix multiplication.
//
// A Dense[T] is always contiguous: element (i, j) of an r×c matrix lives at
// Data[i*c+j]. Contiguity makes a block of rows a zero-copy view
// (RowsView), which the training loop uses for minibatches, and it lets every
// matrix be handed to a BLAS with leading dimension Cols.
//
// All products go through Mul, which hands the work to the current Backend
// (SetBackend, UseBackend). The default is the packed pure-Go GEMM of package
// gemm ("go"); "openblas" loads a system CBLAS at run time, "auto" takes
// OpenBLAS when it loads and "go" otherwise, and "gonum" (gonum's pure-Go
// BLAS) is kept as a baseline. Backends plug in here without any change to
// the layers that call Mul.
//
// Wrong shapes are programmer errors and panic with a message naming the
// shapes; nothing in this package returns an error.
package tensor
