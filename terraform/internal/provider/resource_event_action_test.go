package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const ownSigningSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestAccEventAction_lifecycle(t *testing.T) {
	created := exampleConfig(t, "resources/interim_event_action/resource.tf")
	updated := replaceOnce(t, created, `webhook_url = "https://provisioner.example.com/hooks/interim"`, `webhook_url = "https://provisioner.example.com/hooks/v2"`)
	updated = replaceOnce(t, updated, `email_addresses  = ["auditors@example.com"]`, `email_addresses  = ["auditors@example.com", "ciso@example.com"]`)
	updated = replaceOnce(t, updated, `enabled     = false`, `enabled     = true`)
	updated = replaceOnce(t, updated, `event_types       = ["access_request.denied", "access_request.escalated"]`, `event_types       = ["access_request.escalated", "access_request.denied", "access_request.revoked"]`)
	// Setting a signing secret of one's own rotates to it.
	ownSecret := replaceOnce(t, updated, `kind        = "webhook"`, `kind        = "webhook"`+"\n  webhook_signing_secret = \""+ownSigningSecret+"\"")
	// Import steps import one resource into an empty state, where the example's output (of the
	// webhook's secret) has no value, which plugin-testing cannot read: they leave it out.
	importable := replaceOnce(t, ownSecret, `output "provisioner_signing_secret" {
  value     = interim_event_action.provisioner.webhook_signing_secret
  sensitive = true
}`, "")
	slackURL := config.Variables{"slack_webhook_url": config.StringVariable("https://hooks.slack.com/services/T000/B000/secret1")}
	slackURL2 := config.Variables{"slack_webhook_url": config.StringVariable("https://hooks.slack.com/services/T000/B000/secret2")}
	const webhook, slack, email, script = "interim_event_action.provisioner", "interim_event_action.security_channel", "interim_event_action.audit_mail", "interim_event_action.announce"
	var webhookID, generated string

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_event_action", "/api/v1/event-actions/"),
		Steps: []resource.TestStep{
			{
				Config:          created,
				ConfigVariables: slackURL,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(webhook, "id", uuidPattern),
					resource.TestMatchResourceAttr(webhook, "webhook_signing_secret", regexp.MustCompile(`^whsec_`)),
					resource.TestCheckResourceAttr(webhook, "event_types.#", "3"),
					resource.TestCheckResourceAttr(webhook, "enabled", "true"),
					resource.TestCheckNoResourceAttr(webhook, "template_id"),
					resource.TestCheckResourceAttr(slack, "slack_webhook_url", "https://hooks.slack.com/services/T000/B000/secret1"),
					resource.TestCheckNoResourceAttr(slack, "webhook_signing_secret"),
					resource.TestCheckResourceAttr(email, "email_recipients", "addresses"),
					resource.TestCheckResourceAttr(email, "email_addresses.#", "1"),
					resource.TestCheckResourceAttrPair(script, "script_id", "interim_script.announce", "id"),
					resource.TestCheckResourceAttr(script, "enabled", "false"),
					captureAttr(webhook, "id", &webhookID),
					captureAttr(webhook, "webhook_signing_secret", &generated),
				),
			},
			{
				// In-place updates of every kind; the generated secret stays, a new Slack URL is sent.
				Config:          updated,
				ConfigVariables: slackURL2,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(webhook, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(slack, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(email, plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction(script, plancheck.ResourceActionUpdate),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(webhook, "webhook_url", "https://provisioner.example.com/hooks/v2"),
					resource.TestCheckResourceAttrWith(webhook, "webhook_signing_secret", func(v string) error {
						if v != generated {
							return fmt.Errorf("the signing secret changed without being asked to")
						}
						return nil
					}),
					resource.TestCheckResourceAttr(slack, "event_types.#", "3"),
					resource.TestCheckResourceAttr(slack, "slack_webhook_url", "https://hooks.slack.com/services/T000/B000/secret2"),
					resource.TestCheckResourceAttr(email, "email_addresses.#", "2"),
					resource.TestCheckResourceAttr(script, "enabled", "true"),
					checkAuditAction("event_action.updated", &webhookID),
				),
			},
			{
				Config:          ownSecret,
				ConfigVariables: slackURL2,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(webhook, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(webhook, "webhook_signing_secret", ownSigningSecret),
					checkAuditAction("event_action.secret_rotated", &webhookID),
				),
			},
			// Imports: Interim never shows the secrets, so only they are left out of the comparison.
			{Config: importable, ResourceName: webhook, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"webhook_signing_secret"}, ConfigVariables: slackURL2},
			{Config: importable, ResourceName: slack, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"slack_webhook_url"}, ConfigVariables: slackURL2},
			{Config: importable, ResourceName: email, ImportState: true, ImportStateVerify: true, ConfigVariables: slackURL2},
			{Config: importable, ResourceName: script, ImportState: true, ImportStateVerify: true, ConfigVariables: slackURL2},
			{
				Config:          importable,
				ConfigVariables: slackURL2,
				ResourceName:    email,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
		},
	})
}

// A Slack URL replaced in the portal by one on another host is drift the next plan repairs, even
// though the URL itself is never readable.
func TestAccEventAction_slackURLDrift(t *testing.T) {
	cfg := testConfig(`
resource "interim_event_action" "slack" {
  name              = "Slack drift"
  event_types       = ["access_request.denied"]
  kind              = "slack"
  slack_webhook_url = "https://hooks.slack.com/services/T1/B1/x"
}
`)
	const address = "interim_event_action.slack"
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_event_action", "/api/v1/event-actions/"),
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureAttr(address, "id", &id)},
			{
				PreConfig: func() {
					if err := accServer.Client.Patch(context.Background(), "/api/v1/event-actions/"+id,
						map[string]any{"config": map[string]any{"webhook_url": "https://elsewhere.example.com/x"}}, nil); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: checkEventActionInAPI(&id, func(a eventActionAPI) error {
					if a.Config.WebhookURLHost != "hooks.slack.com" {
						return fmt.Errorf("the Slack URL was not put back: host %s", a.Config.WebhookURLHost)
					}
					return nil
				}),
			},
		},
	})
}

func TestAccEventAction_recreatedAfterOutsideDelete(t *testing.T) {
	cfg := testConfig(`
resource "interim_event_action" "drift" {
  name             = "Deleted in the portal"
  event_types      = ["access_request.approved"]
  kind             = "email"
  email_recipients = "requester"
}
`)
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_event_action", "/api/v1/event-actions/"),
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureAttr("interim_event_action.drift", "id", &id)},
			{
				PreConfig: func() { deleteThroughAPI(t, "/api/v1/event-actions/"+id) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("interim_event_action.drift", plancheck.ResourceActionCreate)},
				},
				Check: resource.TestCheckResourceAttrWith("interim_event_action.drift", "id", func(v string) error { return expectDifferent(id, v) }),
			},
		},
	})
}

func TestAccEventAction_invalidValuesFailAtPlan(t *testing.T) {
	action := func(body string) string {
		return testConfig(`
resource "interim_event_action" "bad" {
  name        = "Bad"
  event_types = ["access_request.approved"]
` + body + `
}
`)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:      action(`kind = "webhook"` + "\n" + `slack_webhook_url = "https://hooks.slack.com/x"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)webhook_url is required when kind is webhook`),
			},
			{
				Config:      action(`kind = "email"` + "\n" + `email_recipients = "addresses"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)email_addresses is required when email_recipients is addresses`),
			},
			{
				Config:      action(`kind = "carrier_pigeon"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)kind.*value must be one of`),
			},
			{
				Config:      action(`kind = "webhook"` + "\n" + `webhook_url = "https://x.example.com"` + "\n" + `webhook_signing_secret = "not-a-secret"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)webhook_signing_secret.*must be whsec_`),
			},
		},
	})
}

func TestAccEventAction_serverRejectionNamesTheAttribute(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				// A well-formed id of a script that does not exist: only the server can tell.
				Config: testConfig(`
resource "interim_event_action" "ghost" {
  name        = "Runs a ghost"
  event_types = ["access_request.approved"]
  kind        = "script"
  script_id   = "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d0f"
}
`),
				ExpectError: regexp.MustCompile(`(?s)Could not create the event action.*script_id.*no live script has the id`),
			},
		},
	})
}

func checkEventActionInAPI(id *string, check func(eventActionAPI) error) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var found eventActionAPI
		if err := accServer.Client.Get(context.Background(), "/api/v1/event-actions/"+*id, &found); err != nil {
			return err
		}
		return check(found)
	}
}
