package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Issue 12 §4 (pending requests lapse) and §5 (break-glass): the template attributes, their plan-time
// rules (mirroring src/modules/templates/lapse-glass.types.ts) and their mapping to the API.
const (
	maxPendingTTLMins       = 43_200
	maxBreakGlassMins       = 1_440
	maxBreakGlassReviewMins = 10_080
)

// addLapseGlassAttributes adds this part's attributes to interim_access_request_template's schema.
func addLapseGlassAttributes(s *schema.Schema) {
	s.Attributes["pending_ttl_mins"] = schema.Int64Attribute{
		Description: "A request nobody decided within this many minutes (1 to 43200) ends as \"lapsed\"; the requester is told and may ask again. " +
			"Must be larger than every escalation (escalation_after_mins, and each stage's) when set. Leave it out for requests that wait until decided.",
		Optional:   true,
		Validators: []validator.Int64{int64validator.Between(1, maxPendingTTLMins)},
	}
	s.Attributes["break_glass"] = schema.BoolAttribute{
		Description: "Break-glass: members of requester_group_ids may grant themselves this access at once, with a justification, for at most " +
			"break_glass_max_mins; every admin and approver is alerted on every channel and an approver reviews it within break_glass_review_mins. " +
			"Needs requester_group_ids, break_glass_max_mins and break_glass_review_mins, and no trigger in block mode. Defaults to false.",
		Optional: true,
		Computed: true,
		Default:  booldefault.StaticBool(false),
	}
	s.Attributes["break_glass_max_mins"] = schema.Int64Attribute{
		Description: "The longest a break-glass grant lasts, in minutes (1 to 1440). Required when break_glass is true.",
		Optional:    true,
		Validators:  []validator.Int64{int64validator.Between(1, maxBreakGlassMins)},
	}
	s.Attributes["break_glass_review_mins"] = schema.Int64Attribute{
		Description: "Minutes (1 to 10080) within which an approver must review a break-glass grant; an overdue one is alerted again. Required when break_glass is true.",
		Optional:    true,
		Validators:  []validator.Int64{int64validator.Between(1, maxBreakGlassReviewMins)},
	}
}

func (m *templateModel) lapseGlassFromAPI(t templateAPI) {
	m.PendingTTLMins = types.Int64PointerValue(t.PendingTTLMins)
	m.BreakGlass = types.BoolValue(t.BreakGlass)
	m.BreakGlassMaxMins = types.Int64PointerValue(t.BreakGlassMaxMins)
	m.BreakGlassReviewMins = types.Int64PointerValue(t.BreakGlassReviewMins)
}

func (m *templateModel) lapseGlassToBody(body map[string]any) {
	body["pending_ttl_mins"] = m.PendingTTLMins.ValueInt64Pointer()
	body["break_glass"] = m.BreakGlass.ValueBool()
	body["break_glass_max_mins"] = m.BreakGlassMaxMins.ValueInt64Pointer()
	body["break_glass_review_mins"] = m.BreakGlassReviewMins.ValueInt64Pointer()
}

// validateLapseGlass: escalation before lapse; break-glass needs requester groups and both durations.
func validateLapseGlass(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse, requesterGroups types.Set) {
	var ttl, escalation, maxMins, reviewMins types.Int64
	var breakGlass types.Bool
	for name, target := range map[string]any{
		"pending_ttl_mins": &ttl, "escalation_after_mins": &escalation, "break_glass": &breakGlass,
		"break_glass_max_mins": &maxMins, "break_glass_review_mins": &reviewMins,
	} {
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), target)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	known := func(v types.Int64) bool { return !v.IsNull() && !v.IsUnknown() }
	if known(ttl) && known(escalation) && escalation.ValueInt64() >= ttl.ValueInt64() {
		resp.Diagnostics.AddAttributeError(path.Root("pending_ttl_mins"), "Lapse before escalation",
			fmt.Sprintf("pending_ttl_mins must be larger than escalation_after_mins (%d): a request escalates before it lapses.", escalation.ValueInt64()))
	}
	if breakGlass.IsUnknown() || !breakGlass.ValueBool() {
		return
	}
	if isKnownEmpty(requesterGroups) {
		resp.Diagnostics.AddAttributeError(path.Root("break_glass"), "break_glass needs requester groups",
			"break_glass = true needs at least one group in requester_group_ids, or every user could grant themself access.")
	}
	for name, v := range map[string]types.Int64{"break_glass_max_mins": maxMins, "break_glass_review_mins": reviewMins} {
		if v.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root(name), name+" is required", name+" must be set when break_glass is true.")
		}
	}
}
