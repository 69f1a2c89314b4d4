package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// templateModel is interim_access_request_template in OpenTofu's state and plan.
type templateModel struct {
	ID                   types.String          `tfsdk:"id"`
	Name                 types.String          `tfsdk:"name"`
	Description          types.String          `tfsdk:"description"`
	Enabled              types.Bool            `tfsdk:"enabled"`
	AppID                types.String          `tfsdk:"app_id"`
	MappingIDs           types.Set             `tfsdk:"mapping_ids"`
	AllowedDurations     types.Set             `tfsdk:"allowed_durations"`
	Approval             types.String          `tfsdk:"approval"`
	ApproverGroupIDs     types.Set             `tfsdk:"approver_group_ids"`
	RequesterGroupIDs    types.Set             `tfsdk:"requester_group_ids"`
	RequireJustification types.Bool            `tfsdk:"require_justification"`
	AutoApprove          types.Bool            `tfsdk:"auto_approve"`
	NotificationPolicy   types.String          `tfsdk:"notification_policy"`
	NotificationCount    types.Int64           `tfsdk:"notification_count"`
	EscalationAfterMins  types.Int64           `tfsdk:"escalation_after_mins"`
	EscalationGroupID    types.String          `tfsdk:"escalation_group_id"`
	MaxStartDelayMins    types.Int64           `tfsdk:"max_start_delay_mins"`
	AllowBulkDecisions   types.Bool            `tfsdk:"allow_bulk_decisions"`
	StepUpMinutes        types.Int64           `tfsdk:"step_up_minutes"`
	CustomFields         []templateCustomField `tfsdk:"custom_field"`
	Trigger              []templateTrigger     `tfsdk:"trigger"`
	Stages               []templateStage       `tfsdk:"stage"`
	Version              types.Int64           `tfsdk:"version"`
	PendingTTLMins       types.Int64           `tfsdk:"pending_ttl_mins"`
	BreakGlass           types.Bool            `tfsdk:"break_glass"`
	BreakGlassMaxMins    types.Int64           `tfsdk:"break_glass_max_mins"`
	BreakGlassReviewMins types.Int64           `tfsdk:"break_glass_review_mins"`
	// Extension of an active grant (template_extension.go).
	AllowExtension            types.Bool  `tfsdk:"allow_extension"`
	ExtensionRequiresApproval types.Bool  `tfsdk:"extension_requires_approval"`
	MaxTotalMins              types.Int64 `tfsdk:"max_total_mins"`
}

// templateCustomField is one `custom_field` block: an input the requester fills in.
type templateCustomField struct {
	Key      types.String `tfsdk:"key"`
	Label    types.String `tfsdk:"label"`
	Type     types.String `tfsdk:"type"`
	Required types.Bool   `tfsdk:"required"`
	Options  types.List   `tfsdk:"options"`
}

// templateTrigger is the `trigger` block: the script task run on the lifecycle events of requests.
type templateTrigger struct {
	ScriptID    types.String `tfsdk:"script_id"`
	FailureMode types.String `tfsdk:"failure_mode"`
	MaxRetries  types.Int64  `tfsdk:"max_retries"`
}

// templateAPI is a template as GET, POST and PATCH /api/v1/access-request-templates answer it.
type templateAPI struct {
	ID                   string                   `json:"id"`
	Name                 string                   `json:"name"`
	Description          string                   `json:"description"`
	Enabled              bool                     `json:"enabled"`
	AppID                string                   `json:"app_id"`
	MappingIDs           []string                 `json:"mapping_ids"`
	AllowedDurations     []int64                  `json:"allowed_durations"`
	Approval             *string                  `json:"approval"`
	ApproverGroupIDs     []string                 `json:"approver_group_ids"`
	RequesterGroupIDs    []string                 `json:"requester_group_ids"`
	RequireJustification bool                     `json:"require_justification"`
	AutoApprove          bool                     `json:"auto_approve"`
	NotificationPolicy   string                   `json:"notification_policy"`
	NotificationCount    int64                    `json:"notification_count"`
	EscalationAfterMins  *int64                   `json:"escalation_after_mins"`
	EscalationGroupID    *string                  `json:"escalation_group_id"`
	MaxStartDelayMins    *int64                   `json:"max_start_delay_mins"`
	AllowBulkDecisions   bool                     `json:"allow_bulk_decisions"`
	StepUpMinutes        *int64                   `json:"step_up_minutes"`
	CustomFields         []templateCustomFieldAPI `json:"custom_fields"`
	Trigger              *templateTriggerAPI      `json:"trigger"`
	Stages               []templateStageAPI       `json:"stages"`
	Version              int64                    `json:"version"`
	PendingTTLMins       *int64                   `json:"pending_ttl_mins"`
	BreakGlass           bool                     `json:"break_glass"`
	BreakGlassMaxMins    *int64                   `json:"break_glass_max_mins"`
	BreakGlassReviewMins *int64                   `json:"break_glass_review_mins"`
	// Extension of an active grant (template_extension.go).
	AllowExtension            bool   `json:"allow_extension"`
	ExtensionRequiresApproval bool   `json:"extension_requires_approval"`
	MaxTotalMins              *int64 `json:"max_total_mins"`
}

type templateCustomFieldAPI struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Options  []string `json:"options,omitempty"`
}

type templateTriggerAPI struct {
	ScriptID    string `json:"script_id"`
	FailureMode string `json:"failure_mode"`
	MaxRetries  int64  `json:"max_retries"`
}

// fromAPI copies what the server stored into the model. Id lists become sets, so the order the
// server returns them in never shows as a difference.
func (m *templateModel) fromAPI(ctx context.Context, t templateAPI) diag.Diagnostics {
	var diags diag.Diagnostics
	stringSet := func(values []string) types.Set {
		set, d := types.SetValueFrom(ctx, types.StringType, templateNonNil(values))
		diags.Append(d...)
		return set
	}
	m.ID = types.StringValue(t.ID)
	m.Name = types.StringValue(t.Name)
	m.Description = types.StringValue(t.Description)
	m.Enabled = types.BoolValue(t.Enabled)
	m.AppID = types.StringValue(t.AppID)
	m.MappingIDs = stringSet(t.MappingIDs)
	durations, d := types.SetValueFrom(ctx, types.Int64Type, templateNonNil(t.AllowedDurations))
	diags.Append(d...)
	m.AllowedDurations = durations
	m.Approval = types.StringPointerValue(t.Approval)
	m.ApproverGroupIDs = stringSet(t.ApproverGroupIDs)
	m.RequesterGroupIDs = stringSet(t.RequesterGroupIDs)
	m.RequireJustification = types.BoolValue(t.RequireJustification)
	m.AutoApprove = types.BoolValue(t.AutoApprove)
	m.NotificationPolicy = types.StringValue(t.NotificationPolicy)
	m.NotificationCount = types.Int64Value(t.NotificationCount)
	m.EscalationAfterMins = types.Int64PointerValue(t.EscalationAfterMins)
	m.EscalationGroupID = types.StringPointerValue(t.EscalationGroupID)
	m.MaxStartDelayMins = types.Int64PointerValue(t.MaxStartDelayMins)
	m.AllowBulkDecisions = types.BoolValue(t.AllowBulkDecisions)
	m.StepUpMinutes = types.Int64PointerValue(t.StepUpMinutes)
	// Never nil: a configuration without blocks holds an empty list, and state must equal it.
	m.CustomFields = make([]templateCustomField, 0, len(t.CustomFields))
	for _, f := range t.CustomFields {
		options := types.ListNull(types.StringType)
		if f.Options != nil {
			var d diag.Diagnostics
			options, d = types.ListValueFrom(ctx, types.StringType, f.Options)
			diags.Append(d...)
		}
		m.CustomFields = append(m.CustomFields, templateCustomField{
			Key: types.StringValue(f.Key), Label: types.StringValue(f.Label), Type: types.StringValue(f.Type),
			Required: types.BoolValue(f.Required), Options: options,
		})
	}
	m.Trigger = make([]templateTrigger, 0, 1)
	if t.Trigger != nil {
		m.Trigger = append(m.Trigger, templateTrigger{
			ScriptID: types.StringValue(t.Trigger.ScriptID), FailureMode: types.StringValue(t.Trigger.FailureMode), MaxRetries: types.Int64Value(t.Trigger.MaxRetries),
		})
	}
	diags.Append(m.stagesFromAPI(ctx, t.Stages)...)
	m.Version = types.Int64Value(t.Version)
	m.lapseGlassFromAPI(t)
	m.extensionFromAPI(t)
	return diags
}

// apiBody is the whole desired template, for POST and for PATCH alike: a PATCH that sends every
// attribute makes the server hold exactly the configuration, whatever was changed elsewhere.
func (m *templateModel) apiBody(ctx context.Context) (map[string]any, diag.Diagnostics) {
	var diags diag.Diagnostics
	idList := func(set types.Set) []string {
		values := []string{}
		if set.IsUnknown() || set.IsNull() {
			return values // a Computed list left out of the configuration: none
		}
		diags.Append(set.ElementsAs(ctx, &values, false)...)
		return values
	}
	durations := []int64{}
	diags.Append(m.AllowedDurations.ElementsAs(ctx, &durations, false)...)
	body := map[string]any{
		"name":                  m.Name.ValueString(),
		"description":           m.Description.ValueString(),
		"enabled":               m.Enabled.ValueBool(),
		"app_id":                m.AppID.ValueString(),
		"mapping_ids":           idList(m.MappingIDs),
		"allowed_durations":     durations,
		"approver_group_ids":    idList(m.ApproverGroupIDs),
		"requester_group_ids":   idList(m.RequesterGroupIDs),
		"require_justification": m.RequireJustification.ValueBool(),
		"auto_approve":          m.AutoApprove.ValueBool(),
		"notification_policy":   m.NotificationPolicy.ValueString(),
		"notification_count":    m.NotificationCount.ValueInt64(),
		"escalation_after_mins": m.EscalationAfterMins.ValueInt64Pointer(),
		"escalation_group_id":   m.EscalationGroupID.ValueStringPointer(),
		"max_start_delay_mins":  m.MaxStartDelayMins.ValueInt64Pointer(),
		"allow_bulk_decisions":  m.AllowBulkDecisions.ValueBool(),
		"step_up_minutes":       m.StepUpMinutes.ValueInt64Pointer(),
		"trigger":               nil,
	}
	// Known only when the configuration says it or the approver groups imply it (see approvalPlanModifier).
	if !m.Approval.IsNull() && !m.Approval.IsUnknown() {
		body["approval"] = m.Approval.ValueString()
	}
	// The flat approval attributes are Computed: left out, they are unknown in a plan and mean none.
	if m.ApproverGroupIDs.IsUnknown() {
		body["approver_group_ids"] = []string{}
	}
	body["escalation_after_mins"], body["escalation_group_id"] = knownInt64(m.EscalationAfterMins), knownString(m.EscalationGroupID)
	// Stage blocks replace the one-stage attributes (the API refuses both at once).
	if len(m.Stages) > 0 {
		for _, name := range templateFlatApproval {
			delete(body, name)
		}
		stages, d := m.stagesBody(ctx)
		diags.Append(d...)
		body["stages"] = stages
	}
	fields := make([]templateCustomFieldAPI, 0, len(m.CustomFields))
	for _, f := range m.CustomFields {
		field := templateCustomFieldAPI{Key: f.Key.ValueString(), Label: f.Label.ValueString(), Type: f.Type.ValueString(), Required: f.Required.ValueBool()}
		if !f.Options.IsNull() {
			field.Options = []string{}
			diags.Append(f.Options.ElementsAs(ctx, &field.Options, false)...)
		}
		fields = append(fields, field)
	}
	body["custom_fields"] = fields
	m.lapseGlassToBody(body)
	m.extensionBody(body)
	if len(m.Trigger) > 0 {
		tr := m.Trigger[0]
		body["trigger"] = templateTriggerAPI{ScriptID: tr.ScriptID.ValueString(), FailureMode: tr.FailureMode.ValueString(), MaxRetries: tr.MaxRetries.ValueInt64()}
	}
	return body, diags
}

func templateNonNil[T any](values []T) []T {
	if values == nil {
		return []T{}
	}
	return values
}

// templateFieldPath turns a field the server names into this resource's attribute path:
// `custom_fields.2.key` is the third `custom_field` block's key, `trigger.script_id` the
// `trigger` block's script_id.
func templateFieldPath(field string) string {
	switch {
	case strings.HasPrefix(field, "custom_fields"):
		return "custom_field" + strings.TrimPrefix(field, "custom_fields")
	case strings.HasPrefix(field, "trigger."):
		return "trigger.0." + strings.TrimPrefix(field, "trigger.")
	}
	return field
}

// templateFieldErrors rewrites the field names of a 400 problem with templateFieldPath, so the
// shared mapping puts each error on the attribute (or block) the configuration wrote.
func templateFieldErrors(err error) error {
	if apiErr, ok := err.(*APIError); ok && len(apiErr.Errors) > 0 {
		renamed := *apiErr
		renamed.Errors = make([]FieldError, len(apiErr.Errors))
		for i, e := range apiErr.Errors {
			renamed.Errors[i] = FieldError{Field: templateFieldPath(e.Field), Message: e.Message}
		}
		return &renamed
	}
	return err
}
