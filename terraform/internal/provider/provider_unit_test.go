package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// The acceptance tests' exactlyOneError must tell one diagnostic from several.
func TestExactlyOneErrorPattern(t *testing.T) {
	pattern := exactlyOneError("Interim rejected the API token", "INTERIM_TOKEN")
	one := "Error running pre-apply plan: exit status 1\n\nError: Interim rejected the API token\n\n  with provider[\"registry.opentofu.org/interim-idp/interim\"],\n\nInterim rejected the API token (sign in or send a valid API token). Check the\nprovider's token (or INTERIM_TOKEN).\n"
	if !pattern.MatchString(one) {
		t.Errorf("did not match a single error:\n%s", one)
	}
	two := one + "\nError: Interim rejected the API token\n\n  with interim_group.b,\n"
	if pattern.MatchString(two) {
		t.Errorf("matched two errors:\n%s", two)
	}
	if pattern.MatchString("Error: Interim rejected the API token\n\nno hint here\n") {
		t.Error("matched an error without the expected detail")
	}
}

// A field the server names becomes an attribute path only when the schema has that attribute.
func TestAttributePathFromServerField(t *testing.T) {
	var resp resource.SchemaResponse
	NewGroupResource().Schema(context.Background(), resource.SchemaRequest{}, &resp)
	for field, want := range map[string]bool{"name": true, "description": true, "params.id": false, "": false} {
		if _, ok := attributePath(context.Background(), field, resp.Schema, nil); ok != want {
			t.Errorf("attributePath(%q): got %v, want %v", field, ok, want)
		}
	}
	if p, ok := attributePath(context.Background(), "group_name_taken", resp.Schema, groupFields); !ok || p.String() != "name" {
		t.Errorf("the duplicate-name code should point at name, got %q %v", p, ok)
	}
}
