// Package provider implements the Interim provider: resources and data sources over Interim's
// public REST API (/api/v1), configured with an endpoint and an admin's API token.
package provider

import (
	"context"
	"errors"
	"net/http"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The environment variables that stand in for the provider's attributes.
const (
	EnvEndpoint = "INTERIM_ENDPOINT"
	EnvToken    = "INTERIM_TOKEN"
)

var _ provider.Provider = (*interimProvider)(nil)

type interimProvider struct {
	version string
}

type providerModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
	Token    types.String `tfsdk:"token"`
}

// New returns the provider's constructor for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &interimProvider{version: version} }
}

func (p *interimProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "interim"
	resp.Version = p.version
}

func (p *interimProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Manages an Interim identity provider (groups, users, applications, access request templates, scripts, event actions) through its REST API. " +
			"Needs an admin's API token.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Description: "Interim's public URL (its INTERIM_BASE_URL), e.g. https://id.example.com. Defaults to the INTERIM_ENDPOINT environment variable.",
				Optional:    true,
			},
			"token": schema.StringAttribute{
				Description: "An API token of an admin user (create one in the portal under API tokens, or POST /api/v1/api-tokens). Defaults to the INTERIM_TOKEN environment variable.",
				Optional:    true,
				Sensitive:   true,
			},
		},
	}
}

// Configure builds the API client and checks the server once, so a wrong endpoint or token is one
// clear diagnostic at plan time instead of one failure per resource.
func (p *interimProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var config providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	endpoint := settingOrEnv(config.Endpoint, EnvEndpoint, "endpoint", &resp.Diagnostics)
	token := settingOrEnv(config.Token, EnvToken, "token", &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	client, err := NewClient(endpoint, token, "terraform-provider-interim/"+p.version)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid Interim endpoint", err.Error())
		return
	}
	if summary, detail, where := checkAdminToken(ctx, client); summary != "" {
		resp.Diagnostics.AddAttributeError(path.Root(where), summary, detail)
		return
	}
	resp.DataSourceData = client
	resp.ResourceData = client
}

// settingOrEnv is the attribute's value, else the environment variable's; it reports a missing
// or not-yet-known value as an error on that attribute.
func settingOrEnv(value types.String, env, attribute string, diags *diag.Diagnostics) string {
	if value.IsUnknown() {
		diags.AddAttributeError(path.Root(attribute), "Interim "+attribute+" is not known yet",
			"The provider's "+attribute+" depends on a value known only after apply; set it to a literal, a variable or the "+env+" environment variable.")
		return ""
	}
	if !value.IsNull() && value.ValueString() != "" {
		return value.ValueString()
	}
	if fromEnv := os.Getenv(env); fromEnv != "" {
		return fromEnv
	}
	diags.AddAttributeError(path.Root(attribute), "Missing Interim "+attribute,
		"Set the provider's "+attribute+" attribute or the "+env+" environment variable.")
	return ""
}

type sessionOut struct {
	User struct {
		Email   string `json:"email"`
		IsAdmin bool   `json:"is_admin"`
	} `json:"user"`
}

// checkAdminToken asks the server who the token belongs to. It returns an empty summary when the
// server answers and the token is an admin's; otherwise the one diagnostic to show, and the attribute it concerns.
func checkAdminToken(ctx context.Context, client *Client) (summary, detail, attribute string) {
	var session sessionOut
	err := client.Get(ctx, "/api/v1/session", &session)
	var unreachable *UnreachableError
	var apiErr *APIError
	switch {
	case err == nil && !session.User.IsAdmin:
		return "Interim API token is not an admin's",
			"The token belongs to " + session.User.Email + ", who is not an admin. The provider manages configuration, which only admins may change; use an admin's API token.",
			"token"
	case err == nil:
		return "", "", ""
	case errors.As(err, &unreachable):
		return "Cannot reach the Interim server", errorDetail(err), "endpoint"
	case errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden):
		return "Interim rejected the API token", errorDetail(err), "token"
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		return "The endpoint is not an Interim server",
			"GET " + client.Endpoint() + "/api/v1/session answered 404. Set the endpoint to Interim's public URL (INTERIM_BASE_URL), without a path.",
			"endpoint"
	default:
		return "Interim did not accept the provider's check", errorDetail(err), "endpoint"
	}
}

func (p *interimProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewGroupResource,
		NewGroupMembershipResource,
		NewUserResource,
		NewApplicationResource,
		NewAppMappingResource,
		NewScriptResource,
		NewScriptSecretResource,
		NewEventActionResource,
		NewAccessRequestTemplateResource,
	}
}

func (p *interimProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewGroupDataSource,
		NewUserDataSource,
		NewOpenIDConfigurationDataSource,
		NewApplicationDataSource,
	}
}

// clientFromProviderData is what every resource and data source calls in Configure: the client the
// provider built, or nil before the provider is configured (OpenTofu validates configuration first).
func clientFromProviderData(data any, diags *diag.Diagnostics) *Client {
	if data == nil {
		return nil
	}
	client, ok := data.(*Client)
	if !ok {
		diags.AddError("Unexpected provider data", "Expected *provider.Client; this is a bug in the provider.")
		return nil
	}
	return client
}
