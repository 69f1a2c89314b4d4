package provider

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const aliceInitialPassword = "correct horse battery staple"

func TestAccUser_lifecycle(t *testing.T) {
	created := exampleConfig(t, "resources/interim_user/resource.tf")
	updated := replaceOnce(t, created, `name             = "Alice Example"`, `name             = "Alice Example-Smith"
  disabled         = true`)
	variables := config.Variables{"alice_initial_password": config.StringVariable(aliceInitialPassword)}
	const address = "interim_user.alice"

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_user", "/api/v1/users/"),
		Steps: []resource.TestStep{
			{
				Config:          created,
				ConfigVariables: variables,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(address, "id", uuidPattern),
					resource.TestCheckResourceAttr(address, "email", "alice@example.com"),
					resource.TestCheckResourceAttr(address, "name", "Alice Example"),
					resource.TestCheckResourceAttr(address, "is_admin", "false"),
					resource.TestCheckResourceAttr(address, "disabled", "false"),
					// Write-only: sent to Interim, never kept in the state.
					resource.TestCheckNoResourceAttr(address, "initial_password"),
					checkSignIn("alice@example.com", aliceInitialPassword, http.StatusOK),
				),
			},
			{
				Config:          updated,
				ConfigVariables: variables,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "name", "Alice Example-Smith"),
					resource.TestCheckResourceAttr(address, "disabled", "true"),
					// Disabled in Interim: the password no longer signs in.
					checkSignIn("alice@example.com", aliceInitialPassword, http.StatusUnauthorized),
				),
			},
			{
				ConfigVariables:   variables,
				ResourceName:      address,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				Config:          updated,
				ConfigVariables: variables,
				ResourceName:    address,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
		},
	})
}

func TestAccUser_portalChangeShowsAsDrift(t *testing.T) {
	config := testConfig(`
resource "interim_user" "dana" {
  email = "dana@example.com"
  name  = "Dana"
}
`)
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_user", "/api/v1/users/"),
		Steps: []resource.TestStep{
			{Config: config, Check: captureAttr("interim_user.dana", "id", &id)},
			{
				// An admin makes Dana an admin in the portal: the plan sets it back, in place.
				PreConfig: func() {
					if err := accServer.Client.Patch(context.Background(), "/api/v1/users/"+id, map[string]any{"is_admin": true}, nil); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("interim_user.dana", plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue("interim_user.dana", tfjsonPath("is_admin"), knownBool(false)),
					},
				},
				Check: resource.TestCheckResourceAttr("interim_user.dana", "is_admin", "false"),
			},
		},
	})
}

func TestAccUser_invalidValuesFailAtPlan(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: testConfig(`resource "interim_user" "x" {
  email = "Eve@Example.com"
  name  = "Eve"
}`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`must be an email address in lower case`),
			},
			{
				Config: testConfig(`resource "interim_user" "x" {
  email            = "eve@example.com"
  name             = "Eve"
  initial_password = "short"
}`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)initial_password.*string length must be between 12 and 1024`),
			},
		},
	})
}

func TestAccUser_duplicateEmailNamesTheAttribute(t *testing.T) {
	taken := createThroughAPI(t, "/api/v1/users", map[string]any{"email": "frank@example.com", "name": "Frank"})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/users/"+taken) })
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: testConfig(`
resource "interim_user" "frank" {
  name  = "Frank the second"
  email = "frank@example.com"
}
`),
				ExpectError: regexp.MustCompile(`(?s)Could not create the user.*\d+:\s+email = "frank@example.com".*a user with this email already exists`),
			},
		},
	})
}

// checkSignIn signs in with email and password through the API and expects status.
func checkSignIn(email, password string, status int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		anonymous, err := NewClient(accServer.URL, "", "tests")
		if err != nil {
			return err
		}
		err = anonymous.Post(context.Background(), "/api/v1/session", map[string]any{"email": email, "password": password}, nil)
		return expectStatus(err, status)
	}
}
