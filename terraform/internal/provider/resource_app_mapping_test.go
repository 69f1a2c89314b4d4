package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

func TestAccAppMapping_lifecycle(t *testing.T) {
	created := exampleConfig(t, "resources/interim_app_mapping/resource.tf")
	// A second group, and a list value that becomes one string: an in-place update of each.
	extraGroup := `
resource "interim_group" "db_auditors" {
  name = "Production database auditors"
}
`
	updated := replaceOnce(t, created, `value_list  = ["readonly"]`, `value_list  = ["readonly", "reporting"]`)
	updated = replaceOnce(t, updated, `group_ids   = [interim_group.db_readers.id]`, `group_ids   = [interim_group.db_readers.id, interim_group.db_auditors.id]`) + extraGroup
	updated = replaceOnce(t, updated, `value_bool = true`, `value_string = "on-call"`)
	reordered := replaceOnce(t, updated, `[interim_group.db_readers.id, interim_group.db_auditors.id]`, `[interim_group.db_auditors.id, interim_group.db_readers.id]`)
	const readonly, breakGlass = "interim_app_mapping.prod_readonly", "interim_app_mapping.prod_break_glass"
	var id string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_app_mapping", "/api/v1/mappings/"),
		Steps: []resource.TestStep{
			{
				Config: created,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(readonly, "id", uuidPattern),
					resource.TestCheckResourceAttrPair(readonly, "app_id", "interim_application.prod_db", "id"),
					resource.TestCheckResourceAttr(readonly, "claim", "roles"),
					resource.TestCheckResourceAttr(readonly, "value_list.#", "1"),
					resource.TestCheckResourceAttr(readonly, "value_list.0", "readonly"),
					resource.TestCheckNoResourceAttr(readonly, "value_string"),
					resource.TestCheckResourceAttr(breakGlass, "value_bool", "true"),
					captureAttr(readonly, "id", &id),
					checkMappingValueInAPI(&id, `["readonly"]`),
				),
			},
			{
				Config: updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(readonly, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(breakGlass, plancheck.ResourceActionUpdate),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(readonly, "value_list.#", "2"),
					resource.TestCheckResourceAttr(readonly, "group_ids.#", "2"),
					resource.TestCheckResourceAttr(breakGlass, "value_string", "on-call"),
					resource.TestCheckNoResourceAttr(breakGlass, "value_bool"),
					checkMappingValueInAPI(&id, `["readonly","reporting"]`),
				),
			},
			{
				// Group ids are a set: another order is no change.
				Config: reordered,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				ResourceName:      readonly,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				ResourceName:      breakGlass,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				Config:          reordered,
				ResourceName:    readonly,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
		},
	})
}

func TestAccAppMapping_recreatedAfterOutsideDelete(t *testing.T) {
	config := exampleConfig(t, "resources/interim_app_mapping/resource.tf")
	const address = "interim_app_mapping.prod_readonly"
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_app_mapping", "/api/v1/mappings/"),
		Steps: []resource.TestStep{
			{Config: config, Check: captureAttr(address, "id", &id)},
			{
				PreConfig: func() { deleteThroughAPI(t, "/api/v1/mappings/"+id) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionCreate)},
				},
				Check: resource.TestCheckResourceAttrWith(address, "id", func(v string) error { return expectDifferent(id, v) }),
			},
		},
	})
}

func TestAccAppMapping_invalidValuesFailAtPlan(t *testing.T) {
	mapping := func(body string) string {
		return testConfig(`
resource "interim_app_mapping" "bad" {
  app_id    = "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0e"
  group_ids = ["0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0f"]
` + body + `
}
`)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      mapping(`claim = "sub"` + "\n" + `value_string = "x"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)claim.*is reserved`),
			},
			{
				Config:      mapping(`claim = "roles"` + "\n" + `value_string = "x"` + "\n" + `value_bool = true`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination.*value_string`),
			},
			{
				Config:      mapping(`claim = "roles"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Combination`),
			},
		},
	})
}

func TestAccAppMapping_serverRejectionNamesTheAttribute(t *testing.T) {
	app := createThroughAPI(t, "/api/v1/applications", map[string]any{"name": "Mapping rejection", "redirect_uris": []string{"https://reject.example.com/cb"}})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/applications/"+app) })
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				// A well-formed id of a group that does not exist: only the server can tell.
				Config: testConfig(`
resource "interim_app_mapping" "ghost" {
  app_id       = "` + app + `"
  claim        = "roles"
  value_string = "x"
  group_ids    = ["0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0f"]
}
`),
				ExpectError: regexp.MustCompile(`(?s)Could not create the mapping.*group_ids.*no such group`),
			},
		},
	})
}

// checkMappingValueInAPI compares the mapping's value, as JSON, with what the API returns.
func checkMappingValueInAPI(id *string, wantJSON string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var found appMappingAPI
		if err := accServer.Client.Get(context.Background(), "/api/v1/mappings/"+*id, &found); err != nil {
			return err
		}
		var got, want any
		if err := json.Unmarshal(found.Value, &got); err != nil {
			return err
		}
		_ = json.Unmarshal([]byte(wantJSON), &want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("mapping value in the API is %s, want %s", found.Value, wantJSON)
		}
		return nil
	}
}
