package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The server's limits for approval stages (src/modules/templates/template-stages.ts).
const (
	maxTemplateStages = 10
	maxStageQuorum    = 50
)

// templateStage is one `stage` block: an ordered approval stage (issue 12 §1).
type templateStage struct {
	Approval            types.String `tfsdk:"approval"`
	ApproverGroupIDs    types.Set    `tfsdk:"approver_group_ids"`
	Quorum              types.Int64  `tfsdk:"quorum"`
	EscalationAfterMins types.Int64  `tfsdk:"escalation_after_mins"`
	EscalationGroupID   types.String `tfsdk:"escalation_group_id"`
}

// templateStageAPI is a stage as the API answers it.
type templateStageAPI struct {
	Position            int64    `json:"position"`
	Approval            string   `json:"approval"`
	ApproverGroupIDs    []string `json:"approver_group_ids"`
	Quorum              int64    `json:"quorum"`
	EscalationAfterMins *int64   `json:"escalation_after_mins"`
	EscalationGroupID   *string  `json:"escalation_group_id"`
}

// templateFlatApproval names the one-stage attributes a `stage` block conflicts with.
var templateFlatApproval = []string{"approval", "approver_group_ids", "escalation_after_mins", "escalation_group_id"}

func templateStageBlock() schema.ListNestedBlock {
	return schema.ListNestedBlock{
		Description: "An approval stage, in order (at most 10). A request moves to the next stage when the current one has its quorum of distinct " +
			"approvals, and is approved when the last one does; any denial ends it; one person counts once per request. Without stage blocks the " +
			"template has one stage, described by approval, approver_group_ids and the escalation attributes; stage blocks conflict with those " +
			"(which the server then fills only when there is exactly one stage).",
		Validators: []validator.List{listvalidator.SizeAtMost(maxTemplateStages)},
		NestedObject: schema.NestedBlockObject{
			Attributes: map[string]schema.Attribute{
				"approval": schema.StringAttribute{
					Description: "\"groups\" (implied when approver_group_ids is set) or \"open\" (any user except the requester; approver_group_ids empty).",
					Optional:    true,
					Validators:  []validator.String{stringvalidator.OneOf(approvalGroups, approvalOpen)},
				},
				"approver_group_ids": templateIDSetAttribute("The groups whose members may approve this stage (at least one unless approval is \"open\"). Defaults to none.", false),
				"quorum": schema.Int64Attribute{
					Description: "How many distinct approvals this stage needs (1 to 50). More than the stage's current approvers is allowed: the request waits. Defaults to 1.",
					Optional:    true,
					Computed:    true,
					Default:     int64default.StaticInt64(1),
					Validators:  []validator.Int64{int64validator.Between(1, maxStageQuorum)},
				},
				"escalation_after_mins": schema.Int64Attribute{
					Description: "Escalate this stage when nobody decided it within this many minutes (1 to 10080) of its opening. Set both or neither with escalation_group_id.",
					Optional:    true,
					Validators:  []validator.Int64{int64validator.Between(1, maxEscalationAfterMins)},
				},
				"escalation_group_id": schema.StringAttribute{
					Description: "The group (interim_group) whose members may also decide this stage once it escalates.",
					Optional:    true,
					Validators:  []validator.String{templateIDValidator()},
				},
			},
		},
	}
}

// stagesFromAPI copies the server's stages into the model when the configuration uses stage blocks
// (the prior model has some) or the template has several stages (an import); a one-stage template
// written with the flat attributes keeps no blocks. A stage's approval stays as configured when the
// configuration left it out (the server infers it).
func (m *templateModel) stagesFromAPI(ctx context.Context, stages []templateStageAPI) diag.Diagnostics {
	var diags diag.Diagnostics
	prior := m.Stages
	if len(prior) == 0 && len(stages) <= 1 {
		m.Stages = []templateStage{}
		return diags
	}
	m.Stages = make([]templateStage, 0, len(stages))
	for i, s := range stages {
		groups, d := types.SetValueFrom(ctx, types.StringType, templateNonNil(s.ApproverGroupIDs))
		diags.Append(d...)
		approval := types.StringValue(s.Approval)
		if i < len(prior) && prior[i].Approval.IsNull() {
			approval = types.StringNull()
		}
		m.Stages = append(m.Stages, templateStage{
			Approval: approval, ApproverGroupIDs: groups, Quorum: types.Int64Value(s.Quorum),
			EscalationAfterMins: types.Int64PointerValue(s.EscalationAfterMins), EscalationGroupID: types.StringPointerValue(s.EscalationGroupID),
		})
	}
	return diags
}

// stagesBody is the `stages` of the request body.
func (m *templateModel) stagesBody(ctx context.Context) ([]map[string]any, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := make([]map[string]any, 0, len(m.Stages))
	for _, s := range m.Stages {
		groups := []string{}
		if !s.ApproverGroupIDs.IsNull() && !s.ApproverGroupIDs.IsUnknown() {
			diags.Append(s.ApproverGroupIDs.ElementsAs(ctx, &groups, false)...)
		}
		stage := map[string]any{"approver_group_ids": groups, "quorum": s.Quorum.ValueInt64(), "escalation_after_mins": knownInt64(s.EscalationAfterMins), "escalation_group_id": knownString(s.EscalationGroupID)}
		if !s.Approval.IsNull() && !s.Approval.IsUnknown() {
			stage["approval"] = s.Approval.ValueString()
		}
		if s.Quorum.IsNull() || s.Quorum.IsUnknown() {
			stage["quorum"] = 1
		}
		out = append(out, stage)
	}
	return out, diags
}

func knownInt64(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return v.ValueInt64Pointer()
}

func knownString(v types.String) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return v.ValueStringPointer()
}

// validateStages: stage blocks conflict with the flat approval attributes, and each stage follows
// the server's per-stage rules (who approves is chosen; escalation needs both halves).
func validateStages(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) (staged bool) {
	var stages types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("stage"), &stages)...)
	if resp.Diagnostics.HasError() || stages.IsUnknown() || stages.IsNull() || len(stages.Elements()) == 0 {
		return stages.IsUnknown()
	}
	for _, name := range templateFlatApproval {
		var value any
		switch name {
		case "approver_group_ids":
			var v types.Set
			resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), &v)...)
			value = !v.IsNull()
		case "escalation_after_mins":
			var v types.Int64
			resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), &v)...)
			value = !v.IsNull()
		default:
			var v types.String
			resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), &v)...)
			value = !v.IsNull()
		}
		if value == true {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Conflicting approval settings",
				name+" describes the one-stage form of approval; with stage blocks, set who approves and the escalation in each stage instead.")
		}
	}
	var blocks []templateStage
	resp.Diagnostics.Append(stages.ElementsAs(ctx, &blocks, false)...)
	for i, s := range blocks {
		at := path.Root("stage").AtListIndex(i)
		if s.Approval.IsUnknown() || s.ApproverGroupIDs.IsUnknown() {
			continue
		}
		noGroups := isKnownEmpty(s.ApproverGroupIDs)
		switch {
		case s.Approval.IsNull() && noGroups:
			resp.Diagnostics.AddAttributeError(at.AtName("approver_group_ids"), "No approvers in a stage", `a stage must name at least one approver group, or set approval = "open".`)
		case s.Approval.ValueString() == approvalOpen && !noGroups:
			resp.Diagnostics.AddAttributeError(at.AtName("approver_group_ids"), "Approver groups on an open stage", `approver_group_ids must be empty when the stage's approval is "open".`)
		}
		if !s.EscalationAfterMins.IsUnknown() && !s.EscalationGroupID.IsUnknown() && s.EscalationAfterMins.IsNull() != s.EscalationGroupID.IsNull() {
			resp.Diagnostics.AddAttributeError(at, "Half an escalation", "set both escalation_after_mins and escalation_group_id in a stage, or neither.")
		}
	}
	return true
}

// templateFlatApproverGroups is approver_group_ids: Optional and Computed without a default, since
// the server fills it only for one-stage templates (stage 1's groups) and leaves it empty otherwise.
func templateFlatApproverGroups() schema.SetAttribute {
	a := templateIDSetAttribute("The groups whose members may approve (at least one unless approval is \"open\"); none when left out. "+
		"Computed: filled by the server for a one-stage template (also one written as a single stage block), empty with several stage blocks.", false)
	a.Default = nil
	return a
}
