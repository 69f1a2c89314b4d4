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

var clientSecretPattern = regexp.MustCompile(`^ics_`)

func TestAccApplication_lifecycle(t *testing.T) {
	created := exampleConfig(t, "resources/interim_application/resource.tf")
	updated := replaceOnce(t, created, "access_token_ttl_secs        = 900", "access_token_ttl_secs        = 1200")
	updated = replaceOnce(t, updated, `"https://db-console.example.com/oidc/callback"`, `"https://db-console.example.com/oidc/callback", "http://localhost:8080/callback"`)
	rotated := replaceOnce(t, updated, `client_secret_rotation = "2026-12"`, `client_secret_rotation = "2027-01"`)
	const address = "interim_application.prod_db"
	var id, secret string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_application", "/api/v1/applications/"),
		Steps: []resource.TestStep{
			{
				Config: created,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(address, "id", uuidPattern),
					resource.TestCheckResourceAttrPair(address, "client_id", address, "id"),
					resource.TestMatchResourceAttr(address, "client_secret", clientSecretPattern),
					resource.TestCheckResourceAttr(address, "grant_types.#", "2"),
					resource.TestCheckResourceAttr(address, "id_token_signed_response_alg", "ES256"),
					resource.TestCheckResourceAttr(address, "refresh_token_ttl_secs", "86400"),
					resource.TestCheckResourceAttr(address, "first_party", "false"),
					captureAttr(address, "id", &id),
					captureAttr(address, "client_secret", &secret),
					checkApplicationInAPI(&id, func(a applicationAPI) error {
						if a.AccessTokenTTLSecs != 900 || a.Name != "Production database console" || a.ClientSecret != nil {
							return fmt.Errorf("unexpected application in the API: %+v", a)
						}
						return nil
					}),
				),
			},
			{
				// An in-place update keeps the secret (the plan shows no change to it).
				Config: updated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "access_token_ttl_secs", "1200"),
					resource.TestCheckResourceAttr(address, "redirect_uris.#", "2"),
					resource.TestCheckResourceAttrWith(address, "client_secret", func(v string) error {
						if v != secret {
							return fmt.Errorf("the secret changed without a rotation")
						}
						return nil
					}),
					resource.TestCheckResourceAttrWith(address, "id", func(v string) error {
						if v != id {
							return fmt.Errorf("the application was replaced")
						}
						return nil
					}),
				),
			},
			{
				// Changing client_secret_rotation rotates on purpose: a new secret, same application.
				Config: rotated,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(address, "client_secret", clientSecretPattern),
					resource.TestCheckResourceAttrWith(address, "client_secret", func(v string) error { return expectDifferent(secret, v) }),
					checkAuditAction("application.secret_rotated", &id),
				),
			},
			{
				// The set's order in the configuration makes no difference.
				Config: replaceOnce(t, rotated, `"https://db-console.example.com/oidc/callback", "http://localhost:8080/callback"`, `"http://localhost:8080/callback", "https://db-console.example.com/oidc/callback"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// `tofu import` by id: every attribute but the secret (never readable) and the rotation trigger.
				ResourceName:            address,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"client_secret", "client_secret_rotation"},
			},
			{
				// An import {} block. Without client_secret_rotation: with it, the plan would rotate the
				// imported application's unknown secret once (documented), which is not a no-op import.
				Config:          replaceOnce(t, rotated, `client_secret_rotation = "2027-01"`, ""),
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
		},
	})
}

// A public client has no secret; switching it to a confidential method issues one into the state.
func TestAccApplication_publicThenConfidential(t *testing.T) {
	public := testConfig(`
resource "interim_application" "spa" {
  name                       = "Single-page app"
  redirect_uris              = ["https://spa.example.com/cb"]
  token_endpoint_auth_method = "none"
}
`)
	confidential := replaceOnce(t, public, `"none"`, `"client_secret_post"`)
	const address = "interim_application.spa"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_application", "/api/v1/applications/"),
		Steps: []resource.TestStep{
			{
				Config: public,
				Check:  resource.TestCheckNoResourceAttr(address, "client_secret"),
			},
			{
				Config: confidential,
				Check:  resource.TestMatchResourceAttr(address, "client_secret", clientSecretPattern),
			},
			{
				Config: public,
				Check:  resource.TestCheckNoResourceAttr(address, "client_secret"),
			},
		},
	})
}

func TestAccApplication_recreatedAfterOutsideDelete(t *testing.T) {
	config := testConfig(`
resource "interim_application" "drift" {
  name          = "Deleted in the portal"
  redirect_uris = ["https://drift.example.com/cb"]
}
`)
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_application", "/api/v1/applications/"),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check:  captureAttr("interim_application.drift", "id", &id),
			},
			{
				PreConfig: func() { deleteThroughAPI(t, "/api/v1/applications/"+id) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("interim_application.drift", plancheck.ResourceActionCreate)},
				},
				Check: resource.TestCheckResourceAttrWith("interim_application.drift", "id", func(v string) error { return expectDifferent(id, v) }),
			},
		},
	})
}

func TestAccApplication_invalidValuesFailAtPlan(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: testConfig(`
resource "interim_application" "bad" {
  name          = "Plain http"
  redirect_uris = ["http://app.example.com/cb"]
}
`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)redirect_uris.*allowed only for localhost`),
			},
			{
				Config: testConfig(`
resource "interim_application" "bad" {
  name = "No redirect"
}
`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Missing redirect URIs.*authorization_code`),
			},
			{
				Config: testConfig(`
resource "interim_application" "bad" {
  name                       = "Public machine"
  grant_types                = ["client_credentials"]
  token_endpoint_auth_method = "none"
}
`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)grant_types.*client_credentials needs a confidential client`),
			},
			{
				Config: testConfig(`
resource "interim_application" "bad" {
  name                  = "Too long"
  redirect_uris         = ["https://app.example.com/cb"]
  access_token_ttl_secs = 10
}
`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)access_token_ttl_secs.*between 60 and 86400`),
			},
		},
	})
}

func TestAccApplication_serverRejectionIsADiagnostic(t *testing.T) {
	taken := createThroughAPI(t, "/api/v1/applications", map[string]any{"name": "Already an application", "redirect_uris": []string{"https://taken.example.com/cb"}})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/applications/"+taken) })
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: testConfig(`
resource "interim_application" "dup" {
  name          = "Already an application"
  redirect_uris = ["https://dup.example.com/cb"]
}
`),
				ExpectError: regexp.MustCompile(`(?s)Could not create the application.*409.*an application with this name already exists`),
			},
		},
	})
}

// checkApplicationInAPI reads the application through the API, outside OpenTofu.
func checkApplicationInAPI(id *string, check func(applicationAPI) error) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var found applicationAPI
		if err := accServer.Client.Get(context.Background(), "/api/v1/applications/"+*id, &found); err != nil {
			return err
		}
		return check(found)
	}
}

// checkAuditAction proves through the audit trail that the server did something to an object
// whose effect cannot be read back (a rotated secret).
func checkAuditAction(action string, targetID *string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var page struct {
			Items []struct {
				Action   string `json:"action"`
				TargetID string `json:"target_id"`
			} `json:"items"`
		}
		if err := accServer.Client.Get(context.Background(), "/api/v1/audit-events?limit=200&action="+action+"&target_id="+*targetID, &page); err != nil {
			return err
		}
		for _, e := range page.Items {
			if e.Action == action && e.TargetID == *targetID {
				return nil
			}
		}
		return fmt.Errorf("no %s audit event for %s", action, *targetID)
	}
}
