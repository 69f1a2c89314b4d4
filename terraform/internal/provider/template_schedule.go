package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// maxStartDelayMins is the server's bound on max_start_delay_mins (30 days, templates.types.ts).
const maxStartDelayMins = 43_200

// maxStartDelayAttribute is the template's scheduled start (issue 12 §3): how far ahead a
// requester may ask for the access to start.
func maxStartDelayAttribute() schema.Int64Attribute {
	return schema.Int64Attribute{
		Description: "How far ahead, in minutes (0 to 43200, i.e. 30 days), a requester may ask for the access to start (a request's starts_at). " +
			"The request is decided in advance; nothing is granted before the start, and the duration counts from it. " +
			"Left out (null) or 0: no scheduled start, access starts at approval. Cannot be set together with a trigger whose failure_mode is \"block\".",
		Optional:   true,
		Validators: []validator.Int64{int64validator.Between(0, maxStartDelayMins)},
	}
}

// validateSchedule: a blocking trigger provisions at approval, so it excludes a later start
// (the server's 400 block_mode_schedule, template-schedule.ts), said at plan time.
func validateSchedule(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var delay types.Int64
	var trigger types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("max_start_delay_mins"), &delay)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("trigger"), &trigger)...)
	if resp.Diagnostics.HasError() || delay.IsNull() || delay.IsUnknown() || delay.ValueInt64() <= 0 || trigger.IsNull() || trigger.IsUnknown() {
		return
	}
	var triggers []templateTrigger
	resp.Diagnostics.Append(trigger.ElementsAs(ctx, &triggers, false)...)
	for _, tr := range triggers {
		if tr.FailureMode.ValueString() == "block" {
			resp.Diagnostics.AddAttributeError(path.Root("max_start_delay_mins"), "Scheduled start with a blocking trigger",
				`max_start_delay_mins cannot be set with a trigger whose failure_mode is "block": a blocking trigger provisions at approval, before a scheduled start. Set max_start_delay_mins to 0 or leave it out, or use failure_mode "retry" or "ignore".`)
		}
	}
}
