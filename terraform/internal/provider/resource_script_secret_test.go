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

// revealingScript is granted the secret and logs its value reversed: the run log redacts the value
// itself, and the reversed text proves which value the server holds without ever reading it back.
const revealingScript = `
resource "interim_script" "reveal" {
  name       = "Reveal the CRM token, reversed"
  source     = "log.info(secrets.get('CRM_API_TOKEN').split('').reverse().join(''));"
  secret_ids = [interim_script_secret.crm_api_token.id]
}
`

func TestAccScriptSecret_lifecycle(t *testing.T) {
	created := exampleConfig(t, "resources/interim_script_secret/resource.tf") + revealingScript
	renamed := strings.ReplaceAll(created, "CRM_API_TOKEN", "CRM_TOKEN")
	replaced := replaceOnce(t, renamed, "value_version = 1", "value_version = 2")
	v1 := config.Variables{"crm_api_token": config.StringVariable("token-one")}
	v2 := config.Variables{"crm_api_token": config.StringVariable("token-two")}
	const address = "interim_script_secret.crm_api_token"
	var scriptID, secretID string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_script_secret", "/api/v1/script-secrets/"),
		Steps: []resource.TestStep{
			{
				Config:          created,
				ConfigVariables: v1,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(address, "id", uuidPattern),
					resource.TestCheckResourceAttr(address, "name", "CRM_API_TOKEN"),
					// Write-only: the value is nowhere in the state.
					resource.TestCheckNoResourceAttr(address, "value"),
					resource.TestCheckResourceAttr(address, "value_version", "1"),
					captureAttr("interim_script.reveal", "id", &scriptID),
					captureAttr(address, "id", &secretID),
					checkSecretSeenByScript(&scriptID, "token-one"),
				),
			},
			{
				// A new value under the same value_version is not sent (it cannot be compared): no change.
				Config:          created,
				ConfigVariables: v2,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: checkSecretSeenByScript(&scriptID, "token-one"),
			},
			{
				// A rename alone keeps the value.
				Config:          renamed,
				ConfigVariables: v1,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "name", "CRM_TOKEN"),
					checkSecretSeenByScript(&scriptID, "token-one"),
				),
			},
			{
				// value_version changes: the new value is sent, in place.
				Config:          replaced,
				ConfigVariables: v2,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(address, "value"),
					resource.TestCheckResourceAttrWith(address, "id", func(v string) error {
						if v != secretID {
							return fmt.Errorf("the secret was replaced")
						}
						return nil
					}),
					checkSecretSeenByScript(&scriptID, "token-two"),
				),
			},
			{
				// value_version is the state's own bookkeeping: an import cannot know it.
				ResourceName:            address,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"value_version"},
				ConfigVariables:         v2,
			},
		},
	})
}

// The import {} block: an imported secret has no value_version, so its configuration leaves it out
// (setting one would send the configured value once, which is how to take over a secret's value).
func TestAccScriptSecret_importBlock(t *testing.T) {
	id := createThroughAPI(t, "/api/v1/script-secrets", map[string]any{"name": "IMPORTED_SECRET", "value": "made-in-the-portal"})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/script-secrets/"+id) })
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: testConfig(`
resource "interim_script_secret" "imported" {
  name  = "IMPORTED_SECRET"
  value = "made-in-the-portal"
}
`),
				ResourceName:    "interim_script_secret.imported",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   id,
			},
		},
	})
}

func TestAccScriptSecret_recreatedAfterOutsideDelete(t *testing.T) {
	cfg := testConfig(`
resource "interim_script_secret" "drift" {
  name  = "DELETED_IN_THE_PORTAL"
  value = "some value"
}
`)
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_script_secret", "/api/v1/script-secrets/"),
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureAttr("interim_script_secret.drift", "id", &id)},
			{
				PreConfig: func() { deleteThroughAPI(t, "/api/v1/script-secrets/"+id) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("interim_script_secret.drift", plancheck.ResourceActionCreate)},
				},
				Check: resource.TestCheckResourceAttrWith("interim_script_secret.drift", "id", func(v string) error { return expectDifferent(id, v) }),
			},
		},
	})
}

func TestAccScriptSecret_badInput(t *testing.T) {
	taken := createThroughAPI(t, "/api/v1/script-secrets", map[string]any{"name": "ALREADY_TAKEN", "value": "x"})
	t.Cleanup(func() { deleteThroughAPI(t, "/api/v1/script-secrets/"+taken) })
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: testConfig(`resource "interim_script_secret" "bad" {
  name  = "has-dashes"
  value = "x"
}`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)name.*must start with a letter or underscore`),
			},
			{
				Config: testConfig(`resource "interim_script_secret" "bad" {
  name  = "EMPTY"
  value = ""
}`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)value.*length must be between 1 and 16384`),
			},
			{
				// The server's 409 lands on the name.
				Config: testConfig(`resource "interim_script_secret" "dup" {
  name  = "ALREADY_TAKEN"
  value = "x"
}`),
				ExpectError: regexp.MustCompile(`(?s)Could not create the script secret.*name.*a script secret with this name already exists`),
			},
		},
	})
}

// checkSecretSeenByScript runs the revealing script through the API's test endpoint and compares
// the (reversed) value it logged with want.
func checkSecretSeenByScript(scriptID *string, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var run struct {
			Status string `json:"status"`
			Error  *string
			Logs   []struct {
				Message string `json:"message"`
			} `json:"logs"`
		}
		if err := accServer.Client.Post(context.Background(), "/api/v1/scripts/"+*scriptID+"/test", map[string]any{}, &run); err != nil {
			return err
		}
		if run.Status != "succeeded" || len(run.Logs) != 1 {
			return fmt.Errorf("the script run %s: %+v", run.Status, run)
		}
		got := []rune(run.Logs[0].Message)
		for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
			got[i], got[j] = got[j], got[i]
		}
		if string(got) != want {
			return fmt.Errorf("the server holds %q, want %q", string(got), want)
		}
		return nil
	}
}
