package main

import (
	"fmt"
	"strings"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/model"
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
				var widths []string
				for _, g := range experiment.Paper(e.Name) {
					widths = append(widths, model.FormatWidths(g.Widths))
				}
				fmt.Fprintf(w, "%-12s %s\n             grades [%s]\n", e.Name, e.Description, strings.Join(widths, " "))
			}
			return nil
		},
	}
}
