package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*openIDConfigurationDataSource)(nil)

// NewOpenIDConfigurationDataSource is data.interim_openid_configuration: Interim's OIDC discovery
// document, so relying parties configured in the same code get the issuer and endpoints.
func NewOpenIDConfigurationDataSource() datasource.DataSource {
	return &openIDConfigurationDataSource{}
}

type openIDConfigurationDataSource struct {
	client *Client
}

type openIDConfigurationModel struct {
	Issuer                      types.String `tfsdk:"issuer"`
	DiscoveryURL                types.String `tfsdk:"discovery_url"`
	AuthorizationEndpoint       types.String `tfsdk:"authorization_endpoint"`
	TokenEndpoint               types.String `tfsdk:"token_endpoint"`
	UserinfoEndpoint            types.String `tfsdk:"userinfo_endpoint"`
	JwksURI                     types.String `tfsdk:"jwks_uri"`
	EndSessionEndpoint          types.String `tfsdk:"end_session_endpoint"`
	IntrospectionEndpoint       types.String `tfsdk:"introspection_endpoint"`
	RevocationEndpoint          types.String `tfsdk:"revocation_endpoint"`
	PushedAuthorizationEndpoint types.String `tfsdk:"pushed_authorization_request_endpoint"`
	ScopesSupported             types.List   `tfsdk:"scopes_supported"`
	GrantTypesSupported         types.List   `tfsdk:"grant_types_supported"`
	IDTokenSigningAlgsSupported types.List   `tfsdk:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethods    types.List   `tfsdk:"token_endpoint_auth_methods_supported"`
}

// discoveryDocument is the part of /oidc/.well-known/openid-configuration the data source exposes.
type discoveryDocument struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	UserinfoEndpoint            string   `json:"userinfo_endpoint"`
	JwksURI                     string   `json:"jwks_uri"`
	EndSessionEndpoint          string   `json:"end_session_endpoint"`
	IntrospectionEndpoint       string   `json:"introspection_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	PushedAuthorizationEndpoint string   `json:"pushed_authorization_request_endpoint"`
	ScopesSupported             []string `json:"scopes_supported"`
	GrantTypesSupported         []string `json:"grant_types_supported"`
	IDTokenSigningAlgsSupported []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethods    []string `json:"token_endpoint_auth_methods_supported"`
}

// discoveryPath is where Interim publishes its OIDC discovery document (the issuer is <endpoint>/oidc).
const discoveryPath = "/oidc/.well-known/openid-configuration"

func (d *openIDConfigurationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_openid_configuration"
}

func (d *openIDConfigurationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	endpoint := func(what string) schema.StringAttribute {
		return schema.StringAttribute{Description: what, Computed: true}
	}
	list := func(what string) schema.ListAttribute {
		return schema.ListAttribute{Description: what, Computed: true, ElementType: types.StringType}
	}
	resp.Schema = schema.Schema{
		Description: "Interim's OpenID Connect discovery document (`/oidc/.well-known/openid-configuration`): the issuer and endpoints " +
			"a relying party needs, read from the server the provider is configured with.",
		Attributes: map[string]schema.Attribute{
			"issuer":                                endpoint("The issuer identifier, `<endpoint>/oidc`; the `iss` of every token."),
			"discovery_url":                         endpoint("The URL of the discovery document itself, for relying parties that discover on their own."),
			"authorization_endpoint":                endpoint("The authorization endpoint, where a relying party sends the user to sign in."),
			"token_endpoint":                        endpoint("The token endpoint, where codes, refresh tokens and client credentials become tokens."),
			"userinfo_endpoint":                     endpoint("The userinfo endpoint."),
			"jwks_uri":                              endpoint("The URL of the JSON Web Key Set that signs ID and access tokens."),
			"end_session_endpoint":                  endpoint("The end-session (RP-initiated logout) endpoint."),
			"introspection_endpoint":                endpoint("The token introspection endpoint (RFC 7662)."),
			"revocation_endpoint":                   endpoint("The token revocation endpoint (RFC 7009)."),
			"pushed_authorization_request_endpoint": endpoint("The pushed authorization request endpoint (RFC 9126)."),
			"scopes_supported":                      list("The scopes Interim supports."),
			"grant_types_supported":                 list("The OAuth grant types Interim supports."),
			"id_token_signing_alg_values_supported": list("The algorithms Interim can sign ID tokens with."),
			"token_endpoint_auth_methods_supported": list("The ways a client may authenticate at the token endpoint."),
		},
	}
}

func (d *openIDConfigurationDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (d *openIDConfigurationDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	var doc discoveryDocument
	if err := d.client.Get(ctx, discoveryPath, &doc); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not read Interim's OpenID configuration", err, resp.State.Schema, nil)...)
		return
	}
	stringList := func(values []string) types.List {
		list, diags := types.ListValueFrom(ctx, types.StringType, values)
		resp.Diagnostics.Append(diags...)
		return list
	}
	state := openIDConfigurationModel{
		Issuer:                      types.StringValue(doc.Issuer),
		DiscoveryURL:                types.StringValue(d.client.Endpoint() + discoveryPath),
		AuthorizationEndpoint:       types.StringValue(doc.AuthorizationEndpoint),
		TokenEndpoint:               types.StringValue(doc.TokenEndpoint),
		UserinfoEndpoint:            types.StringValue(doc.UserinfoEndpoint),
		JwksURI:                     types.StringValue(doc.JwksURI),
		EndSessionEndpoint:          types.StringValue(doc.EndSessionEndpoint),
		IntrospectionEndpoint:       types.StringValue(doc.IntrospectionEndpoint),
		RevocationEndpoint:          types.StringValue(doc.RevocationEndpoint),
		PushedAuthorizationEndpoint: types.StringValue(doc.PushedAuthorizationEndpoint),
		ScopesSupported:             stringList(doc.ScopesSupported),
		GrantTypesSupported:         stringList(doc.GrantTypesSupported),
		IDTokenSigningAlgsSupported: stringList(doc.IDTokenSigningAlgsSupported),
		TokenEndpointAuthMethods:    stringList(doc.TokenEndpointAuthMethods),
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}
