package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*userDataSource)(nil)

// NewUserDataSource is data.interim_user: an existing user found by email.
func NewUserDataSource() datasource.DataSource { return &userDataSource{} }

type userDataSource struct {
	client *Client
}

type userDataModel struct {
	ID       types.String `tfsdk:"id"`
	Email    types.String `tfsdk:"email"`
	Name     types.String `tfsdk:"name"`
	IsAdmin  types.Bool   `tfsdk:"is_admin"`
	Disabled types.Bool   `tfsdk:"disabled"`
}

func (d *userDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_user"
}

func (d *userDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Looks up an existing user by email, e.g. to add them to a group with `interim_group_membership`.",
		Attributes: map[string]schema.Attribute{
			"email": schema.StringAttribute{
				Description: "The user's email address; any case matches, and `email` keeps what you wrote.",
				Required:    true,
				Validators:  []validator.String{stringvalidator.LengthBetween(3, 320)},
			},
			"id": schema.StringAttribute{
				Description: "The user's id (a UUID).",
				Computed:    true,
			},
			"name": schema.StringAttribute{
				Description: "The user's display name.",
				Computed:    true,
			},
			"is_admin": schema.BoolAttribute{
				Description: "Whether the user is an admin.",
				Computed:    true,
			},
			"disabled": schema.BoolAttribute{
				Description: "Whether the user is disabled.",
				Computed:    true,
			},
		},
	}
}

func (d *userDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (d *userDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config userDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	email := config.Email.ValueString()
	var found userAPI
	err := d.client.Get(ctx, "/api/v1/users/by-email/"+PathEscape(strings.TrimSpace(email)), &found)
	if IsNotFound(err) {
		resp.Diagnostics.AddAttributeError(path.Root("email"), "No such user", "Interim has no user with the email "+quote(email)+".")
		return
	}
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not look up the user", err, resp.State.Schema, map[string]string{"params.email": "email"})...)
		return
	}
	config.ID = types.StringValue(found.ID)
	config.Name = types.StringValue(found.Name)
	config.IsAdmin = types.BoolValue(found.IsAdmin)
	config.Disabled = types.BoolValue(found.Disabled)
	resp.Diagnostics.Append(resp.State.Set(ctx, &config)...)
}
