// Package nn implements shallow fully connected networks (dense layers with a
// hidden activation and an affine output) with forward and backward passes
// into buffers owned by the network and reused every step.
//
// Shapes: a network with widths [d0, d1, ..., dn] maps an m×d0 input to an
// m×dn output through n dense layers; layers 1..n-1 apply the activation,
// layer n is affine. Layer j stores W_j as a d(j-1)×dj matrix and b_j as a
// length-dj vector, so its pre-activation is Z_j = H_(j-1)·W_j + 1·b_jᵀ.
// All parameters live in one contiguous slice (Params) and all gradients in
// another (Grads) of the same layout, so an optimizer updates them in one pass.
//
// The last hidden layer's activations H_(n-1) are the network's feature map:
// in multigrade learning the next grade reads them.
package nn
