package docsgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedDocsMatchSchema fails when docs/terraform/ is not what the schemas and examples
// generate: a changed description, a new attribute or resource, or an edited example.
func TestCommittedDocsMatchSchema(t *testing.T) {
	pages, err := Pages(context.Background(), filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", DocsDir)
	const fix = "run `go run ./cmd/gendocs` in terraform/ and commit the result"
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("docs/terraform/%s is missing: %s", name, fix)
			continue
		}
		if string(got) != want {
			t.Errorf("docs/terraform/%s differs from the schema: %s", name, fix)
		}
	}
	stale, err := StalePages(dir, pages)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		t.Errorf("docs/terraform/%s documents nothing the provider has: %s", name, fix)
	}
}

// TestEveryAttributeHasADescription keeps the rule that each attribute says what it is.
func TestEveryAttributeHasADescription(t *testing.T) {
	pages, err := Pages(context.Background(), filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range pages {
		for _, line := range strings.Split(content, "\n") {
			if strings.HasPrefix(line, "- `") && strings.HasSuffix(line, ") ") {
				t.Errorf("%s: attribute without a description: %s", name, line)
			}
		}
	}
}
