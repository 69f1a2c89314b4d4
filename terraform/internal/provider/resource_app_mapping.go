package provider

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
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
	_ resource.Resource                = (*appMappingResource)(nil)
	_ resource.ResourceWithConfigure   = (*appMappingResource)(nil)
	_ resource.ResourceWithImportState = (*appMappingResource)(nil)
)

// The server's rules for a mapping (src/modules/mappings/mappings.types.ts).
var (
	claimPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$`)
	// Claims Interim sets itself; compared in any case. `groups` may be mapped.
	reservedClaims = map[string]bool{
		"sub": true, "iss": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true, "email": true, "email_verified": true,
		"azp": true, "auth_time": true, "nonce": true, "acr": true, "amr": true, "at_hash": true, "c_hash": true, "sid": true, "scope": true, "client_id": true, "cnf": true,
	}
)

const maxMappingValueLength = 500

// NewAppMappingResource is interim_app_mapping: a claim value an application gives the members of groups.
func NewAppMappingResource() resource.Resource { return &appMappingResource{} }

type appMappingResource struct {
	client *Client
}

// The value is one of three attributes, one per JSON type the API takes, so each reads back with
// the type it was written with (a dynamic attribute would turn ["a"] from a tuple into a list on import).
type appMappingModel struct {
	ID          types.String `tfsdk:"id"`
	AppID       types.String `tfsdk:"app_id"`
	Claim       types.String `tfsdk:"claim"`
	ValueString types.String `tfsdk:"value_string"`
	ValueList   types.List   `tfsdk:"value_list"`
	ValueBool   types.Bool   `tfsdk:"value_bool"`
	GroupIDs    types.Set    `tfsdk:"group_ids"`
	Description types.String `tfsdk:"description"`
}

type appMappingAPI struct {
	ID          string          `json:"id"`
	AppID       string          `json:"app_id"`
	Claim       string          `json:"claim"`
	Value       json.RawMessage `json:"value"`
	GroupIDs    []string        `json:"group_ids"`
	Description string          `json:"description"`
}

func (m *appMappingModel) fromAPI(a appMappingAPI, diags *diag.Diagnostics) {
	m.ID = types.StringValue(a.ID)
	m.AppID = types.StringValue(a.AppID)
	m.Claim = types.StringValue(a.Claim)
	m.GroupIDs = stringSet(a.GroupIDs)
	m.Description = types.StringValue(a.Description)
	m.ValueString, m.ValueList, m.ValueBool = types.StringNull(), types.ListNull(types.StringType), types.BoolNull()
	var asString string
	var asList []string
	var asBool bool
	switch {
	case json.Unmarshal(a.Value, &asString) == nil:
		m.ValueString = types.StringValue(asString)
	case json.Unmarshal(a.Value, &asList) == nil:
		m.ValueList = stringList(asList)
	case json.Unmarshal(a.Value, &asBool) == nil:
		m.ValueBool = types.BoolValue(asBool)
	default:
		diags.AddError("Unexpected mapping value", "Interim returned a value that is not a string, a list of strings or a boolean: "+string(a.Value))
	}
}

func (m *appMappingModel) value(ctx context.Context, diags *diag.Diagnostics) any {
	switch {
	case !m.ValueString.IsNull():
		return m.ValueString.ValueString()
	case !m.ValueList.IsNull():
		return listStrings(ctx, m.ValueList, diags)
	default:
		return m.ValueBool.ValueBool()
	}
}

func (r *appMappingResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_app_mapping"
}

func (r *appMappingResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	oneValue := []path.Expression{path.MatchRoot("value_string"), path.MatchRoot("value_list"), path.MatchRoot("value_bool")}
	resp.Schema = schema.Schema{
		Description: "A mapping: the value of one claim that an application puts in the tokens of the members of some groups. " +
			"Access request templates grant mappings for a limited time. Set exactly one of `value_string`, `value_list` and `value_bool`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The mapping's id (a UUID).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"app_id": schema.StringAttribute{
				Description:   "The id of the application whose tokens carry the claim. It cannot change: a new value replaces the mapping.",
				Required:      true,
				Validators:    []validator.String{idRule},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"claim": schema.StringAttribute{
				Description: "The claim's name: a letter or _ first, then letters, digits and _ . : - (at most 100 characters). " +
					"Names Interim sets itself (sub, iss, aud, exp, iat, nbf, jti, email, email_verified, azp, auth_time, nonce, acr, amr, at_hash, c_hash, sid, scope, client_id, cnf) are refused in any case.",
				Required:   true,
				Validators: []validator.String{stringRule{description: "a claim name that is not reserved", problem: claimProblem}},
			},
			"value_string": schema.StringAttribute{
				Description: "The claim's value as one string (at most 500 characters).",
				Optional:    true,
				Validators:  []validator.String{stringvalidator.LengthAtMost(maxMappingValueLength), stringvalidator.ExactlyOneOf(oneValue...)},
			},
			"value_list": schema.ListAttribute{
				Description: "The claim's value as a list of strings (1 to 100, each at most 500 characters). Lists from several mappings of one claim merge into their sorted union.",
				ElementType: types.StringType,
				Optional:    true,
				Validators: []validator.List{
					listvalidator.SizeBetween(1, 100),
					listvalidator.ValueStringsAre(stringvalidator.LengthAtMost(maxMappingValueLength)),
				},
			},
			"value_bool": schema.BoolAttribute{
				Description: "The claim's value as a boolean. Several mappings of one claim give true if any says true.",
				Optional:    true,
			},
			"group_ids": schema.SetAttribute{
				Description: "The ids of the groups whose members get the value (1 to 100 ordinary groups; a set, so their order never matters).",
				ElementType: types.StringType,
				Required:    true,
				Validators:  []validator.Set{setvalidator.SizeBetween(1, 100), setvalidator.ValueStringsAre(idRule)},
			},
			"description": schema.StringAttribute{
				Description: "What the mapping is for (at most 2000 characters). Defaults to an empty string.",
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString(""),
				Validators:  []validator.String{stringvalidator.LengthAtMost(2000)},
			},
		},
	}
}

func claimProblem(claim string) string {
	if !claimPattern.MatchString(claim) {
		return "must start with a letter or _ and contain only letters, digits and _ . : - (at most 100 characters)"
	}
	if reservedClaims[strings.ToLower(claim)] {
		return "is reserved: Interim sets it itself"
	}
	return ""
}

func (r *appMappingResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

// mappingFieldNames: the API's `value` field is whichever value attribute is set.
func mappingFieldNames(m appMappingModel) map[string]string {
	switch {
	case !m.ValueList.IsNull():
		return map[string]string{"value": "value_list"}
	case !m.ValueBool.IsNull():
		return map[string]string{"value": "value_bool"}
	default:
		return map[string]string{"value": "value_string"}
	}
}

func (r *appMappingResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan appMappingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{
		"app_id":      plan.AppID.ValueString(),
		"claim":       plan.Claim.ValueString(),
		"value":       plan.value(ctx, &resp.Diagnostics),
		"group_ids":   setStrings(ctx, plan.GroupIDs, &resp.Diagnostics),
		"description": plan.Description.ValueString(),
	}
	if resp.Diagnostics.HasError() {
		return
	}
	var created appMappingAPI
	if err := r.client.Post(ctx, "/api/v1/mappings", body, &created); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not create the mapping", err, resp.State.Schema, mappingFieldNames(plan))...)
		return
	}
	plan.fromAPI(created, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *appMappingResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state appMappingModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found appMappingAPI
	if !readFromAPI(ctx, r.client, "/api/v1/mappings/"+PathEscape(state.ID.ValueString()), &found, resp, "the mapping", nil) {
		return
	}
	state.fromAPI(found, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *appMappingResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan appMappingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{
		"claim":       plan.Claim.ValueString(),
		"value":       plan.value(ctx, &resp.Diagnostics),
		"group_ids":   setStrings(ctx, plan.GroupIDs, &resp.Diagnostics),
		"description": plan.Description.ValueString(),
	}
	if resp.Diagnostics.HasError() {
		return
	}
	var updated appMappingAPI
	if err := r.client.Patch(ctx, "/api/v1/mappings/"+PathEscape(plan.ID.ValueString()), body, &updated); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not update the mapping", err, resp.State.Schema, mappingFieldNames(plan))...)
		return
	}
	plan.fromAPI(updated, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *appMappingResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state appMappingModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.Delete(ctx, "/api/v1/mappings/"+PathEscape(state.ID.ValueString()))
	if err != nil && !IsNotFound(err) {
		// A 409 (a template still grants the mapping) arrives with the server's own message.
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not delete the mapping", err, resp.State.Schema, nil)...)
	}
}

func (r *appMappingResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
