package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.Resource                = (*groupResource)(nil)
	_ resource.ResourceWithConfigure   = (*groupResource)(nil)
	_ resource.ResourceWithImportState = (*groupResource)(nil)
)

// NewGroupResource is interim_group: a group of users that templates, mappings and approvals refer to.
func NewGroupResource() resource.Resource { return &groupResource{} }

type groupResource struct {
	client *Client
}

type groupModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Description types.String `tfsdk:"description"`
}

// groupAPI is the group as GET/POST/PATCH /api/v1/groups return it.
type groupAPI struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// groupFields: the API's problem code for a duplicate name concerns the name attribute.
var groupFields = map[string]string{"group_name_taken": "name"}

func (m *groupModel) fromAPI(g groupAPI) {
	m.ID = types.StringValue(g.ID)
	m.Name = types.StringValue(g.Name)
	m.Description = types.StringValue(g.Description)
}

func (r *groupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_group"
}

func (r *groupResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A group of users. Templates name groups as approvers and escalation targets, application mappings give their claims to a group's members.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The group's id (a UUID).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Description: "The group's name, unique in Interim (1 to 200 characters, no leading or trailing spaces).",
				Required:    true,
				Validators:  nameValidators(),
			},
			"description": schema.StringAttribute{
				Description: "What the group is for (at most 2000 characters). Defaults to an empty string.",
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString(""),
				Validators:  []validator.String{stringvalidator.LengthAtMost(2000)},
			},
		},
	}
}

// nameValidators mirror the API's `name` rule: the server trims it, so spaces around it would come back changed.
func nameValidators() []validator.String {
	return []validator.String{
		stringvalidator.LengthBetween(1, 200),
		stringvalidator.RegexMatches(regexp.MustCompile(`^\S(.*\S)?$`), "must not start or end with white space"),
	}
}

func (r *groupResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *groupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan groupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{"name": plan.Name.ValueString(), "description": plan.Description.ValueString()}
	var created groupAPI
	if err := r.client.Post(ctx, "/api/v1/groups", body, &created); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not create the group", err, resp.State.Schema, groupFields)...)
		return
	}
	plan.fromAPI(created)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *groupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state groupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found groupAPI
	if !readFromAPI(ctx, r.client, "/api/v1/groups/"+PathEscape(state.ID.ValueString()), &found, resp, "the group", nil) {
		return
	}
	state.fromAPI(found)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *groupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan groupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{"name": plan.Name.ValueString(), "description": plan.Description.ValueString()}
	var updated groupAPI
	if err := r.client.Patch(ctx, "/api/v1/groups/"+PathEscape(plan.ID.ValueString()), body, &updated); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not update the group", err, resp.State.Schema, groupFields)...)
		return
	}
	plan.fromAPI(updated)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *groupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state groupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.Delete(ctx, "/api/v1/groups/"+PathEscape(state.ID.ValueString()))
	if err != nil && !IsNotFound(err) {
		// A 409 (a template still uses the group) arrives with the server's own message.
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not delete the group", err, resp.State.Schema, nil)...)
	}
}

func (r *groupResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
