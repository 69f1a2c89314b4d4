package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.Resource                = (*scriptSecretResource)(nil)
	_ resource.ResourceWithConfigure   = (*scriptSecretResource)(nil)
	_ resource.ResourceWithImportState = (*scriptSecretResource)(nil)
)

var secretNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// NewScriptSecretResource is interim_script_secret: a value scripts read with secrets.get(name) once granted.
func NewScriptSecretResource() resource.Resource { return &scriptSecretResource{} }

type scriptSecretResource struct {
	client *Client
}

// Value is write-only: OpenTofu hands it to the provider from the configuration and never stores
// it, and Interim never returns it. ValueVersion is what the state remembers instead.
type scriptSecretModel struct {
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	Value        types.String `tfsdk:"value"`
	ValueVersion types.Int64  `tfsdk:"value_version"`
	ScriptIDs    types.Set    `tfsdk:"script_ids"`
}

type scriptSecretAPI struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	ScriptIDs []string `json:"script_ids"`
}

func (m *scriptSecretModel) fromAPI(a scriptSecretAPI) {
	m.ID = types.StringValue(a.ID)
	m.Name = types.StringValue(a.Name)
	m.ScriptIDs = stringSet(a.ScriptIDs)
	m.Value = types.StringNull() // write-only: never in the state
}

func (r *scriptSecretResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_script_secret"
}

func (r *scriptSecretResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A script secret: a value (an API key, a password) that scripts granted it read with `secrets.get(name)`. " +
			"Interim stores it encrypted and never returns it. The value is write-only: it is sent to Interim on create and whenever `value_version` changes, " +
			"and is never kept in the state or plan (needs OpenTofu or Terraform 1.11 or later). A value changed outside OpenTofu cannot be detected.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The secret's id (a UUID): what a script's `secret_ids` lists.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Description: "The name scripts read it by: a letter or _ first, then up to 63 letters, digits or _. Unique in Interim.",
				Required:    true,
				Validators:  []validator.String{stringvalidator.RegexMatches(secretNamePattern, "must start with a letter or underscore, followed by up to 63 letters, digits or underscores")},
			},
			"value": schema.StringAttribute{
				Description: "The secret value, 1 to 16384 characters. Write-only and sensitive: never stored in the state or read back. " +
					"Interim receives it on create, and again only when `value_version` changes.",
				Required:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{stringvalidator.LengthBetween(1, 16*1024)},
			},
			"value_version": schema.Int64Attribute{
				Description: "Any number; change it (e.g. increment it) together with `value` to send the new value to Interim. " +
					"Since the value is never stored, this is how a plan knows it changed.",
				Optional: true,
			},
			"script_ids": schema.SetAttribute{
				Description: "The ids of the scripts this secret is granted to (grant it with the script's `secret_ids`).",
				ElementType: types.StringType,
				Computed:    true,
			},
		},
	}
}

func (r *scriptSecretResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *scriptSecretResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config scriptSecretModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// A write-only value is only in the configuration.
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{"name": plan.Name.ValueString(), "value": config.Value.ValueString()}
	var created scriptSecretAPI
	if err := r.client.Post(ctx, "/api/v1/script-secrets", body, &created); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not create the script secret", err, resp.State.Schema, map[string]string{"secret_name_taken": "name"})...)
		return
	}
	plan.fromAPI(created)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *scriptSecretResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state scriptSecretModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found scriptSecretAPI
	if !readFromAPI(ctx, r.client, "/api/v1/script-secrets/"+PathEscape(state.ID.ValueString()), &found, resp, "the script secret", nil) {
		return
	}
	state.fromAPI(found)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *scriptSecretResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config scriptSecretModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{"name": plan.Name.ValueString()}
	if !plan.ValueVersion.Equal(state.ValueVersion) {
		body["value"] = config.Value.ValueString()
	}
	var updated scriptSecretAPI
	if err := r.client.Patch(ctx, "/api/v1/script-secrets/"+PathEscape(state.ID.ValueString()), body, &updated); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not update the script secret", err, resp.State.Schema, map[string]string{"secret_name_taken": "name"})...)
		return
	}
	plan.fromAPI(updated)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *scriptSecretResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state scriptSecretModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.Delete(ctx, "/api/v1/script-secrets/"+PathEscape(state.ID.ValueString()))
	if err != nil && !IsNotFound(err) {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not delete the script secret", err, resp.State.Schema, nil)...)
	}
}

func (r *scriptSecretResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
