package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

var crmToken = config.Variables{"crm_api_token": config.StringVariable("crm-token-v1")}

func TestAccScript_lifecycle(t *testing.T) {
	created := exampleConfig(t, "resources/interim_script/resource.tf")
	updated := replaceOnce(t, created, `allowed_hosts = ["crm.example.com"]`, `allowed_hosts = ["crm.example.com", "10.0.0.7", "2001:db8::1"]`)
	updated = replaceOnce(t, updated, `log.info('CRM answered ' + res.status);`, `log.info('CRM answered', res.status);`)
	reordered := replaceOnce(t, updated, `["crm.example.com", "10.0.0.7", "2001:db8::1"]`, `["2001:db8::1", "crm.example.com", "10.0.0.7"]`)
	const address = "interim_script.provision_crm"
	var id string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_script", "/api/v1/scripts/"),
		Steps: []resource.TestStep{
			{
				Config:          created,
				ConfigVariables: crmToken,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(address, "id", uuidPattern),
					resource.TestCheckResourceAttr(address, "allowed_hosts.#", "1"),
					resource.TestCheckResourceAttrPair(address, "secret_ids.0", "interim_script_secret.crm_api_token", "id"),
					resource.TestCheckResourceAttrWith(address, "source", func(v string) error {
						if !strings.Contains(v, "secrets.get('CRM_API_TOKEN')") {
							return fmt.Errorf("unexpected source %q", v)
						}
						return nil
					}),
					captureAttr(address, "id", &id),
				),
			},
			{
				Config:          updated,
				ConfigVariables: crmToken,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "allowed_hosts.#", "3"),
					// Refreshed by this step's plan: the secret lists the script granted it.
					resource.TestCheckResourceAttrPair("interim_script_secret.crm_api_token", "script_ids.0", address, "id"),
					checkScriptInAPI(&id, func(s scriptAPI) error {
						if len(s.AllowedHosts) != 3 || !strings.Contains(s.Source, "log.info('CRM answered', res.status)") {
							return fmt.Errorf("the API has %+v", s)
						}
						return nil
					}),
				),
			},
			{
				Config:          reordered,
				ConfigVariables: crmToken,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				ResourceName:      address,
				ImportState:       true,
				ImportStateVerify: true,
				ConfigVariables:   crmToken,
			},
			{
				Config:          reordered,
				ConfigVariables: crmToken,
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
		},
	})
}

func TestAccScript_recreatedAfterOutsideDelete(t *testing.T) {
	cfg := testConfig(`
resource "interim_script" "drift" {
  name   = "Deleted in the portal"
  source = "return 1"
}
`)
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_script", "/api/v1/scripts/"),
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureAttr("interim_script.drift", "id", &id)},
			{
				PreConfig: func() { deleteThroughAPI(t, "/api/v1/scripts/"+id) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("interim_script.drift", plancheck.ResourceActionCreate)},
				},
				Check: resource.TestCheckResourceAttrWith("interim_script.drift", "id", func(v string) error { return expectDifferent(id, v) }),
			},
		},
	})
}

func TestAccScript_invalidHostFailsAtPlan(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: testConfig(`
resource "interim_script" "bad" {
  name          = "Scheme in a host"
  source        = "return 1"
  allowed_hosts = ["https://crm.example.com"]
}
`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)allowed_hosts.*must be a bare host name`),
			},
			{
				Config: testConfig(`
resource "interim_script" "bad" {
  name          = "Upper case"
  source        = "return 1"
  allowed_hosts = ["CRM.example.com"]
}
`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)allowed_hosts.*must be lowercase`),
			},
		},
	})
}

func TestAccScript_serverRejectionNamesTheAttribute(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				// A well-formed id of a secret that does not exist: only the server can tell.
				Config: testConfig(`
resource "interim_script" "ghost" {
  name       = "Granted a ghost"
  source     = "return 1"
  secret_ids = ["0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0f"]
}
`),
				ExpectError: regexp.MustCompile(`(?s)Could not create the script.*secret_ids.*no script secret has the id`),
			},
		},
	})
}

func checkScriptInAPI(id *string, check func(scriptAPI) error) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var found scriptAPI
		if err := accServer.Client.Get(context.Background(), "/api/v1/scripts/"+*id, &found); err != nil {
			return err
		}
		return check(found)
	}
}
