package main

import (
	"fmt"

	"github.com/mgdl/mgdl/data"
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
				fmt.Fprintf(w, "%-12s %s\n             grades %v\n", e.Name, e.Description, e.Grades)
			}
			return nil
		},
	}
}
