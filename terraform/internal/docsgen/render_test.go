package docsgen

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Nested blocks and nested attributes (a template's custom fields, say) get sections of their own.
func TestNestedSchemasAreListed(t *testing.T) {
	block := &tfprotov6.SchemaBlock{
		Attributes: []*tfprotov6.SchemaAttribute{
			{Name: "name", Type: tftypes.String, Required: true, Description: "The name."},
			{Name: "secret", Type: tftypes.String, Optional: true, Sensitive: true, WriteOnly: true, Description: "A secret."},
			{Name: "ids", Type: tftypes.Set{ElementType: tftypes.String}, Computed: true, Description: "Ids."},
			{Name: "trigger", Description: "The trigger task.", Optional: true, NestedType: &tfprotov6.SchemaObject{
				Nesting:    tfprotov6.SchemaObjectNestingModeSingle,
				Attributes: []*tfprotov6.SchemaAttribute{{Name: "script_id", Type: tftypes.String, Required: true, Description: "The script."}},
			}},
		},
		BlockTypes: []*tfprotov6.SchemaNestedBlock{{
			TypeName: "custom_field",
			Nesting:  tfprotov6.SchemaNestedBlockNestingModeList,
			Block: &tfprotov6.SchemaBlock{
				Description: "A field the requester fills in.",
				Attributes:  []*tfprotov6.SchemaAttribute{{Name: "key", Type: tftypes.String, Required: true, Description: "The field's key."}},
			},
		}},
	}
	var b strings.Builder
	writeBlock(&b, block, "")
	page := b.String()
	for _, want := range []string{
		"### Required\n\n- `name` (String) The name.",
		"- `secret` (String, Sensitive, Write-only) A secret.",
		"### Read-Only\n\n- `ids` (Set of String) Ids.",
		"- `custom_field` (Block List) A field the requester fills in. (see [below for nested schema](#nested-schema-for-custom_field))",
		"### Nested Schema for `custom_field`\n\nRequired:\n\n- `key` (String) The field's key.",
		"- `trigger` (Attributes) The trigger task. (see [below for nested schema](#nested-schema-for-trigger))",
		"### Nested Schema for `trigger`\n\nRequired:\n\n- `script_id` (String) The script.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("missing %q in:\n%s", want, page)
		}
	}
}
