package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// readFromAPI is a resource's Read fetch: GET path into out. A 404 means the object was
// deleted (or, for a membership, ended) outside OpenTofu: the resource leaves the state, so
// the next plan creates it again. Any other error becomes a diagnostic, its fields renamed
// to attributes by fields. It reports whether out was filled.
func readFromAPI(ctx context.Context, c *Client, path string, out any, resp *resource.ReadResponse, what string, fields map[string]string) bool {
	err := c.Get(ctx, path, out)
	if IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return false
	}
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not read "+what, err, resp.State.Schema, fields)...)
		return false
	}
	return true
}
