package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

var _ datasource.DataSourceWithConfigure = (*groupDataSource)(nil)

// NewGroupDataSource is data.interim_group: an existing group found by its whole name, in any case.
func NewGroupDataSource() datasource.DataSource { return &groupDataSource{} }

type groupDataSource struct {
	client *Client
}

func (d *groupDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_group"
}

func (d *groupDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Looks up an existing group by its whole name in any case, e.g. one made in the portal, to use its id elsewhere. Two groups whose names differ only in case make the lookup fail: use the id then.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Description: "The group's whole name, matched ignoring case.",
				Required:    true,
				Validators:  nameValidators(),
			},
			"id": schema.StringAttribute{
				Description: "The group's id (a UUID).",
				Computed:    true,
			},
			"description": schema.StringAttribute{
				Description: "What the group is for.",
				Computed:    true,
			},
		},
	}
}

func (d *groupDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (d *groupDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var config groupModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var found groupAPI
	err := d.client.Get(ctx, "/api/v1/groups/by-name/"+PathEscape(config.Name.ValueString()), &found)
	if IsNotFound(err) {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "No such group", "Interim has no group named "+quote(config.Name.ValueString())+" (the whole name, in any case).")
		return
	}
	if err != nil {
		resp.Diagnostics.Append(apiErrorDiagnostics(ctx, "Could not look up the group", err, resp.State.Schema, map[string]string{"params.name": "name", "group_name_ambiguous": "name"})...)
		return
	}
	config.fromAPI(found)
	resp.Diagnostics.Append(resp.State.Set(ctx, &config)...)
}
