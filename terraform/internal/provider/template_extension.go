package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Extension of an active grant (issue 12 §2): the template attributes, their plan-time rules
// (src/modules/templates/template-extension-rules.ts) and the plan of max_total_mins' default.

// templateExtensionAttributes joins the schema of interim_access_request_template.
func templateExtensionAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"allow_extension": schema.BoolAttribute{
			Description: "Whether a requester may extend an active grant by one of allowed_durations, with a justification, while the access stays live. " +
				"The grant's end moves; it stays one grant. Defaults to false.",
			Optional: true,
			Computed: true,
			Default:  booldefault.StaticBool(false),
		},
		"extension_requires_approval": schema.BoolAttribute{
			Description: "Whether an extension goes through approval like a request (true, the default) or is granted at once (false, only with auto_approve = true).",
			Optional:    true,
			Computed:    true,
			Default:     booldefault.StaticBool(true),
		},
		"max_total_mins": schema.Int64Attribute{
			Description: "The longest a grant may last with its extensions, in minutes from its start; at least the largest of allowed_durations. " +
				"Left out while allow_extension is true, it is the largest of allowed_durations; left out otherwise, it is null.",
			Optional:      true,
			Computed:      true,
			Validators:    []validator.Int64{int64validator.Between(1, maxDurationMins)},
			PlanModifiers: []planmodifier.Int64{maxTotalPlanModifier{}},
		},
	}
}

// extensionFromAPI and extensionBody copy the attributes between model and API.
func (m *templateModel) extensionFromAPI(t templateAPI) {
	m.AllowExtension = types.BoolValue(t.AllowExtension)
	m.ExtensionRequiresApproval = types.BoolValue(t.ExtensionRequiresApproval)
	m.MaxTotalMins = types.Int64PointerValue(t.MaxTotalMins)
}

func (m *templateModel) extensionBody(body map[string]any) {
	body["allow_extension"] = m.AllowExtension.ValueBool()
	body["extension_requires_approval"] = m.ExtensionRequiresApproval.ValueBool()
	body["max_total_mins"] = m.MaxTotalMins.ValueInt64Pointer()
}

// validateExtension: an extension without approval only on an auto-approve template, and a total
// no shorter than the longest duration. Values not known yet are left for the server.
func validateExtension(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var allow, needsApproval, auto types.Bool
	var total types.Int64
	var durations types.Set
	for name, target := range map[string]any{
		"allow_extension": &allow, "extension_requires_approval": &needsApproval, "auto_approve": &auto,
		"max_total_mins": &total, "allowed_durations": &durations,
	} {
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), target)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if allow.ValueBool() && !needsApproval.IsNull() && !needsApproval.IsUnknown() && !needsApproval.ValueBool() && !auto.IsUnknown() && !auto.ValueBool() {
		resp.Diagnostics.AddAttributeError(path.Root("extension_requires_approval"), "Extension without approval",
			"extension_requires_approval = false is allowed only with auto_approve = true: otherwise a requester could grant themself more time than approvers agreed to.")
	}
	if longest, ok := longestDuration(ctx, durations); ok && !total.IsNull() && !total.IsUnknown() && total.ValueInt64() < longest {
		resp.Diagnostics.AddAttributeError(path.Root("max_total_mins"), "Total shorter than a duration",
			"max_total_mins must be at least the longest of allowed_durations.")
	}
}

func longestDuration(ctx context.Context, durations types.Set) (int64, bool) {
	if durations.IsNull() || durations.IsUnknown() {
		return 0, false
	}
	values := []types.Int64{}
	if diags := durations.ElementsAs(ctx, &values, false); diags.HasError() || len(values) == 0 {
		return 0, false
	}
	var longest int64
	for _, v := range values {
		if v.IsUnknown() {
			return 0, false
		}
		longest = max(longest, v.ValueInt64())
	}
	return longest, true
}

// maxTotalPlanModifier plans max_total_mins when the configuration leaves it out, as the server
// fills it: the largest allowed duration while extensions are allowed, otherwise null.
type maxTotalPlanModifier struct{}

func (maxTotalPlanModifier) Description(context.Context) string {
	return "the largest of allowed_durations when allow_extension is true and max_total_mins is not set"
}

func (m maxTotalPlanModifier) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (maxTotalPlanModifier) PlanModifyInt64(ctx context.Context, req planmodifier.Int64Request, resp *planmodifier.Int64Response) {
	if !req.ConfigValue.IsNull() {
		return
	}
	var allow types.Bool
	var durations types.Set
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("allow_extension"), &allow)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("allowed_durations"), &durations)...)
	if allow.IsUnknown() {
		return
	}
	if !allow.ValueBool() {
		resp.PlanValue = types.Int64Null()
		return
	}
	if longest, ok := longestDuration(ctx, durations); ok {
		resp.PlanValue = types.Int64Value(longest)
	}
}
