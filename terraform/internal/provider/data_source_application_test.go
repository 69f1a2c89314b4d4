package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccApplicationDataSource_byName(t *testing.T) {
	id := createThroughAPI(t, "/api/v1/applications", map[string]any{
		"name": "CRM", "redirect_uris": []string{"https://crm.example.com/cb"}, "id_token_signed_response_alg": "RS256",
	})
	// Names that contain "CRM" but are not it: the lookup wants the exact name, in any case.
	other := createThroughAPI(t, "/api/v1/applications", map[string]any{"name": "CRM staging", "redirect_uris": []string{"https://crm-staging.example.com/cb"}})
	t.Cleanup(func() {
		deleteThroughAPI(t, "/api/v1/applications/"+id)
		deleteThroughAPI(t, "/api/v1/applications/"+other)
	})
	const address = "data.interim_application.crm"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: exampleConfig(t, "data-sources/interim_application/data-source.tf"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "id", id),
					resource.TestCheckResourceAttr(address, "client_id", id),
					resource.TestCheckResourceAttr(address, "name", "CRM"),
					resource.TestCheckResourceAttr(address, "redirect_uris.0", "https://crm.example.com/cb"),
					resource.TestCheckResourceAttr(address, "id_token_signed_response_alg", "RS256"),
					resource.TestCheckResourceAttr(address, "token_endpoint_auth_method", "client_secret_basic"),
					resource.TestCheckNoResourceAttr(address, "client_secret"),
					resource.TestCheckOutput("crm_client_id", id),
				),
			},
			{
				Config: testConfig(`data "interim_application" "crm" { name = "crm" }`),
				Check:  resource.TestCheckResourceAttr(address, "id", id),
			},
			{
				Config:      testConfig(`data "interim_application" "none" { name = "No such application" }`),
				ExpectError: regexp.MustCompile(`(?s)No such application.*No live application is named "No such application"`),
			},
		},
	})
}
