package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

func TestAccGroup_lifecycle(t *testing.T) {
	created := exampleConfig(t, "resources/interim_group/resource.tf")
	updated := replaceOnce(t, created, "Engineers who lead the incident response rota.", "Leads of the incident response rota.")
	const address = "interim_group.on_call_leads"

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_group", "/api/v1/groups/"),
		Steps: []resource.TestStep{
			{
				// Create; plugin-testing then plans again and fails on any diff (an empty plan).
				Config: created,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(address, "id", uuidPattern),
					resource.TestCheckResourceAttr(address, "name", "On-call leads"),
					resource.TestCheckResourceAttr(address, "description", "Engineers who lead the incident response rota."),
				),
			},
			{
				// An in-place update, never a replacement.
				Config: updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.TestCheckResourceAttr(address, "description", "Leads of the incident response rota."),
			},
			{
				// `tofu import` by id.
				ResourceName:      address,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// An import {} block with the id.
				Config:          updated,
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
		},
	})
}

func TestAccGroup_recreatedAfterOutsideDelete(t *testing.T) {
	config := testConfig(`
resource "interim_group" "drift" {
  name = "Deleted in the portal"
}
`)
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_group", "/api/v1/groups/"),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("interim_group.drift", "description", ""),
					captureAttr("interim_group.drift", "id", &id),
				),
			},
			{
				// Someone deletes the group in the portal: the next plan creates it again.
				PreConfig: func() { deleteThroughAPI(t, "/api/v1/groups/"+id) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("interim_group.drift", plancheck.ResourceActionCreate)},
				},
				Check: resource.TestCheckResourceAttrWith("interim_group.drift", "id", func(value string) error {
					return expectDifferent(id, value)
				}),
			},
		},
	})
}

func TestAccGroup_invalidNameFailsAtPlan(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      testConfig(`resource "interim_group" "bad" { name = " padded " }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Value Match.*must not start or end with white space`),
			},
		},
	})
}

func TestAccGroup_serverRejectionNamesTheAttribute(t *testing.T) {
	// A name the plan accepts but the server refuses (it already exists): the 409 becomes a
	// diagnostic carrying the server's message.
	taken := createThroughAPI(t, "/api/v1/groups", map[string]any{"name": "Already taken"})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/groups/"+taken) })
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: testConfig(`
resource "interim_group" "dup" {
  description = "A second group of the same name"
  name        = "Already taken"
}
`),
				// The diagnostic points at the name line, not only at the resource.
				ExpectError: regexp.MustCompile(`(?s)Could not create the group.*\d+:\s+name\s+= "Already taken".*a group with this name already exists`),
			},
		},
	})
}

func TestAccGroup_deleteRefusedWhileATemplateUsesIt(t *testing.T) {
	config := testConfig(`
resource "interim_group" "approvers" {
  name = "Approvers a template needs"
}
`)
	var groupID, templateID string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_group", "/api/v1/groups/"),
		Steps: []resource.TestStep{
			{Config: config, Check: captureAttr("interim_group.approvers", "id", &groupID)},
			{
				// A template made in the portal names the group as approvers: the destroy fails with the server's 409.
				PreConfig: func() { templateID = createTemplateUsing(t, groupID, "Template holding the group") },
				Config:    config,
				Destroy:   true,
				ExpectError: regexp.MustCompile(
					`(?s)Could not delete the group.*409 Conflict: access-request templates use this group:\s+Template\s+holding\s+the\s+group`),
			},
			{
				// Once the template is gone the final destroy succeeds (and CheckDestroy sees the 404).
				PreConfig: func() { deleteThroughAPI(t, "/api/v1/access-request-templates/"+templateID) },
				Config:    config,
			},
		},
	})
}

// createTemplateUsing makes, through the API, an application with one mapping and a template
// whose approvers are groupID; the application goes away when the test ends.
func createTemplateUsing(t *testing.T, groupID, name string) string {
	t.Helper()
	appID := createThroughAPI(t, "/api/v1/applications", map[string]any{"name": name + " app", "redirect_uris": []string{"https://app.example.test/callback"}})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/applications/"+appID) })
	mappingID := createThroughAPI(t, "/api/v1/mappings", map[string]any{"app_id": appID, "claim": "role", "value": "reader", "group_ids": []string{groupID}})
	return createThroughAPI(t, "/api/v1/access-request-templates", map[string]any{
		"name": name, "app_id": appID, "mapping_ids": []string{mappingID}, "allowed_durations": []int{60}, "approver_group_ids": []string{groupID},
	})
}
