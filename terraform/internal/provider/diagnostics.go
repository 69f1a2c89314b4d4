package provider

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// attributeSchema is what resource and data source schemas share: a type for each attribute path.
// The error mapping uses it to tell whether a field the server names is one of the attributes.
type attributeSchema interface {
	TypeAtPath(ctx context.Context, p path.Path) (attr.Type, diag.Diagnostics)
}

// apiErrorDiagnostics turns an API error into diagnostics. When the server names the fields it
// rejects (a 400 problem with `errors`), each becomes an attribute error on that attribute, so
// OpenTofu points at the offending line; `renames` maps API field names that differ from the
// attribute names, and problem codes that concern one attribute (e.g. "group_name_taken" → "name").
// Anything else (409 with the server's message, 403, 5xx, no answer) becomes one error whose
// detail is the server's own message.
func apiErrorDiagnostics(ctx context.Context, summary string, err error, schema attributeSchema, renames map[string]string) diag.Diagnostics {
	var diags diag.Diagnostics
	var apiErr *APIError
	if errors.As(err, &apiErr) && len(apiErr.Errors) > 0 {
		for _, fieldErr := range apiErr.Errors {
			if p, ok := attributePath(ctx, fieldErr.Field, schema, renames); ok {
				diags.AddAttributeError(p, summary, "Interim rejected this value: "+fieldErr.Message)
			} else {
				diags.AddError(summary, "Interim rejected "+fieldErr.Field+": "+fieldErr.Message)
			}
		}
		return diags
	}
	if apiErr != nil {
		if field, ok := renames[apiErr.Code]; ok {
			if p, ok := attributePath(ctx, field, schema, nil); ok {
				diags.AddAttributeError(p, summary, errorDetail(err))
				return diags
			}
		}
	}
	diags.AddError(summary, errorDetail(err))
	return diags
}

// errorDetail is the message a person reads: the server's own words and what to do about them.
func errorDetail(err error) string {
	var apiErr *APIError
	var unreachable *UnreachableError
	switch {
	case errors.As(err, &unreachable):
		return unreachable.Error() + ". Check the provider's endpoint (or INTERIM_ENDPOINT) and that the server is running."
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return "Interim rejected the API token (" + apiErr.Detail + "). It may have expired or been revoked; check the provider's token (or INTERIM_TOKEN)."
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden:
		return "Interim refused: " + apiErr.Detail + ". The provider needs an admin's API token."
	case errors.As(err, &apiErr):
		return "Interim answered " + strconv.Itoa(apiErr.Status) + " " + http.StatusText(apiErr.Status) + ": " + apiErr.Detail + " (" + apiErr.Method + " " + apiErr.Path + ")"
	default:
		return err.Error()
	}
}

// attributePath converts a field the server names ("name", "custom_fields.0.key") into the
// longest attribute path the schema has: list indexes stay, a set element or unknown part is cut.
func attributePath(ctx context.Context, field string, schema attributeSchema, renames map[string]string) (path.Path, bool) {
	if renamed, ok := renames[field]; ok {
		field = renamed
	}
	parts := strings.Split(field, ".")
	if len(parts) == 0 || parts[0] == "" {
		return path.Empty(), false
	}
	best := path.Root(parts[0])
	if _, d := schema.TypeAtPath(ctx, best); d.HasError() {
		return path.Empty(), false
	}
	for _, part := range parts[1:] {
		var next path.Path
		if index, err := strconv.Atoi(part); err == nil {
			next = best.AtListIndex(index)
		} else {
			next = best.AtName(part)
		}
		if _, d := schema.TypeAtPath(ctx, next); d.HasError() {
			break
		}
		best = next
	}
	return best, true
}
