// Package buildinfo holds the library version, recorded in summaries,
// model files and reports.
package buildinfo

// Version is the library version.
const Version = "0.1.0"
