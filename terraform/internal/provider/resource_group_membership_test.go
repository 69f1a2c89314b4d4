package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// membershipGone: after destroy, the membership (or its group) answers 404.
var membershipGone = checkDestroyedAt("interim_group_membership", func(attributes map[string]string) string {
	return membershipPath(attributes["group_id"], attributes["user_id"])
})

func TestAccGroupMembership_lifecycle(t *testing.T) {
	bob := createThroughAPI(t, "/api/v1/users", map[string]any{"email": "bob@example.com", "name": "Bob"})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/users/"+bob) })
	created := exampleConfig(t, "resources/interim_group_membership/resource.tf")
	// Expressed with an offset: the same instant stays the same, with no diff.
	later := replaceOnce(t, created, `"2099-01-31T17:00:00Z"`, `"2099-03-01T09:30:00+01:00"`)
	permanent := replaceOnce(t, created, `  expires_at = "2099-01-31T17:00:00Z"`+"\n", "")
	const address = "interim_group_membership.bob_on_call"

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             membershipGone,
		Steps: []resource.TestStep{
			{
				Config: created,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "user_id", bob),
					resource.TestCheckResourceAttrPair(address, "group_id", "interim_group.on_call", "id"),
					resource.TestCheckResourceAttr(address, "expires_at", "2099-01-31T17:00:00Z"),
					checkMembershipInAPI(address, "2099-01-31T17:00:00.000Z"),
				),
			},
			{
				Config: later,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "expires_at", "2099-03-01T09:30:00+01:00"),
					checkMembershipInAPI(address, "2099-03-01T08:30:00.000Z"),
				),
			},
			{
				Config: permanent,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(address, "expires_at"),
					checkMembershipInAPI(address, ""),
				),
			},
			{
				ResourceName:      address,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				Config:          permanent,
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
		},
	})
}

func TestAccGroupMembership_removedInPortalIsAddedAgain(t *testing.T) {
	erin := createThroughAPI(t, "/api/v1/users", map[string]any{"email": "erin@example.com", "name": "Erin"})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/users/"+erin) })
	config := testConfig(`
resource "interim_group" "auditors" {
  name = "Auditors"
}

resource "interim_group_membership" "erin" {
  group_id = interim_group.auditors.id
  user_id  = "` + erin + `"
}
`)
	var groupID string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             membershipGone,
		Steps: []resource.TestStep{
			{Config: config, Check: captureAttr("interim_group.auditors", "id", &groupID)},
			{
				PreConfig: func() { deleteThroughAPI(t, membershipPath(groupID, erin)) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("interim_group_membership.erin", plancheck.ResourceActionCreate)},
				},
				Check: checkMembershipInAPI("interim_group_membership.erin", ""),
			},
		},
	})
}

func TestAccGroupMembership_badValues(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: testConfig(`
resource "interim_group_membership" "x" {
  group_id   = "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0e"
  user_id    = "0190c1f1-1b2c-7d3e-8f4a-5b6c7d8e9f0a"
  expires_at = "next tuesday"
}
`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid instant.*"next tuesday" is not an RFC 3339 instant`),
			},
			{
				// Valid at plan time, refused by the server: the diagnostic points at expires_at.
				Config: testConfig(`
resource "interim_group" "past" {
  name = "Membership in the past"
}

data "interim_user" "admin" {
  email = "admin@example.test"
}

resource "interim_group_membership" "x" {
  group_id   = interim_group.past.id
  user_id    = data.interim_user.admin.id
  expires_at = "2001-01-01T00:00:00Z"
}
`),
				ExpectError: regexp.MustCompile(`(?s)Could not add the group member.*\d+:\s+expires_at = "2001-01-01T00:00:00Z".*must be in the future`),
			},
			{
				Config: testConfig(`
resource "interim_group_membership" "x" {
  group_id = "g"
  user_id  = "u"
}
`),
				ResourceName:  "interim_group_membership.x",
				ImportState:   true,
				ImportStateId: "only-one-part",
				ExpectError:   regexp.MustCompile(`Import a group membership as <group_id>/<user_id>`),
			},
		},
	})
}

// checkMembershipInAPI reads the membership through the API and compares its expires_at ("" for none).
func checkMembershipInAPI(address, expiresAt string) resource.TestCheckFunc {
	return func(state *terraform.State) error {
		rs := state.RootModule().Resources[address]
		var member memberAPI
		if err := accServer.Client.Get(context.Background(), membershipPath(rs.Primary.Attributes["group_id"], rs.Primary.Attributes["user_id"]), &member); err != nil {
			return err
		}
		got := ""
		if member.ExpiresAt != nil {
			got = *member.ExpiresAt
		}
		if got != expiresAt {
			return fmt.Errorf("the API says expires_at %q, expected %q", got, expiresAt)
		}
		return nil
	}
}
