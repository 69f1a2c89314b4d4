package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// Back-channel logout (issue 13 §1): the URI and the sid requirement are set, read back, changed
// and removed through interim_application; a malformed URI fails at plan (the server's outbound
// policy, which refuses private hosts, is tested in test/backchannel-logout-api.test.ts: this
// harness allows them), and the data source shows both settings.
func TestAccApplication_backchannelLogout(t *testing.T) {
	const address = "interim_application.bcl"
	config := func(extra string) string {
		return fmt.Sprintf(`
resource "interim_application" "bcl" {
  name          = "Back-channel logout console"
  redirect_uris = ["https://bcl-console.example.com/oidc/callback"]
  %s
}

data "interim_application" "bcl" {
  name       = interim_application.bcl.name
  depends_on = [interim_application.bcl]
}
`, extra)
	}
	withURI := config(`backchannel_logout_uri = "https://bcl-console.example.com/oidc/backchannel-logout"
  backchannel_logout_session_required = true`)
	var id string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_application", "/api/v1/applications/"),
		Steps: []resource.TestStep{
			{
				Config:      config(`backchannel_logout_uri = "ftp://bcl-console.example.com/logout"`),
				ExpectError: regexp.MustCompile(`(?s)backchannel_logout_uri.*must use https`),
			},
			{
				Config: withURI,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "backchannel_logout_uri", "https://bcl-console.example.com/oidc/backchannel-logout"),
					resource.TestCheckResourceAttr(address, "backchannel_logout_session_required", "true"),
					resource.TestCheckResourceAttr("data.interim_application.bcl", "backchannel_logout_uri", "https://bcl-console.example.com/oidc/backchannel-logout"),
					resource.TestCheckResourceAttr("data.interim_application.bcl", "backchannel_logout_session_required", "true"),
					captureAttr(address, "id", &id),
					checkApplicationInAPI(&id, func(a applicationAPI) error {
						if a.BackchannelLogoutURI == nil || *a.BackchannelLogoutURI != "https://bcl-console.example.com/oidc/backchannel-logout" || !a.BackchannelLogoutSession {
							return fmt.Errorf("unexpected back-channel logout settings in the API: %+v", a)
						}
						return nil
					}),
				),
			},
			{
				// Credentials in the URI fail at plan too, and the application keeps its URI.
				Config:      config(`backchannel_logout_uri = "https://user:pw@bcl-console.example.com/logout"`),
				ExpectError: regexp.MustCompile(`(?s)backchannel_logout_uri.*must not contain\s+credentials`),
			},
			{
				// Removing the attribute removes the URI in place; the sid requirement returns to its default.
				Config: config(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(address, "backchannel_logout_uri"),
					resource.TestCheckResourceAttr(address, "backchannel_logout_session_required", "false"),
					checkApplicationInAPI(&id, func(a applicationAPI) error {
						if a.BackchannelLogoutURI != nil || a.BackchannelLogoutSession {
							return fmt.Errorf("the back-channel logout settings were not removed: %+v", a)
						}
						return nil
					}),
				),
			},
		},
	})
}
