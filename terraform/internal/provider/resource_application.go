package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.Resource                   = (*applicationResource)(nil)
	_ resource.ResourceWithConfigure      = (*applicationResource)(nil)
	_ resource.ResourceWithImportState    = (*applicationResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*applicationResource)(nil)
	_ resource.ResourceWithValidateConfig = (*applicationResource)(nil)
)

// The server's enums (src/modules/applications/applications.types.ts).
var (
	applicationGrantTypes  = []string{"authorization_code", "refresh_token", "client_credentials"}
	applicationAuthMethods = []string{"client_secret_basic", "client_secret_post", "none"}
	applicationSigningAlgs = []string{"EdDSA", "ES256", "RS256"}
)

// NewApplicationResource is interim_application: an OIDC client (relying party).
func NewApplicationResource() resource.Resource { return &applicationResource{} }

type applicationResource struct {
	client *Client
}

type applicationModel struct {
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
	ClientSecret             types.String `tfsdk:"client_secret"`
	ClientSecretRotation     types.String `tfsdk:"client_secret_rotation"`
}

// applicationAPI is the application as the API returns it; ClientSecret only in the answers that issue one.
type applicationAPI struct {
	ID                       string   `json:"id"`
	ClientID                 string   `json:"client_id"`
	Name                     string   `json:"name"`
	Description              string   `json:"description"`
	RedirectURIs             []string `json:"redirect_uris"`
	PostLogoutRedirectURIs   []string `json:"post_logout_redirect_uris"`
	GrantTypes               []string `json:"grant_types"`
	TokenEndpointAuthMethod  string   `json:"token_endpoint_auth_method"`
	IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg"`
	AccessTokenTTLSecs       int64    `json:"access_token_ttl_secs"`
	IDTokenTTLSecs           int64    `json:"id_token_ttl_secs"`
	RefreshTokenTTLSecs      int64    `json:"refresh_token_ttl_secs"`
	FirstParty               bool     `json:"first_party"`
	BackchannelLogoutURI     *string  `json:"backchannel_logout_uri"`
	BackchannelLogoutSession bool     `json:"backchannel_logout_session_required"`
	ClientSecret             *string  `json:"client_secret,omitempty"`
}

// fromAPI copies what the server returns. The secret is only in the answers that issue one, so it
// is set when present and cleared when the client became public; otherwise the state keeps it.
func (m *applicationModel) fromAPI(a applicationAPI) {
	m.ID = types.StringValue(a.ID)
	m.ClientID = types.StringValue(a.ClientID)
	m.Name = types.StringValue(a.Name)
	m.Description = types.StringValue(a.Description)
	m.RedirectURIs = stringSet(a.RedirectURIs)
	m.PostLogoutRedirectURIs = stringSet(a.PostLogoutRedirectURIs)
	m.GrantTypes = stringSet(a.GrantTypes)
	m.TokenEndpointAuthMethod = types.StringValue(a.TokenEndpointAuthMethod)
	m.IDTokenSignedResponseAlg = types.StringValue(a.IDTokenSignedResponseAlg)
	m.AccessTokenTTLSecs = types.Int64Value(a.AccessTokenTTLSecs)
	m.IDTokenTTLSecs = types.Int64Value(a.IDTokenTTLSecs)
	m.RefreshTokenTTLSecs = types.Int64Value(a.RefreshTokenTTLSecs)
	m.FirstParty = types.BoolValue(a.FirstParty)
	m.BackchannelLogoutURI = types.StringPointerValue(a.BackchannelLogoutURI)
	m.BackchannelLogoutSession = types.BoolValue(a.BackchannelLogoutSession)
	switch {
	case a.ClientSecret != nil:
		m.ClientSecret = types.StringValue(*a.ClientSecret)
	case a.TokenEndpointAuthMethod == "none":
		m.ClientSecret = types.StringNull()
	case m.ClientSecret.IsUnknown():
		// A confidential client whose secret this state never saw (it was imported): unknown to OpenTofu.
		m.ClientSecret = types.StringNull()
	}
}

// body is the request body of a create or a PATCH: every setting, so the server matches the configuration.
func (m *applicationModel) body(ctx context.Context, diags *diag.Diagnostics) map[string]any {
	return map[string]any{
		"name":                         m.Name.ValueString(),
		"description":                  m.Description.ValueString(),
		"redirect_uris":                setStrings(ctx, m.RedirectURIs, diags),
		"post_logout_redirect_uris":    setStrings(ctx, m.PostLogoutRedirectURIs, diags),
		"grant_types":                  setStrings(ctx, m.GrantTypes, diags),
		"token_endpoint_auth_method":   m.TokenEndpointAuthMethod.ValueString(),
		"id_token_signed_response_alg": m.IDTokenSignedResponseAlg.ValueString(),
		"access_token_ttl_secs":        m.AccessTokenTTLSecs.ValueInt64(),
		"id_token_ttl_secs":            m.IDTokenTTLSecs.ValueInt64(),
		"refresh_token_ttl_secs":       m.RefreshTokenTTLSecs.ValueInt64(),
		"first_party":                  m.FirstParty.ValueBool(),
		// null removes the URI, so a configuration without it leaves the application without one.
		"backchannel_logout_uri":              m.BackchannelLogoutURI.ValueStringPointer(),
		"backchannel_logout_session_required": m.BackchannelLogoutSession.ValueBool(),
	}
}

// applicationFieldNames: the 409 for a taken name points at the name.
var applicationFieldNames = map[string]string{"application_name_taken": "name"}

func (r *applicationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_application"
}

func (r *applicationResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	redirectURIs := func(what string) schema.SetAttribute {
		return schema.SetAttribute{
			Description: what + " Each is an absolute https URL (http only on localhost, 127.0.0.1 or [::1]) without a fragment or credentials; at most 50. Defaults to none.",
			ElementType: types.StringType,
			Optional:    true,
			Computed:    true,
			Default:     setdefault.StaticValue(types.SetValueMust(types.StringType, []attr.Value{})),
			Validators: []validator.Set{
				setvalidator.SizeAtMost(50),
				setvalidator.ValueStringsAre(stringvalidator.LengthAtMost(2000), stringRule{description: "a redirect URI", problem: redirectURIProblem}),
			},
		}
	}
	secs := func(what string, def, lo, hi int64) schema.Int64Attribute {
		return schema.Int64Attribute{
			Description: what,
			Optional:    true,
			Computed:    true,
			Default:     int64default.StaticInt64(def),
			Validators:  []validator.Int64{int64validator.Between(lo, hi)},
		}
	}
	resp.Schema = schema.Schema{
		Description: "An application: an OpenID Connect client (relying party) of Interim. Its id is the OAuth client_id. " +
			"A confidential client's secret is issued once by the server; the provider keeps it in the state (sensitive) and rotates it when `client_secret_rotation` changes.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The application's id (a UUID).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"client_id": schema.StringAttribute{
				Description:   "The OAuth client_id: the same as `id`.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Description: "The application's name, unique among live applications (1 to 200 characters, no leading or trailing spaces).",
				Required:    true,
				Validators:  nameValidators(),
			},
			"description": schema.StringAttribute{
				Description: "What the application is (at most 2000 characters). Defaults to an empty string.",
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString(""),
				Validators:  []validator.String{stringvalidator.LengthAtMost(2000)},
			},
			"redirect_uris":             redirectURIs("The exact redirect URIs the client may use. At least one is required when `grant_types` includes authorization_code."),
			"post_logout_redirect_uris": redirectURIs("Where the end-session endpoint may send a user after logout."),
			"grant_types": schema.SetAttribute{
				Description: "OAuth grant types: authorization_code, refresh_token, client_credentials (at least one). Defaults to authorization_code and refresh_token.",
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default: setdefault.StaticValue(types.SetValueMust(types.StringType, []attr.Value{
					types.StringValue("authorization_code"), types.StringValue("refresh_token"),
				})),
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(stringvalidator.OneOf(applicationGrantTypes...))},
			},
			"token_endpoint_auth_method": schema.StringAttribute{
				Description: "How the client authenticates at the token endpoint: client_secret_basic (default), client_secret_post, or none (a public client, without a secret; it cannot use client_credentials).",
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString("client_secret_basic"),
				Validators:  []validator.String{stringvalidator.OneOf(applicationAuthMethods...)},
			},
			"id_token_signed_response_alg": schema.StringAttribute{
				Description: "The algorithm ID tokens (and JWT access tokens) for this client are signed with: EdDSA (default), ES256 or RS256.",
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString("EdDSA"),
				Validators:  []validator.String{stringvalidator.OneOf(applicationSigningAlgs...)},
			},
			"access_token_ttl_secs":  secs("Access token lifetime in seconds, 60 to 86400. Defaults to 3600.", 3600, 60, 86_400),
			"id_token_ttl_secs":      secs("ID token lifetime in seconds, 60 to 86400. Defaults to 3600.", 3600, 60, 86_400),
			"refresh_token_ttl_secs": secs("Refresh token lifetime in seconds, 300 to 31536000. Defaults to 1209600 (14 days).", 1_209_600, 300, 31_536_000),
			"first_party": schema.BoolAttribute{
				Description: "A first-party application skips the consent page. Defaults to false.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(false),
			},
			"backchannel_logout_uri": schema.StringAttribute{
				Description: "OpenID Connect Back-Channel Logout 1.0: where Interim POSTs a logout token (form-encoded `logout_token`, signed like the application's ID tokens) " +
					"whenever a session of this application ends: sign-out, disable, password change or reset, deletion, removal of admin rights, and revocation of access that gave this application claims. " +
					"An absolute https URL without a fragment or credentials, to a public host (plain http and private hosts only where the server sets INTERIM_OUTBOUND_ALLOW_PRIVATE). Unset: no logout tokens.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtMost(2000), stringRule{description: "a back-channel logout URI", problem: backchannelLogoutURIProblem}},
			},
			"backchannel_logout_session_required": schema.BoolAttribute{
				Description: "Every logout token carries the `sid` of the session that ended (and ID tokens carry `sid`), for an application that ends one session rather than every session of the user. Defaults to false.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(false),
			},
			"client_secret": schema.StringAttribute{
				Description: "The client secret of a confidential client (null for token_endpoint_auth_method none). Interim shows it only when it issues it " +
					"(on create, on a switch from none to a confidential method, on rotation), so the provider keeps it in the state: treat the state as secret. " +
					"An imported application's secret is unknown (null) until it is rotated.",
				Computed:  true,
				Sensitive: true,
			},
			"client_secret_rotation": schema.StringAttribute{
				Description: "Any value you choose, e.g. a date. Changing it (after the first apply) rotates the client secret: Interim issues a new one, the old one stops working at once, " +
					"and `client_secret` holds the new one. Setting it on an imported application rotates once, which is how an imported application's secret gets into the state. " +
					"A public client (none) has no secret, so there it changes nothing.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtMost(200)},
			},
		},
	}
}

// ValidateConfig checks the rules across attributes that the server checks, so plan fails first.
func (r *applicationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var config applicationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || config.GrantTypes.IsUnknown() || config.RedirectURIs.IsUnknown() || config.TokenEndpointAuthMethod.IsUnknown() {
		return
	}
	grants := map[string]bool{"authorization_code": true, "refresh_token": true} // the default
	if !config.GrantTypes.IsNull() {
		grants = map[string]bool{}
		for _, g := range setStrings(ctx, config.GrantTypes, &resp.Diagnostics) {
			grants[g] = true
		}
	}
	redirects := setStrings(ctx, config.RedirectURIs, &resp.Diagnostics)
	if grants["authorization_code"] && len(redirects) == 0 {
		resp.Diagnostics.AddAttributeError(path.Root("redirect_uris"), "Missing redirect URIs",
			"At least one redirect URI is required when grant_types includes authorization_code (the default).")
	}
	if config.TokenEndpointAuthMethod.ValueString() == "none" && grants["client_credentials"] {
		resp.Diagnostics.AddAttributeError(path.Root("grant_types"), "Invalid grant type for a public client",
			"client_credentials needs a confidential client; a public client (token_endpoint_auth_method none) cannot use it.")
	}
}

// ModifyPlan says when client_secret changes: a new one is issued on create, on a rotation and on
// a switch from a public to a confidential client; a public client has none; otherwise it stays.
func (r *applicationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan applicationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	secret := types.StringUnknown()
	if !req.State.Raw.IsNull() {
		var state applicationModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		rotates := !plan.ClientSecretRotation.IsNull() && !plan.ClientSecretRotation.Equal(state.ClientSecretRotation)
		becomesConfidential := state.TokenEndpointAuthMethod.ValueString() == "none" && plan.TokenEndpointAuthMethod.ValueString() != "none"
		if !rotates && !becomesConfidential && !plan.TokenEndpointAuthMethod.IsUnknown() {
			secret = state.ClientSecret
		}
	}
	if plan.TokenEndpointAuthMethod.ValueString() == "none" && !plan.TokenEndpointAuthMethod.IsUnknown() {
		secret = types.StringNull()
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("client_secret"), secret)...)
}

func (r *applicationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *applicationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan applicationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := plan.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var created applicationAPI
	if err := r.client.Post(ctx, "/api/v1/applications", body, &created); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not create the application", err, resp.State.Schema, applicationFieldNames)...)
		return
	}
	plan.fromAPI(created)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *applicationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state applicationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found applicationAPI
	if !readFromAPI(ctx, r.client, "/api/v1/applications/"+PathEscape(state.ID.ValueString()), &found, resp, "the application", nil) {
		return
	}
	state.fromAPI(found)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *applicationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state applicationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := plan.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	id := PathEscape(state.ID.ValueString())
	var updated applicationAPI
	if err := r.client.Patch(ctx, "/api/v1/applications/"+id, body, &updated); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not update the application", err, resp.State.Schema, applicationFieldNames)...)
		return
	}
	issued := updated.ClientSecret != nil
	plan.ClientSecret = state.ClientSecret
	plan.fromAPI(updated)
	rotates := !plan.ClientSecretRotation.IsNull() && !plan.ClientSecretRotation.Equal(state.ClientSecretRotation)
	if rotates && !issued && updated.TokenEndpointAuthMethod != "none" {
		var rotated applicationAPI
		if err := r.client.Post(ctx, "/api/v1/applications/"+id+"/client-secret", nil, &rotated); err != nil {
			// The settings did change: keep them, with the rotation value of before, so the next apply retries the rotation.
			plan.ClientSecretRotation = state.ClientSecretRotation
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not rotate the client secret", err, resp.State.Schema, nil)...)
			return
		}
		plan.fromAPI(rotated)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *applicationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state applicationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.Delete(ctx, "/api/v1/applications/"+PathEscape(state.ID.ValueString()))
	if err != nil && !IsNotFound(err) {
		// A 409 (a template still grants one of its mappings) arrives with the server's own message.
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not delete the application", err, resp.State.Schema, nil)...)
	}
}

func (r *applicationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
