package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.Resource                = (*userResource)(nil)
	_ resource.ResourceWithConfigure   = (*userResource)(nil)
	_ resource.ResourceWithImportState = (*userResource)(nil)
)

// NewUserResource is interim_user: a person (or service account) who signs in to Interim.
func NewUserResource() resource.Resource { return &userResource{} }

type userResource struct {
	client *Client
}

type userModel struct {
	ID              types.String `tfsdk:"id"`
	Email           types.String `tfsdk:"email"`
	Name            types.String `tfsdk:"name"`
	IsAdmin         types.Bool   `tfsdk:"is_admin"`
	Disabled        types.Bool   `tfsdk:"disabled"`
	InitialPassword types.String `tfsdk:"initial_password"`
}

// userAPI is the user as GET/POST/PATCH /api/v1/users return it.
type userAPI struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	IsAdmin  bool   `json:"is_admin"`
	Disabled bool   `json:"disabled"`
}

// The API's rules, checked at plan time: emails are stored in lower case, passwords have a minimum length.
var (
	emailPattern      = regexp.MustCompile(`^[^\sA-Z@]+@[^\sA-Z@]+\.[^\sA-Z@]+$`)
	minPasswordLength = 12
	userFields        = map[string]string{"password": "initial_password", "email_taken": "email"}
)

func (m *userModel) fromAPI(u userAPI) {
	m.ID = types.StringValue(u.ID)
	m.Email = types.StringValue(u.Email)
	m.Name = types.StringValue(u.Name)
	m.IsAdmin = types.BoolValue(u.IsAdmin)
	m.Disabled = types.BoolValue(u.Disabled)
	// Write-only: never kept in the state.
	m.InitialPassword = types.StringNull()
}

func (r *userResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_user"
}

func (r *userResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A user of Interim. Disabling a user, removing their admin flag or deleting them ends their sessions, API tokens and OIDC grants. " +
			"Interim refuses (409) to demote, disable or delete the last active admin.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The user's id (a UUID).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"email": schema.StringAttribute{
				Description: "The user's email address, unique in Interim, in lower case (Interim stores emails in lower case).",
				Required:    true,
				Validators: []validator.String{
					stringvalidator.LengthAtMost(320),
					stringvalidator.RegexMatches(emailPattern, "must be an email address in lower case"),
				},
			},
			"name": schema.StringAttribute{
				Description: "The user's display name (1 to 200 characters, no leading or trailing spaces).",
				Required:    true,
				Validators:  nameValidators(),
			},
			"is_admin": schema.BoolAttribute{
				Description: "Whether the user is an admin, who manages all of Interim. Defaults to false.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(false),
			},
			"disabled": schema.BoolAttribute{
				Description: "Whether the user is disabled: they cannot sign in, and their grants are revoked and open requests withdrawn. Defaults to false.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(false),
			},
			"initial_password": schema.StringAttribute{
				Description: "A password set when the user is created, which they must change at their first sign-in (at least 12 characters). " +
					"Write-only: it is sent once, never stored in the state, and changing it later has no effect. Without it the user has no password " +
					"until an admin sets one. Needs OpenTofu 1.11 or Terraform 1.11 or later.",
				Optional:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{stringvalidator.LengthBetween(minPasswordLength, 1024)},
			},
		},
	}
}

func (r *userResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *userResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config userModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// A write-only value is only in the configuration, never in the plan.
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{"email": plan.Email.ValueString(), "name": plan.Name.ValueString(), "is_admin": plan.IsAdmin.ValueBool()}
	if !config.InitialPassword.IsNull() && !config.InitialPassword.IsUnknown() {
		body["password"] = config.InitialPassword.ValueString()
	}
	var user userAPI
	if err := r.client.Post(ctx, "/api/v1/users", body, &user); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not create the user", err, resp.State.Schema, userFields)...)
		return
	}
	if plan.Disabled.ValueBool() {
		// The API creates users enabled; disabling is a change of its own.
		if err := r.client.Patch(ctx, "/api/v1/users/"+PathEscape(user.ID), map[string]any{"disabled": true}, &user); err != nil {
			// The user exists: keep it in the state so the next apply retries the change, not the creation.
			plan.fromAPI(user)
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Created the user but could not disable it", err, resp.State.Schema, userFields)...)
			return
		}
	}
	plan.fromAPI(user)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *userResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state userModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var user userAPI
	if !readFromAPI(ctx, r.client, "/api/v1/users/"+PathEscape(state.ID.ValueString()), &user, resp, "the user", nil) {
		return
	}
	state.fromAPI(user)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update sends only what changed: on the server, even a repeated `disabled = true` ends the user's access again.
func (r *userResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state userModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{}
	if !plan.Email.Equal(state.Email) {
		body["email"] = plan.Email.ValueString()
	}
	if !plan.Name.Equal(state.Name) {
		body["name"] = plan.Name.ValueString()
	}
	if !plan.IsAdmin.Equal(state.IsAdmin) {
		body["is_admin"] = plan.IsAdmin.ValueBool()
	}
	if !plan.Disabled.Equal(state.Disabled) {
		body["disabled"] = plan.Disabled.ValueBool()
	}
	var user userAPI
	if err := r.client.Patch(ctx, "/api/v1/users/"+PathEscape(state.ID.ValueString()), body, &user); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not update the user", err, resp.State.Schema, userFields)...)
		return
	}
	plan.fromAPI(user)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *userResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state userModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.Delete(ctx, "/api/v1/users/"+PathEscape(state.ID.ValueString()))
	if err != nil && !IsNotFound(err) {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not delete the user", err, resp.State.Schema, nil)...)
	}
}

func (r *userResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
