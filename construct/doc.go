// Package construct builds the constructive multigrade ReLU scheme of
// docs/CONSTRUCTIVE.md: a fixed-width multigrade network whose residuals
// e_l = f - (g_1 + ... + g_l) are pointwise nonincreasing in magnitude,
// never change sign, decay strictly in every L^p norm (1 ≤ p < ∞) at every
// nontrivial grade and converge uniformly to zero.
//
// It realises the statement of Zhang, Shen & Xu, "Multigrade neural network
// approximation" (arXiv 2601.16884), with this project's own construction
// (balanced partition-of-unity contractions with Freudenthal hat functions);
// it is not a transcription of the authors' proof.
//
// The target is given by its values y (length n) at points X (n×d, d = 1..4)
// in a box; the box is mapped affinely onto [0,1]^d inside the first layer of
// the model. Every level k chooses a mesh size h_k (adaptively, halving until
// the sup norm on the points is at least halved, or on the fixed dyadic
// schedule h_k = 2^-(k+1)), computes one balanced coefficient a_z per grid
// node from the level-start residual and spreads the hats a_z φ_z over grades:
//
//	VariantA  one hat per grade: width d+4, d+1 hidden layers per grade
//	VariantB  one hidden layer per grade (d trivial feature grades per hat)
//	VariantC  one level per grade: width d+6, (d+1)·(hats) hidden layers
//
// The result is an ordinary model.Model[float64]: predict, staged predictions,
// save/load and plots work unchanged. The guarantees hold exactly (up to
// round-off) at the points the coefficients were computed on; between them
// they hold up to the modulus of continuity of the target (package verify
// measures both).
package construct
