// Command gendocs writes the provider's reference pages under docs/terraform/ from its schemas
// and examples/. Run it from the terraform/ folder: go run ./cmd/gendocs
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/interim-idp/interim/terraform/internal/docsgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run() error {
	if _, err := os.Stat("go.mod"); err != nil {
		return fmt.Errorf("run me from the terraform/ folder (no go.mod here)")
	}
	pages, err := docsgen.Pages(context.Background(), "examples")
	if err != nil {
		return err
	}
	stale, err := docsgen.StalePages(docsgen.DocsDir, pages)
	if err != nil {
		return err
	}
	for _, name := range stale {
		if err := os.Remove(filepath.Join(docsgen.DocsDir, name)); err != nil {
			return err
		}
		fmt.Println("removed", filepath.Join(docsgen.DocsDir, name))
	}
	for name, content := range pages {
		target := filepath.Join(docsgen.DocsDir, name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d pages under %s\n", len(pages), docsgen.DocsDir)
	return nil
}
