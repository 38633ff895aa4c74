//go:build !linux

package limits

// physical is a conservative guess where the system cannot be asked.
func physical() int64 { return 8 << 30 }

func addressLimit() int64 { return 0 }
