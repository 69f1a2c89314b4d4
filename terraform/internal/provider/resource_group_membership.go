package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.Resource                = (*groupMembershipResource)(nil)
	_ resource.ResourceWithConfigure   = (*groupMembershipResource)(nil)
	_ resource.ResourceWithImportState = (*groupMembershipResource)(nil)
)

// NewGroupMembershipResource is interim_group_membership: one user in one group, optionally until a given time.
func NewGroupMembershipResource() resource.Resource { return &groupMembershipResource{} }

type groupMembershipResource struct {
	client *Client
}

type groupMembershipModel struct {
	ID        types.String `tfsdk:"id"`
	GroupID   types.String `tfsdk:"group_id"`
	UserID    types.String `tfsdk:"user_id"`
	ExpiresAt types.String `tfsdk:"expires_at"`
}

// memberAPI is a membership as GET/PUT /api/v1/groups/:id/members/:user_id return it.
type memberAPI struct {
	UserID    string  `json:"user_id"`
	ExpiresAt *string `json:"expires_at"`
}

func membershipPath(groupID, userID string) string {
	return "/api/v1/groups/" + PathEscape(groupID) + "/members/" + PathEscape(userID)
}

func (m *groupMembershipModel) fromAPI(groupID string, member memberAPI) {
	m.ID = types.StringValue(groupID + "/" + member.UserID)
	m.GroupID = types.StringValue(groupID)
	m.UserID = types.StringValue(member.UserID)
	m.ExpiresAt = instantValue(m.ExpiresAt, member.ExpiresAt)
}

func (r *groupMembershipResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_group_membership"
}

func (r *groupMembershipResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A user's membership of a group, permanent or until `expires_at`. Once it expires Interim no longer counts it, " +
			"and the next plan proposes to create it again (with a new `expires_at`, as the old one is in the past).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The membership's id: `<group_id>/<user_id>`, which is also what `import` takes.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"group_id": schema.StringAttribute{
				Description:   "The group's id. Changing it moves the membership (replaces it).",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"user_id": schema.StringAttribute{
				Description:   "The user's id. Changing it replaces the membership.",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"expires_at": schema.StringAttribute{
				Description: "When the membership ends, as an RFC 3339 instant (e.g. 2030-01-31T17:00:00Z); it must be in the future when applied. " +
					"Leave it out for a membership that never ends. Changing it updates the membership in place.",
				Optional:   true,
				Validators: []validator.String{rfc3339Validator{}},
			},
		},
	}
}

func (r *groupMembershipResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

// put adds the member or sets the expiry (PUT is idempotent on the server) and fills plan from the answer.
func (r *groupMembershipResource) put(ctx context.Context, plan *groupMembershipModel, summary string, schema attributeSchema) diag.Diagnostics {
	body := map[string]any{"expires_at": nil}
	if !plan.ExpiresAt.IsNull() {
		body["expires_at"] = plan.ExpiresAt.ValueString()
	}
	var member memberAPI
	if err := r.client.Put(ctx, membershipPath(plan.GroupID.ValueString(), plan.UserID.ValueString()), body, &member); err != nil {
		return apiErrorDiagnostics(ctx, summary, err, schema, nil)
	}
	plan.fromAPI(plan.GroupID.ValueString(), member)
	return nil
}

func (r *groupMembershipResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan groupMembershipModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(r.put(ctx, &plan, "Could not add the group member", resp.State.Schema)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *groupMembershipResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state groupMembershipModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var member memberAPI
	if !readFromAPI(ctx, r.client, membershipPath(state.GroupID.ValueString(), state.UserID.ValueString()), &member, resp, "the group membership", nil) {
		return
	}
	state.fromAPI(state.GroupID.ValueString(), member)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *groupMembershipResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan groupMembershipModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(r.put(ctx, &plan, "Could not change the group membership", resp.State.Schema)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *groupMembershipResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state groupMembershipModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.Delete(ctx, membershipPath(state.GroupID.ValueString(), state.UserID.ValueString()))
	if err != nil && !IsNotFound(err) {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not remove the group member", err, resp.State.Schema, nil)...)
	}
}

// ImportState takes `<group_id>/<user_id>`; Read then fills in expires_at.
func (r *groupMembershipResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	groupID, userID, ok := strings.Cut(req.ID, "/")
	if !ok || groupID == "" || userID == "" || strings.Contains(userID, "/") {
		resp.Diagnostics.AddError("Invalid import id", "Import a group membership as <group_id>/<user_id>, got "+req.ID+".")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("group_id"), groupID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("user_id"), userID)...)
}
