package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// instantValue is the state value for an instant the server returns (RFC 3339 in UTC with
// milliseconds). When the configuration already holds the same instant in another spelling
// ("2030-01-01T01:00:00+01:00"), that spelling is kept, so an apply never reports an inconsistent
// result and the next plan stays empty; a different instant (drift) takes the server's value.
func instantValue(current types.String, server *string) types.String {
	if server == nil {
		return types.StringNull()
	}
	if !current.IsNull() && !current.IsUnknown() {
		mine, errMine := time.Parse(time.RFC3339, current.ValueString())
		theirs, errTheirs := time.Parse(time.RFC3339, *server)
		if errMine == nil && errTheirs == nil && mine.Equal(theirs) {
			return current
		}
	}
	return types.StringValue(*server)
}

// rfc3339Validator checks at plan time what the API checks: an RFC 3339 instant with a zone offset.
type rfc3339Validator struct{}

func (rfc3339Validator) Description(context.Context) string {
	return "an RFC 3339 instant with a zone offset, such as 2030-01-31T17:00:00Z"
}

func (v rfc3339Validator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v rfc3339Validator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid instant",
			fmt.Sprintf("%q is not %s.", req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
