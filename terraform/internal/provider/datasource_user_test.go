package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccUserDataSource_byEmail(t *testing.T) {
	carol := createThroughAPI(t, "/api/v1/users", map[string]any{"email": "carol@example.com", "name": "Carol", "is_admin": true})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/users/"+carol) })

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: exampleConfig(t, "data-sources/interim_user/data-source.tf"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.interim_user.carol", "id", carol),
					resource.TestCheckResourceAttr("data.interim_user.carol", "name", "Carol"),
					resource.TestCheckResourceAttr("data.interim_user.carol", "disabled", "false"),
					resource.TestCheckOutput("carol_is_admin", "true"),
				),
			},
			{
				// Any case finds the user; the attribute keeps what was written.
				Config: testConfig(`
data "interim_user" "carol" {
  email = "Carol@Example.COM"
}
`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.interim_user.carol", "id", carol),
					resource.TestCheckResourceAttr("data.interim_user.carol", "email", "Carol@Example.COM"),
				),
			},
			{
				Config: testConfig(`
data "interim_user" "nobody" {
  email = "nobody@example.com"
}
`),
				ExpectError: regexp.MustCompile(`(?s)No such user.*no user with the email "nobody@example.com"`),
			},
			{
				// Not an email at all: the server's 400 names the parameter, shown on the attribute.
				Config: testConfig(`
data "interim_user" "bad" {
  email = "not-an-email"
}
`),
				ExpectError: regexp.MustCompile(`(?s)Could not look up the user.*\d+:\s+email = "not-an-email".*Interim rejected this value`),
			},
		},
	})
}
