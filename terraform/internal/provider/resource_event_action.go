package provider

import (
	"context"
	"net/url"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.Resource                   = (*eventActionResource)(nil)
	_ resource.ResourceWithConfigure      = (*eventActionResource)(nil)
	_ resource.ResourceWithImportState    = (*eventActionResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*eventActionResource)(nil)
	_ resource.ResourceWithValidateConfig = (*eventActionResource)(nil)
)

// The server's enums (src/modules/event-actions/event-actions.types.ts, events/event-payload.ts).
var (
	eventActionKinds = []string{"webhook", "slack", "email", "script"}
	emailRecipients  = []string{"requester", "approvers", "addresses"}
	requestEvents    = []string{
		"access_request.submitted", "access_request.approved", "access_request.denied", "access_request.cancelled",
		"access_request.escalated", "access_request.expiring_soon", "access_request.expired", "access_request.revoked",
		"access_request.comment_added", "access_request.provisioning_reverted", "access_request.lapsed",
		"access_request.break_glass_activated", "access_request.break_glass_reviewed", "access_request.break_glass_review_overdue",
		"access_request.stage_approved", "access_request.extension_requested", "access_request.extended", "access_request.extension_denied",
		"access_request.activated",
	}
	webhookSecretPattern = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{32,88}={0,2}$`)
	// emailPattern (resource_user.go) is a plausibility check; the server's parser has the last word.
)

// NewEventActionResource is interim_event_action: on chosen access-request events, send a signed
// webhook, a Slack message or an email, or run a script.
func NewEventActionResource() resource.Resource { return &eventActionResource{} }

type eventActionResource struct {
	client *Client
}

// The kind's settings are flat attributes named after the kind; ValidateConfig says which belong to which.
type eventActionModel struct {
	ID                   types.String `tfsdk:"id"`
	Name                 types.String `tfsdk:"name"`
	Enabled              types.Bool   `tfsdk:"enabled"`
	EventTypes           types.Set    `tfsdk:"event_types"`
	TemplateID           types.String `tfsdk:"template_id"`
	Kind                 types.String `tfsdk:"kind"`
	WebhookURL           types.String `tfsdk:"webhook_url"`
	WebhookSigningSecret types.String `tfsdk:"webhook_signing_secret"`
	SlackWebhookURL      types.String `tfsdk:"slack_webhook_url"`
	EmailRecipients      types.String `tfsdk:"email_recipients"`
	EmailAddresses       types.Set    `tfsdk:"email_addresses"`
	ScriptID             types.String `tfsdk:"script_id"`
}

type eventActionAPI struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Enabled    bool     `json:"enabled"`
	EventTypes []string `json:"event_types"`
	TemplateID *string  `json:"template_id"`
	Kind       string   `json:"kind"`
	Config     struct {
		URL            string   `json:"url"`
		WebhookURLSet  bool     `json:"webhook_url_set"`
		WebhookURLHost string   `json:"webhook_url_host"`
		Recipients     string   `json:"recipients"`
		Addresses      []string `json:"addresses"`
		ScriptID       string   `json:"script_id"`
	} `json:"config"`
	// Only in the answers to a webhook's create and rotate-secret.
	SigningSecret *string `json:"signing_secret,omitempty"`
}

// fromAPI copies what the server shows. Secrets are never shown: a webhook's signing secret stays
// as the state has it (the create or rotation answer set it), and so does the Slack URL unless the
// server's host for it differs or it has none, which is drift the next plan should repair.
func (m *eventActionModel) fromAPI(a eventActionAPI) {
	m.ID = types.StringValue(a.ID)
	m.Name = types.StringValue(a.Name)
	m.Enabled = types.BoolValue(a.Enabled)
	m.EventTypes = stringSet(a.EventTypes)
	m.TemplateID = types.StringPointerValue(a.TemplateID)
	m.Kind = types.StringValue(a.Kind)
	m.WebhookURL, m.SlackWebhookURL, m.EmailRecipients, m.ScriptID = types.StringNull(), nullUnlessKind(m.SlackWebhookURL, a.Kind == "slack"), types.StringNull(), types.StringNull()
	m.EmailAddresses = types.SetNull(types.StringType)
	m.WebhookSigningSecret = nullUnlessKind(m.WebhookSigningSecret, a.Kind == "webhook")
	switch a.Kind {
	case "webhook":
		m.WebhookURL = types.StringValue(a.Config.URL)
		if a.SigningSecret != nil {
			m.WebhookSigningSecret = types.StringValue(*a.SigningSecret)
		}
	case "slack":
		if known := m.SlackWebhookURL.ValueString(); !a.Config.WebhookURLSet || urlHost(known) != a.Config.WebhookURLHost {
			m.SlackWebhookURL = types.StringNull()
		}
	case "email":
		m.EmailRecipients = types.StringValue(a.Config.Recipients)
		if a.Config.Addresses != nil {
			m.EmailAddresses = stringSet(a.Config.Addresses)
		}
	case "script":
		m.ScriptID = types.StringValue(a.Config.ScriptID)
	}
}

// nullUnlessKind keeps a secret the state holds for the action's own kind; unknown becomes null.
func nullUnlessKind(v types.String, ofKind bool) types.String {
	if !ofKind || v.IsUnknown() {
		return types.StringNull()
	}
	return v
}

func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// config is the kind's config object for the API; a webhook's signing secret goes only into a create.
func (m *eventActionModel) config(ctx context.Context, creating bool, diags *diag.Diagnostics) map[string]any {
	switch m.Kind.ValueString() {
	case "webhook":
		c := map[string]any{"url": m.WebhookURL.ValueString()}
		if creating && !m.WebhookSigningSecret.IsNull() && !m.WebhookSigningSecret.IsUnknown() {
			c["signing_secret"] = m.WebhookSigningSecret.ValueString()
		}
		return c
	case "slack":
		return map[string]any{"webhook_url": m.SlackWebhookURL.ValueString()}
	case "email":
		c := map[string]any{"recipients": m.EmailRecipients.ValueString()}
		if !m.EmailAddresses.IsNull() {
			c["addresses"] = setStrings(ctx, m.EmailAddresses, diags)
		}
		return c
	default:
		return map[string]any{"script_id": m.ScriptID.ValueString()}
	}
}

// eventActionFieldNames maps the API's config fields to the attributes that hold them.
var eventActionFieldNames = map[string]string{
	"config.url":            "webhook_url",
	"config.signing_secret": "webhook_signing_secret",
	"config.webhook_url":    "slack_webhook_url",
	"config.recipients":     "email_recipients",
	"config.addresses":      "email_addresses",
	"config.script_id":      "script_id",
	"signing_secret":        "webhook_signing_secret",
}

func (r *eventActionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_event_action"
}

func (r *eventActionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "An event action: on chosen access-request events, Interim sends a signed webhook, posts to Slack, sends an email or runs a script. " +
			"Set `kind` and the attributes of that kind only (`webhook_*`, `slack_webhook_url`, `email_*`, `script_id`). " +
			"Secrets (the webhook signing secret, the Slack URL) are never shown by Interim: the provider keeps the values it sent or received in the state, marked sensitive.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The event action's id (a UUID).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Description: "The action's name (1 to 200 characters, no leading or trailing spaces).",
				Required:    true,
				Validators:  nameValidators(),
			},
			"enabled": schema.BoolAttribute{
				Description: "Whether the action fires. Defaults to true.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(true),
			},
			"event_types": schema.SetAttribute{
				Description: "The events that fire the action (at least one): " + strings.Join(requestEvents, ", ") + ".",
				ElementType: types.StringType,
				Required:    true,
				Validators:  []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(stringvalidator.OneOf(requestEvents...))},
			},
			"template_id": schema.StringAttribute{
				Description: "Only requests from this access request template fire the action; leave it out for every template.",
				Optional:    true,
				Validators:  []validator.String{idRule},
			},
			"kind": schema.StringAttribute{
				Description:   "What the action does: webhook, slack, email or script. It cannot change: a new kind replaces the action.",
				Required:      true,
				Validators:    []validator.String{stringvalidator.OneOf(eventActionKinds...)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"webhook_url": schema.StringAttribute{
				Description: "kind webhook: where Interim POSTs the signed JSON event, an absolute https URL without credentials (the server also refuses non-public hosts unless it allows private ones).",
				Optional:    true,
				Validators:  []validator.String{stringvalidator.LengthAtMost(2048), stringRule{description: "an https URL", problem: outboundURLProblem}},
			},
			"webhook_signing_secret": schema.StringAttribute{
				Description: "kind webhook: the Standard Webhooks signing secret (whsec_ and 24 to 64 bytes in base64). Leave it out and Interim generates one, which is kept here (sensitive). " +
					"Changing it rotates the secret to the new value at once. Interim never shows it again, so an imported action's secret is null until you set one.",
				Optional:   true,
				Computed:   true,
				Sensitive:  true,
				Validators: []validator.String{stringvalidator.RegexMatches(webhookSecretPattern, "must be whsec_ followed by 24 to 64 bytes in base64")},
			},
			"slack_webhook_url": schema.StringAttribute{
				Description: "kind slack: the Slack incoming-webhook URL. It is a secret: Interim stores it encrypted and shows only its host, so the provider keeps it in the state (sensitive); " +
					"a URL replaced outside OpenTofu (another host, or none) shows as a change to apply again. An imported action's URL is null until the next apply sets it.",
				Optional:   true,
				Sensitive:  true,
				Validators: []validator.String{stringvalidator.LengthAtMost(2048), stringRule{description: "an https URL", problem: outboundURLProblem}},
			},
			"email_recipients": schema.StringAttribute{
				Description: "kind email: who gets the email: requester, approvers (those the request notified) or addresses (the fixed `email_addresses`).",
				Optional:    true,
				Validators:  []validator.String{stringvalidator.OneOf(emailRecipients...)},
			},
			"email_addresses": schema.SetAttribute{
				Description: "kind email with email_recipients = addresses: 1 to 20 lowercase email addresses.",
				ElementType: types.StringType,
				Optional:    true,
				Validators: []validator.Set{
					setvalidator.SizeBetween(1, 20),
					setvalidator.ValueStringsAre(stringvalidator.LengthAtMost(320), stringvalidator.RegexMatches(emailPattern, "must be an email address in lower case")),
				},
			},
			"script_id": schema.StringAttribute{
				Description: "kind script: the id of the interim_script to run in the sandbox.",
				Optional:    true,
				Validators:  []validator.String{idRule},
			},
		},
	}
}

// kindAttributes are the attributes each kind requires (first) and allows.
var kindAttributes = map[string]struct{ required, allowed []string }{
	"webhook": {required: []string{"webhook_url"}, allowed: []string{"webhook_url", "webhook_signing_secret"}},
	"slack":   {required: []string{"slack_webhook_url"}, allowed: []string{"slack_webhook_url"}},
	"email":   {required: []string{"email_recipients"}, allowed: []string{"email_recipients", "email_addresses"}},
	"script":  {required: []string{"script_id"}, allowed: []string{"script_id"}},
}

// ValidateConfig checks that the kind's own attributes are set and no other kind's are, and the
// email rule that addresses go with recipients = addresses, as the server does.
func (r *eventActionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var config eventActionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || config.Kind.IsUnknown() || config.Kind.IsNull() {
		return
	}
	kind := config.Kind.ValueString()
	rules, ok := kindAttributes[kind]
	if !ok {
		return // the kind's own validator reports it
	}
	isSet := map[string]bool{
		"webhook_url":            !config.WebhookURL.IsNull(),
		"webhook_signing_secret": !config.WebhookSigningSecret.IsNull(),
		"slack_webhook_url":      !config.SlackWebhookURL.IsNull(),
		"email_recipients":       !config.EmailRecipients.IsNull(),
		"email_addresses":        !config.EmailAddresses.IsNull(),
		"script_id":              !config.ScriptID.IsNull(),
	}
	for _, name := range rules.required {
		if !isSet[name] {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Missing attribute", name+" is required when kind is "+kind+".")
		}
	}
	for name, set := range isSet {
		if set && !contains(rules.allowed, name) {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Attribute of another kind", name+" does not apply to kind "+kind+"; remove it.")
		}
	}
	if kind == "email" && !config.EmailRecipients.IsUnknown() {
		toAddresses := config.EmailRecipients.ValueString() == "addresses"
		if toAddresses && !isSet["email_addresses"] {
			resp.Diagnostics.AddAttributeError(path.Root("email_addresses"), "Missing email addresses", "email_addresses is required when email_recipients is addresses.")
		}
		if !toAddresses && isSet["email_addresses"] && !config.EmailRecipients.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("email_addresses"), "Email addresses not used", "email_addresses is allowed only when email_recipients is addresses.")
		}
	}
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}

// ModifyPlan: a webhook's signing secret is generated on create when not given, is the configured
// one when given, and otherwise stays as it is; every other kind has none.
func (r *eventActionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan eventActionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Kind.IsUnknown() {
		return
	}
	secret := path.Root("webhook_signing_secret")
	if plan.Kind.ValueString() != "webhook" {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, secret, types.StringNull())...)
		return
	}
	var configured types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, secret, &configured)...)
	if req.State.Raw.IsNull() || !configured.IsNull() {
		return // created (generated unless given), or set to the configured value
	}
	// Not configured: the secret stays what the state has, null included (an imported action),
	// where UseStateForUnknown would leave an imported action's secret unknown on every plan.
	var kept types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, secret, &kept)...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, secret, kept)...)
}

func (r *eventActionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *eventActionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan eventActionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{
		"name":        plan.Name.ValueString(),
		"enabled":     plan.Enabled.ValueBool(),
		"event_types": setStrings(ctx, plan.EventTypes, &resp.Diagnostics),
		"template_id": plan.TemplateID.ValueStringPointer(),
		"kind":        plan.Kind.ValueString(),
		"config":      plan.config(ctx, true, &resp.Diagnostics),
	}
	if resp.Diagnostics.HasError() {
		return
	}
	var created eventActionAPI
	if err := r.client.Post(ctx, "/api/v1/event-actions", body, &created); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not create the event action", err, resp.State.Schema, eventActionFieldNames)...)
		return
	}
	plan.fromAPI(created)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *eventActionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state eventActionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found eventActionAPI
	if !readFromAPI(ctx, r.client, "/api/v1/event-actions/"+PathEscape(state.ID.ValueString()), &found, resp, "the event action", eventActionFieldNames) {
		return
	}
	state.fromAPI(found)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *eventActionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state eventActionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{
		"name":        plan.Name.ValueString(),
		"enabled":     plan.Enabled.ValueBool(),
		"event_types": setStrings(ctx, plan.EventTypes, &resp.Diagnostics),
		"template_id": plan.TemplateID.ValueStringPointer(),
		"config":      plan.config(ctx, false, &resp.Diagnostics),
	}
	if resp.Diagnostics.HasError() {
		return
	}
	id := PathEscape(state.ID.ValueString())
	var updated eventActionAPI
	if err := r.client.Patch(ctx, "/api/v1/event-actions/"+id, body, &updated); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not update the event action", err, resp.State.Schema, eventActionFieldNames)...)
		return
	}
	secret := plan.WebhookSigningSecret
	plan.WebhookSigningSecret = state.WebhookSigningSecret
	plan.fromAPI(updated)
	// A signing secret given in the configuration that differs from the one in the state is rotated to.
	if plan.Kind.ValueString() == "webhook" && !secret.IsNull() && !secret.IsUnknown() && !secret.Equal(state.WebhookSigningSecret) {
		var rotated eventActionAPI
		if err := r.client.Post(ctx, "/api/v1/event-actions/"+id+"/rotate-secret", map[string]any{"signing_secret": secret.ValueString()}, &rotated); err != nil {
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not rotate the webhook signing secret", err, resp.State.Schema, eventActionFieldNames)...)
			return
		}
		plan.fromAPI(rotated)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *eventActionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state eventActionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.Delete(ctx, "/api/v1/event-actions/"+PathEscape(state.ID.ValueString()))
	if err != nil && !IsNotFound(err) {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not delete the event action", err, resp.State.Schema, nil)...)
	}
}

func (r *eventActionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
