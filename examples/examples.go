// Package examples holds the example data files that the mgdl binary
// carries with it: the photographs of the papers' image-regression
// experiments (data/README.md gives their sources and licences). The
// configuration files beside it (*.yaml) are read from disk with
// mgdl train --config.
package examples

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed data/camera.png data/astronaut.png data/camera128.png data/astronaut128.png
var images embed.FS

// Image returns the bytes of the built-in photograph name (a file name of
// data/, e.g. "camera128.png").
func Image(name string) ([]byte, error) {
	b, err := fs.ReadFile(images, "data/"+name)
	if err != nil {
		return nil, fmt.Errorf("examples: no built-in image %q", name)
	}
	return b, nil
}
