package provider

import (
	"context"
	"net/url"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ datasource.DataSource              = (*applicationDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*applicationDataSource)(nil)
)

// NewApplicationDataSource is the interim_application data source: one application found by its name.
func NewApplicationDataSource() datasource.DataSource { return &applicationDataSource{} }

type applicationDataSource struct {
	client *Client
}

// The data source shows every setting of the resource but the secret (never readable) and the rotation trigger.
type applicationDataModel struct {
	ID                       types.String `tfsdk:"id"`
	ClientID                 types.String `tfsdk:"client_id"`
	Name                     types.String `tfsdk:"name"`
	Description              types.String `tfsdk:"description"`
	RedirectURIs             types.Set    `tfsdk:"redirect_uris"`
	PostLogoutRedirectURIs   types.Set    `tfsdk:"post_logout_redirect_uris"`
	GrantTypes               types.Set    `tfsdk:"grant_types"`
	TokenEndpointAuthMethod  types.String `tfsdk:"token_endpoint_auth_method"`
	IDTokenSignedResponseAlg types.String `tfsdk:"id_token_signed_response_alg"`
	AccessTokenTTLSecs       types.Int64  `tfsdk:"access_token_ttl_secs"`
	IDTokenTTLSecs           types.Int64  `tfsdk:"id_token_ttl_secs"`
	RefreshTokenTTLSecs      types.Int64  `tfsdk:"refresh_token_ttl_secs"`
	FirstParty               types.Bool   `tfsdk:"first_party"`
	BackchannelLogoutURI     types.String `tfsdk:"backchannel_logout_uri"`
	BackchannelLogoutSession types.Bool   `tfsdk:"backchannel_logout_session_required"`
}

func (d *applicationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_application"
}

func (d *applicationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computedString := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Description: description, Computed: true}
	}
	computedSet := func(description string) schema.SetAttribute {
		return schema.SetAttribute{Description: description, ElementType: types.StringType, Computed: true}
	}
	computedInt := func(description string) schema.Int64Attribute {
		return schema.Int64Attribute{Description: description, Computed: true}
	}
	resp.Schema = schema.Schema{
		Description: "Finds one application (OIDC client) by its name, e.g. to give an application made elsewhere a mapping. " +
			"The name must match exactly one live application, ignoring case; the client secret is never readable.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Description: "The application's name, compared ignoring case.",
				Required:    true,
				Validators: []validator.String{stringRule{description: "a name", problem: func(s string) string {
					if strings.TrimSpace(s) == "" || len(s) > 200 {
						return "must be 1 to 200 characters"
					}
					return ""
				}}},
			},
			"id":                           computedString("The application's id (a UUID)."),
			"client_id":                    computedString("The OAuth client_id: the same as `id`."),
			"description":                  computedString("What the application is."),
			"redirect_uris":                computedSet("The exact redirect URIs the client may use."),
			"post_logout_redirect_uris":    computedSet("Where the end-session endpoint may send a user after logout."),
			"grant_types":                  computedSet("The OAuth grant types the client may use."),
			"token_endpoint_auth_method":   computedString("How the client authenticates at the token endpoint (none for a public client)."),
			"id_token_signed_response_alg": computedString("The algorithm its ID tokens are signed with."),
			"access_token_ttl_secs":        computedInt("Access token lifetime in seconds."),
			"id_token_ttl_secs":            computedInt("ID token lifetime in seconds."),
			"refresh_token_ttl_secs":       computedInt("Refresh token lifetime in seconds."),
			"first_party": schema.BoolAttribute{
				Description: "Whether the application skips the consent page.",
				Computed:    true,
			},
			"backchannel_logout_uri": computedString("Where Interim POSTs back-channel logout tokens for this application (null: none)."),
			"backchannel_logout_session_required": schema.BoolAttribute{
				Description: "Whether every logout token carries the `sid` of the session that ended.",
				Computed:    true,
			},
		},
	}
}

func (d *applicationDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

type applicationPage struct {
	Items      []applicationAPI `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

func (d *applicationDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config applicationDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	wanted := strings.TrimSpace(config.Name.ValueString())
	// The API's name filter matches a part of the name; page through it and keep the exact matches.
	var matches []applicationAPI
	query := url.Values{"name": {wanted}, "limit": {"200"}}
	for {
		var page applicationPage
		if err := d.client.Get(ctx, "/api/v1/applications?"+query.Encode(), &page); err != nil {
			resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not look up the application", err, resp.State.Schema, nil)...)
			return
		}
		for _, app := range page.Items {
			if strings.EqualFold(app.Name, wanted) {
				matches = append(matches, app)
			}
		}
		if page.NextCursor == nil {
			break
		}
		query.Set("cursor", *page.NextCursor)
	}
	switch len(matches) {
	case 0:
		resp.Diagnostics.AddAttributeError(path.Root("name"), "No such application", "No live application is named "+quote(wanted)+" (ignoring case).")
		return
	case 1:
	default:
		names := make([]string, 0, len(matches))
		for _, m := range matches {
			names = append(names, quote(m.Name)+" ("+m.ID+")")
		}
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Several applications match",
			"Ignoring case, "+quote(wanted)+" names "+strings.Join(names, ", ")+"; rename one or use the interim_application resource's id.")
		return
	}
	a := matches[0]
	state := applicationDataModel{
		ID:                       types.StringValue(a.ID),
		ClientID:                 types.StringValue(a.ClientID),
		Name:                     types.StringValue(a.Name),
		Description:              types.StringValue(a.Description),
		RedirectURIs:             stringSet(a.RedirectURIs),
		PostLogoutRedirectURIs:   stringSet(a.PostLogoutRedirectURIs),
		GrantTypes:               stringSet(a.GrantTypes),
		TokenEndpointAuthMethod:  types.StringValue(a.TokenEndpointAuthMethod),
		IDTokenSignedResponseAlg: types.StringValue(a.IDTokenSignedResponseAlg),
		AccessTokenTTLSecs:       types.Int64Value(a.AccessTokenTTLSecs),
		IDTokenTTLSecs:           types.Int64Value(a.IDTokenTTLSecs),
		RefreshTokenTTLSecs:      types.Int64Value(a.RefreshTokenTTLSecs),
		FirstParty:               types.BoolValue(a.FirstParty),
		BackchannelLogoutURI:     types.StringPointerValue(a.BackchannelLogoutURI),
		BackchannelLogoutSession: types.BoolValue(a.BackchannelLogoutSession),
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}
