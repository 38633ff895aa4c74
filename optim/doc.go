// Package optim holds the optimizers (Adam, plain gradient descent) and the
// learning-rate schedules used to fit networks.
//
// An optimizer updates a flat parameter slice from a gradient slice of the
// same length (see nn.MLP.Params and Grads) in one pass, without allocating
// after its first step.
package optim
