package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccGroupDataSource_byName(t *testing.T) {
	security := createThroughAPI(t, "/api/v1/groups", map[string]any{"name": "Security team", "description": "Made in the portal"})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/groups/"+security) })
	// A group whose name contains the other's: an exact lookup must not pick it.
	wider := createThroughAPI(t, "/api/v1/groups", map[string]any{"name": "Security team leads"})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/groups/"+wider) })

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: exampleConfig(t, "data-sources/interim_group/data-source.tf"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.interim_group.security", "id", security),
					resource.TestCheckResourceAttr("data.interim_group.security", "description", "Made in the portal"),
					resource.TestCheckOutput("security_group_id", security),
				),
			},
			{
				// The whole name in any case (DESIGN): the portal's capitalisation need not be repeated.
				Config: testConfig(`
data "interim_group" "any_case" {
  name = "security TEAM"
}
`),
				Check: resource.TestCheckResourceAttr("data.interim_group.any_case", "id", security),
			},
			{
				Config: testConfig(`
data "interim_group" "missing" {
  name = "security squad"
}
`),
				ExpectError: regexp.MustCompile(`(?s)No such group.*\d+:\s+name = "security squad".*no group named "security squad"`),
			},
			{
				// Names that differ only in case are both legal: the lookup names the problem instead of picking one.
				PreConfig: func() {
					shouting := createThroughAPI(t, "/api/v1/groups", map[string]any{"name": "SECURITY TEAM"})
					t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/groups/"+shouting) })
				},
				Config: testConfig(`
data "interim_group" "ambiguous" {
  name = "Security team"
}
`),
				ExpectError: regexp.MustCompile(`(?s)\d+:\s+name = "Security team".*several groups are named`),
			},
		},
	})
}
