package main

import (
	"encoding/json"
	"fmt"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/experiment"
	"github.com/spf13/cobra"
)

func newExamplesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "examples",
		Short: "List the papers' synthetic examples",
		Example: `  mgdl examples
  mgdl train --example xu1 --out runs/xu1   # train one of them`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			for _, e := range data.Examples() {
				var widths [][]int
				for _, g := range experiment.Paper(e.Name) {
					widths = append(widths, g.Widths)
				}
				b, _ := json.Marshal(widths) // the form --grades takes
				fmt.Fprintf(w, "%-12s %s\n             grades %s\n", e.Name, e.Description, b)
			}
			return nil
		},
	}
}
