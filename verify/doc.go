// Package verify checks the residuals of any MGDL model, constructed or
// trained, grade by grade on an evaluation set: for every grade l it measures
// max(|e_l| - |e_{l-1}|) and the number of points where it is positive beyond
// round-off, sign flips of the residual, its L1, L2 and L∞ norms, whether the
// grade is nontrivial and whether L1 and L2 fell strictly, and the sup norm
// at the end of every level. These are the properties the constructive scheme
// of package construct guarantees (exactly at the points its coefficients
// were computed on); a trained model in general does not have them.
//
// The model is evaluated through model.Model.Walk, which runs models of many
// narrow grades through a compiled model.Program.
package verify
