package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.Resource                   = (*templateResource)(nil)
	_ resource.ResourceWithConfigure      = (*templateResource)(nil)
	_ resource.ResourceWithImportState    = (*templateResource)(nil)
	_ resource.ResourceWithValidateConfig = (*templateResource)(nil)
)

// The server's limits (src/modules/templates/templates.types.ts and custom-fields.ts), mirrored
// so that `plan` refuses what `apply` would.
const (
	maxTemplateIDs           = 100
	maxDurationMins          = 525_600
	maxEscalationAfterMins   = 10_080
	maxNotificationCount     = 100
	maxTriggerRetries        = 20
	maxCustomFields          = 50
	maxDropdownOptions       = 50
	templatesPath            = "/api/v1/access-request-templates"
	customFieldKeyRuleText   = "must be a lowercase letter followed by up to 39 lowercase letters, digits or underscores"
	notificationPolicyAll    = "all"
	approvalGroups           = "groups"
	approvalOpen             = "open"
	triggerFailureModeIgnore = "ignore"
)

var (
	templateUUIDPattern   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	customFieldKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	notificationPolicies  = []string{"all", "first_n", "random_n", "round_robin"}
	customFieldTypes      = []string{"text", "dropdown", "checkbox"}
	triggerFailureModes   = []string{"ignore", "retry", "block"}
)

// NewAccessRequestTemplateResource is interim_access_request_template: what a request grants, for how
// long, who may ask, who decides and what the requester fills in.
func NewAccessRequestTemplateResource() resource.Resource { return &templateResource{} }

type templateResource struct {
	client *Client
}

func (r *templateResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_request_template"
}

func templateIDValidator() validator.String {
	return stringvalidator.RegexMatches(templateUUIDPattern, "must be an id (a UUID)")
}

func templateIDSetAttribute(description string, required bool) schema.SetAttribute {
	a := schema.SetAttribute{
		Description: description,
		ElementType: types.StringType,
		Validators:  []validator.Set{setvalidator.SizeAtMost(maxTemplateIDs), setvalidator.ValueStringsAre(templateIDValidator())},
	}
	if required {
		a.Required = true
		a.Validators = append(a.Validators, setvalidator.SizeAtLeast(1))
	} else {
		a.Optional, a.Computed = true, true
		a.Default = setdefault.StaticValue(types.SetValueMust(types.StringType, []attr.Value{}))
	}
	return a
}

func (r *templateResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "An access request template: which application mappings an approved request grants, the durations a requester may choose, " +
			"who may request, who approves (and who is escalated to), how approvers are notified, the custom fields the requester fills in and " +
			"the trigger task that runs on every request event. Changes are applied only if the template is still at the `version` OpenTofu last " +
			"read (If-Match), so an edit made in the portal since is never silently overwritten.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The template's id (a UUID).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Description: "The name requesters see (1 to 200 characters, no leading or trailing spaces).",
				Required:    true,
				Validators:  nameValidators(),
			},
			"description": schema.StringAttribute{
				Description: "What the access is for, shown to requesters (at most 2000 characters). Defaults to an empty string.",
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString(""),
				Validators:  []validator.String{stringvalidator.LengthAtMost(2000)},
			},
			"enabled": schema.BoolAttribute{
				Description: "Whether the template can be requested. Disabling it revokes the live grants it backs and closes its open requests. Defaults to true.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(true),
			},
			"app_id": schema.StringAttribute{
				Description: "The application (interim_application) whose mappings an approved request grants.",
				Required:    true,
				Validators:  []validator.String{templateIDValidator()},
			},
			"mapping_ids": templateIDSetAttribute("The mappings (interim_app_mapping) of app_id that an approved request grants; at least one.", true),
			"allowed_durations": schema.SetAttribute{
				Description: "The durations, in minutes, a requester may choose from: 1 to 100 distinct values, each from 1 to 525600 (a year).",
				Required:    true,
				ElementType: types.Int64Type,
				Validators: []validator.Set{
					setvalidator.SizeBetween(1, maxTemplateIDs),
					setvalidator.ValueInt64sAre(int64validator.Between(1, maxDurationMins)),
				},
			},
			"approval": schema.StringAttribute{
				Description: "Who decides: \"groups\" (members of approver_group_ids) or \"open\" (any user except the requester, with approver_group_ids empty). " +
					"Implied as \"groups\" when approver_group_ids is set; an empty approver_group_ids needs approval = \"open\" said explicitly.",
				Optional:      true,
				Computed:      true,
				Validators:    []validator.String{stringvalidator.OneOf(approvalGroups, approvalOpen)},
				PlanModifiers: []planmodifier.String{approvalPlanModifier{}},
			},
			"approver_group_ids":  templateFlatApproverGroups(),
			"requester_group_ids": templateIDSetAttribute("The groups whose members may request; empty (the default) means every user.", false),
			"require_justification": schema.BoolAttribute{
				Description: "Whether a requester must say why. Defaults to true.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(true),
			},
			"auto_approve": schema.BoolAttribute{
				Description: "Approve at once on submission. Needs requester_group_ids, or every user could grant themself access. Defaults to false.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(false),
			},
			"notification_policy": schema.StringAttribute{
				Description: "Which approvers are told of a new request: \"all\", \"first_n\", \"random_n\" or \"round_robin\". Defaults to \"all\".",
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString(notificationPolicyAll),
				Validators:  []validator.String{stringvalidator.OneOf(notificationPolicies...)},
			},
			"notification_count": schema.Int64Attribute{
				Description: "N for \"first_n\" and \"random_n\" (1 to 100), counted without the requester. Defaults to 1.",
				Optional:    true,
				Computed:    true,
				Default:     int64default.StaticInt64(1),
				Validators:  []validator.Int64{int64validator.Between(1, maxNotificationCount)},
			},
			"escalation_after_mins": schema.Int64Attribute{
				Description: "Escalate a request nobody decided within this many minutes (1 to 10080) to escalation_group_id. Set both or neither. " +
					"Computed: filled by the server for a one-stage template, null with several stage blocks.",
				Optional: true,
				Computed: true,
				Validators: []validator.Int64{
					int64validator.Between(1, maxEscalationAfterMins),
					int64validator.AlsoRequires(path.MatchRoot("escalation_group_id")),
				},
			},
			"escalation_group_id": schema.StringAttribute{
				Description: "The group (interim_group) whose members may also decide once a request escalates. Set both or neither with escalation_after_mins. " +
					"Computed: filled by the server for a one-stage template, null with several stage blocks.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{templateIDValidator(), stringvalidator.AlsoRequires(path.MatchRoot("escalation_after_mins"))},
			},
			"max_start_delay_mins": maxStartDelayAttribute(),
			"allow_bulk_decisions": schema.BoolAttribute{
				Description: "Whether approvers may approve or deny several pending requests of this template at once (the portal's inbox multi-select, " +
					"POST /api/v1/access-requests/bulk-decisions). Each request still passes every check of a single decision. Defaults to false.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"step_up_minutes": schema.Int64Attribute{
				Description: "Ask approvers to confirm each approve, deny and revoke (and break-glass users each activation) with their second factor, " +
					"checked within this many minutes (1 to 60) of the decision. Left out (null): no step-up (break-glass still asks users who have a factor, within 5 minutes).",
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(1, 60)},
			},
			"version": schema.Int64Attribute{
				Description: "The template's version: starts at 1 and grows with every change. Requests record the version they were made against; " +
					"updates send it as If-Match, so a change made outside OpenTofu since the last refresh fails the apply instead of being overwritten.",
				Computed: true,
			},
		},
		Blocks: map[string]schema.Block{
			"stage": templateStageBlock(),
			"custom_field": schema.ListNestedBlock{
				Description: "An extra input the requester fills in, in the order shown on the request form (at most 50).",
				Validators:  []validator.List{listvalidator.SizeAtMost(maxCustomFields)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"key": schema.StringAttribute{
							Description: "The answer's key, unique in the template: a lowercase letter followed by up to 39 lowercase letters, digits or underscores.",
							Required:    true,
							Validators:  []validator.String{stringvalidator.RegexMatches(customFieldKeyPattern, customFieldKeyRuleText)},
						},
						"label": schema.StringAttribute{
							Description: "The label shown to the requester (1 to 200 characters, no leading or trailing spaces).",
							Required:    true,
							Validators:  nameValidators(),
						},
						"type": schema.StringAttribute{
							Description: "\"text\", \"dropdown\" or \"checkbox\".",
							Required:    true,
							Validators:  []validator.String{stringvalidator.OneOf(customFieldTypes...)},
						},
						"required": schema.BoolAttribute{
							Description: "Whether the requester must answer. Defaults to false.",
							Optional:    true,
							Computed:    true,
							Default:     booldefault.StaticBool(false),
						},
						"options": schema.ListAttribute{
							Description: "A dropdown's choices, in order: 1 to 50 distinct strings. Only for dropdowns.",
							Optional:    true,
							ElementType: types.StringType,
							Validators: []validator.List{
								listvalidator.SizeBetween(1, maxDropdownOptions),
								listvalidator.UniqueValues(),
								listvalidator.ValueStringsAre(nameValidators()...),
							},
						},
					},
				},
			},
			"trigger": schema.ListNestedBlock{
				Description: "The script task (interim_script) run on every lifecycle event of requests made from this template. At most one.",
				Validators:  []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"script_id": schema.StringAttribute{
							Description: "The script to run.",
							Required:    true,
							Validators:  []validator.String{templateIDValidator()},
						},
						"failure_mode": schema.StringAttribute{
							Description: "What a failed run does: \"ignore\", \"retry\" or \"block\" (an approval waits for the script and is undone if it fails). Defaults to \"ignore\".",
							Optional:    true,
							Computed:    true,
							Default:     stringdefault.StaticString(triggerFailureModeIgnore),
							Validators:  []validator.String{stringvalidator.OneOf(triggerFailureModes...)},
						},
						"max_retries": schema.Int64Attribute{
							Description: "How often a failed run is retried (0 to 20). Defaults to 3.",
							Optional:    true,
							Computed:    true,
							Default:     int64default.StaticInt64(3),
							Validators:  []validator.Int64{int64validator.Between(0, maxTriggerRetries)},
						},
					},
				},
			},
		},
	}
	addLapseGlassAttributes(&resp.Schema)
	for name, attribute := range templateExtensionAttributes() {
		resp.Schema.Attributes[name] = attribute
	}
}

func (r *templateResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func templatePath(id string) string { return templatesPath + "/" + PathEscape(id) }

func (r *templateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan templateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	body, diags := plan.apiBody(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	var created templateAPI
	if err := r.client.Post(ctx, templatesPath, body, &created); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not create the access request template", templateFieldErrors(err), resp.State.Schema, nil)...)
		return
	}
	resp.Diagnostics.Append(plan.fromAPI(ctx, created)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *templateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state templateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found templateAPI
	if !readFromAPI(ctx, r.client, templatePath(state.ID.ValueString()), &found, resp, "the access request template", nil) {
		return
	}
	resp.Diagnostics.Append(state.fromAPI(ctx, found)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update sends the whole configuration with If-Match set to the version OpenTofu last read, so the
// server refuses it (412) when the template was changed elsewhere since.
func (r *templateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior templateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	body, diags := plan.apiBody(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	var updated templateAPI
	// The template's ETag is its version as a quoted string: version 3 is "3".
	ctx = withRequestHeader(ctx, "If-Match", fmt.Sprintf(`"%d"`, prior.Version.ValueInt64()))
	err := r.client.Patch(ctx, templatePath(prior.ID.ValueString()), body, &updated)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusPreconditionFailed {
		resp.Diagnostics.AddAttributeError(path.Root("version"), "The access request template changed outside OpenTofu",
			fmt.Sprintf("OpenTofu planned this change against version %d, but someone changed the template since (in the portal or the API), so Interim refused to overwrite it: %s. "+
				"Run plan again to see the other change, then apply.", prior.Version.ValueInt64(), apiErr.Detail))
		return
	}
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not update the access request template", templateFieldErrors(err), resp.State.Schema, nil)...)
		return
	}
	resp.Diagnostics.Append(plan.fromAPI(ctx, updated)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *templateResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state templateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.client.Delete(ctx, templatePath(state.ID.ValueString())); err != nil && !IsNotFound(err) {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not delete the access request template", err, resp.State.Schema, nil)...)
	}
}

func (r *templateResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
