package provider

import (
	"context"
	"net"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.Resource                = (*scriptResource)(nil)
	_ resource.ResourceWithConfigure   = (*scriptResource)(nil)
	_ resource.ResourceWithImportState = (*scriptResource)(nil)
)

const maxScriptSourceBytes = 256 * 1024

// hostLabel is one DNS label of an allowed host as the server stores it: lowercase.
var hostLabel = regexp.MustCompile(`^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$`)

// NewScriptResource is interim_script: JavaScript that trigger tasks and event actions run in Interim's sandbox.
func NewScriptResource() resource.Resource { return &scriptResource{} }

type scriptResource struct {
	client *Client
}

type scriptModel struct {
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	Description  types.String `tfsdk:"description"`
	Source       types.String `tfsdk:"source"`
	AllowedHosts types.Set    `tfsdk:"allowed_hosts"`
	SecretIDs    types.Set    `tfsdk:"secret_ids"`
}

type scriptAPI struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	Source       string   `json:"source"`
	AllowedHosts []string `json:"allowed_hosts"`
	SecretIDs    []string `json:"secret_ids"`
}

func (m *scriptModel) fromAPI(a scriptAPI) {
	m.ID = types.StringValue(a.ID)
	m.Name = types.StringValue(a.Name)
	m.Description = types.StringValue(a.Description)
	m.Source = types.StringValue(a.Source)
	m.AllowedHosts = stringSet(a.AllowedHosts)
	m.SecretIDs = stringSet(a.SecretIDs)
}

func (r *scriptResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_script"
}

func (r *scriptResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	emptySet := setdefault.StaticValue(types.SetValueMust(types.StringType, []attr.Value{}))
	resp.Schema = schema.Schema{
		Description: "A script: the body of an async JavaScript function that Interim runs in its sandbox for a template's trigger task or a script event action. " +
			"It reaches only the hosts it allows and reads only the script secrets granted to it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Description:   "The script's id (a UUID).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Description: "The script's name (1 to 200 characters, no leading or trailing spaces).",
				Required:    true,
				Validators:  nameValidators(),
			},
			"description": schema.StringAttribute{
				Description: "What the script does (at most 2000 characters). Defaults to an empty string.",
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString(""),
				Validators:  []validator.String{stringvalidator.LengthAtMost(2000)},
			},
			"source": schema.StringAttribute{
				Description: "The JavaScript source, at most 256 KiB; `file(\"provision.js\")` keeps it in its own file.",
				Required:    true,
				Validators: []validator.String{stringRule{description: "1 byte to 256 KiB", problem: func(s string) string {
					if len(s) == 0 || len(s) > maxScriptSourceBytes {
						return "must be between 1 byte and 256 KiB"
					}
					return ""
				}}},
			},
			"allowed_hosts": schema.SetAttribute{
				Description: "The hosts `http.fetch` may reach, matched exactly: lowercase names such as api.example.com (xn-- form for international names), " +
					"IPv4 or IPv6 addresses (IPv6 without brackets); no scheme, port, path or wildcard. At most 50. Defaults to none: no HTTP at all.",
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     emptySet,
				Validators:  []validator.Set{setvalidator.SizeAtMost(50), setvalidator.ValueStringsAre(stringRule{description: "a bare host name", problem: allowedHostProblem})},
			},
			"secret_ids": schema.SetAttribute{
				Description: "The ids of the script secrets (interim_script_secret) this script may read with secrets.get. At most 50. Defaults to none.",
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     emptySet,
				Validators:  []validator.Set{setvalidator.SizeAtMost(50), setvalidator.ValueStringsAre(idRule)},
			},
		},
	}
}

// allowedHostProblem mirrors the server's normalised host form, which is what it stores and
// returns: a value in any other form would read back different from the configuration.
func allowedHostProblem(host string) string {
	if ip := net.ParseIP(host); ip != nil {
		if strings.Contains(host, ":") && ip.String() != host {
			return "must be written in its canonical form " + ip.String()
		}
		return ""
	}
	if strings.HasPrefix(host, "[") {
		return "must be written without brackets"
	}
	if strings.ToLower(host) != host {
		return "must be lowercase (Interim stores host names in lowercase)"
	}
	if host == "" || len(host) > 253 || strings.ContainsAny(host, "/:?#@ ") {
		return "must be a bare host name such as api.example.com: no scheme, port or path"
	}
	for _, label := range strings.Split(host, ".") {
		if !hostLabel.MatchString(label) {
			return "must be a bare host name such as api.example.com: no scheme, port, path or wildcard"
		}
	}
	return ""
}

func (r *scriptResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *scriptResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan scriptModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{
		"name":          plan.Name.ValueString(),
		"description":   plan.Description.ValueString(),
		"source":        plan.Source.ValueString(),
		"allowed_hosts": setStrings(ctx, plan.AllowedHosts, &resp.Diagnostics),
		"secret_ids":    setStrings(ctx, plan.SecretIDs, &resp.Diagnostics),
	}
	if resp.Diagnostics.HasError() {
		return
	}
	var created scriptAPI
	if err := r.client.Post(ctx, "/api/v1/scripts", body, &created); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not create the script", err, resp.State.Schema, nil)...)
		return
	}
	plan.fromAPI(created)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *scriptResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state scriptModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found scriptAPI
	if !readFromAPI(ctx, r.client, "/api/v1/scripts/"+PathEscape(state.ID.ValueString()), &found, resp, "the script", nil) {
		return
	}
	state.fromAPI(found)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *scriptResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan scriptModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := map[string]any{
		"name":          plan.Name.ValueString(),
		"description":   plan.Description.ValueString(),
		"source":        plan.Source.ValueString(),
		"allowed_hosts": setStrings(ctx, plan.AllowedHosts, &resp.Diagnostics),
		"secret_ids":    setStrings(ctx, plan.SecretIDs, &resp.Diagnostics),
	}
	if resp.Diagnostics.HasError() {
		return
	}
	var updated scriptAPI
	if err := r.client.Patch(ctx, "/api/v1/scripts/"+PathEscape(plan.ID.ValueString()), body, &updated); err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not update the script", err, resp.State.Schema, nil)...)
		return
	}
	plan.fromAPI(updated)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *scriptResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state scriptModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.Delete(ctx, "/api/v1/scripts/"+PathEscape(state.ID.ValueString()))
	if err != nil && !IsNotFound(err) {
		// A 409 script_in_use names the templates whose trigger task runs it.
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not delete the script", err, resp.State.Schema, nil)...)
	}
}

func (r *scriptResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
