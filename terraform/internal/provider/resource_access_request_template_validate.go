package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// ValidateConfig checks, at plan time, the rules the server applies across attributes
// (src/modules/templates/template-rules.ts and custom-fields.ts), each error on the attribute it
// concerns. Values not known yet are left for the server.
func (r *templateResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	// Attribute by attribute, not the whole model: a dynamic block over a value not known yet
	// (during validate, or from a resource not created yet) makes the block list itself unknown.
	var config templateRulesInput
	for name, target := range map[string]any{
		"approval": &config.Approval, "approver_group_ids": &config.ApproverGroupIDs, "requester_group_ids": &config.RequesterGroupIDs,
		"auto_approve": &config.AutoApprove, "custom_field": &config.CustomFields,
	} {
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), target)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	// With stage blocks, who approves is said in each stage (validateStages), not by the flat attributes.
	if !validateStages(ctx, req, resp) {
		validateApproval(config, resp)
	}
	validateExtension(ctx, req, resp)
	validateSchedule(ctx, req, resp)
	if config.AutoApprove.ValueBool() && isKnownEmpty(config.RequesterGroupIDs) {
		resp.Diagnostics.AddAttributeError(path.Root("auto_approve"), "auto_approve needs requester groups",
			"auto_approve = true needs at least one group in requester_group_ids, or every user could grant themself access.")
	}
	if !config.CustomFields.IsUnknown() && !config.CustomFields.IsNull() {
		var fields []templateCustomField
		resp.Diagnostics.Append(config.CustomFields.ElementsAs(ctx, &fields, false)...)
		validateCustomFields(fields, resp)
	}
	validateLapseGlass(ctx, req, resp, config.RequesterGroupIDs)
}

// templateRulesInput is the part of the configuration the cross-attribute rules read.
type templateRulesInput struct {
	Approval                            types.String
	ApproverGroupIDs, RequesterGroupIDs types.Set
	AutoApprove                         types.Bool
	CustomFields                        types.List
}

// isKnownEmpty is true for a set that is left out or known to have no elements.
func isKnownEmpty(set types.Set) bool {
	return set.IsNull() || (!set.IsUnknown() && len(set.Elements()) == 0)
}

// validateApproval: who approves is chosen, never fallen into (template-rules.ts approvalErrors).
func validateApproval(config templateRulesInput, resp *resource.ValidateConfigResponse) {
	if config.Approval.IsUnknown() || config.ApproverGroupIDs.IsUnknown() {
		return
	}
	groups := path.Root("approver_group_ids")
	noGroups := isKnownEmpty(config.ApproverGroupIDs)
	switch {
	case config.Approval.IsNull() && noGroups:
		resp.Diagnostics.AddAttributeError(groups, "No approvers",
			`approver_group_ids must name at least one approver group; to let any user but the requester approve, set approval = "open".`)
	case config.Approval.ValueString() == approvalGroups && noGroups:
		resp.Diagnostics.AddAttributeError(groups, "No approvers", `approver_group_ids must name at least one approver group when approval is "groups".`)
	case config.Approval.ValueString() == approvalOpen && !noGroups:
		resp.Diagnostics.AddAttributeError(groups, "Approver groups on an open template", `approver_group_ids must be empty when approval is "open".`)
	}
}

// validateCustomFields: keys unique in the template, options for dropdowns only and always for them.
func validateCustomFields(fields []templateCustomField, resp *resource.ValidateConfigResponse) {
	seen := map[string]int{}
	for i, field := range fields {
		at := path.Root("custom_field").AtListIndex(i)
		if !field.Key.IsUnknown() && !field.Key.IsNull() {
			key := field.Key.ValueString()
			if first, dup := seen[key]; dup {
				resp.Diagnostics.AddAttributeError(at.AtName("key"), "Repeated custom field key",
					fmt.Sprintf("the key %q is used by an earlier field (custom_field %d); keys must be unique in a template.", key, first))
			} else {
				seen[key] = i
			}
		}
		if field.Type.IsUnknown() || field.Type.IsNull() || field.Options.IsUnknown() {
			continue
		}
		isDropdown := field.Type.ValueString() == "dropdown"
		if isDropdown && field.Options.IsNull() {
			resp.Diagnostics.AddAttributeError(at.AtName("options"), "Dropdown without options", "a dropdown needs 1 to 50 options.")
		}
		if !isDropdown && !field.Options.IsNull() {
			resp.Diagnostics.AddAttributeError(at.AtName("options"), "Options on a field that is not a dropdown", "only a dropdown has options; remove them or set type = \"dropdown\".")
		}
	}
}

// approvalPlanModifier plans `approval` when the configuration leaves it out: "groups" when approver
// groups are named (the server infers the same; ValidateConfig refuses no groups without approval),
// otherwise unknown until the server answers. It never carries the prior value forward, which could
// contradict the approver groups just planned.
type approvalPlanModifier struct{}

func (approvalPlanModifier) Description(context.Context) string {
	return `"groups" when approver_group_ids is set and approval is not.`
}

func (m approvalPlanModifier) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (approvalPlanModifier) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if !req.ConfigValue.IsNull() {
		return
	}
	var groups types.Set
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("approver_group_ids"), &groups)...)
	if !groups.IsUnknown() && !groups.IsNull() && len(groups.Elements()) > 0 {
		resp.PlanValue = types.StringValue(approvalGroups)
	}
}
