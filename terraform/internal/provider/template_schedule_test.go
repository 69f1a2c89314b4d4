package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// Scheduled start (issue 12 §3): max_start_delay_mins is set, changed in place, imported and
// removed, the server holding each value; a blocking trigger with a schedule fails at plan.
func TestAccAccessRequestTemplate_schedule(t *testing.T) {
	label := "Scheduled " + randomHex(3)
	target := newTemplateTarget(t, label)
	body := func(extra string) string {
		return "  allowed_durations  = [60]\n  approver_group_ids = [interim_group.approvers.id]\n" + extra
	}
	const address = "interim_access_request_template.test"
	var id string
	delayIs := func(want *int64) resource.TestCheckFunc {
		return checkTemplateInAPI(&id, func(t templateAPI) error {
			if (want == nil) != (t.MaxStartDelayMins == nil) || (want != nil && *want != *t.MaxStartDelayMins) {
				return fmt.Errorf("max_start_delay_mins in the API: want %v, got %v", ptrString(want), ptrString(t.MaxStartDelayMins))
			}
			return nil
		})
	}
	twoWeeks, hour := int64(20160), int64(60)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkDestroyedInAPI("interim_access_request_template", templatesAPIPrefix),
		Steps: []resource.TestStep{
			{
				Config: templateConfig(label, target, body("  max_start_delay_mins = 20160\n")),
				Check: resource.ComposeAggregateTestCheckFunc(
					captureAttr(address, "id", &id),
					resource.TestCheckResourceAttr(address, "max_start_delay_mins", "20160"),
					delayIs(&twoWeeks),
				),
			},
			{
				Config: templateConfig(label, target, body("  max_start_delay_mins = 60\n")),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(address, "max_start_delay_mins", "60"),
					resource.TestCheckResourceAttr(address, "version", "2"),
					delayIs(&hour),
				),
			},
			{ResourceName: address, ImportState: true, ImportStateVerify: true},
			{
				// Left out: no scheduled start, null on the server.
				Config: templateConfig(label, target, body("")),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(address, "max_start_delay_mins"),
					delayIs(nil),
				),
			},
		},
	})
}

// The plan refuses what the server would: a limit beyond 30 days, and a schedule on a template whose trigger blocks.
func TestAccAccessRequestTemplate_scheduleInvalidFailsAtPlan(t *testing.T) {
	const appID, mappingID, groupID = "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d01", "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d02", "0190c1f0-8a4e-7c3b-9d2e-5f6a7b8c9d03"
	config := func(body string) string {
		return testConfig(fmt.Sprintf(`
resource "interim_access_request_template" "bad" {
  name               = "Bad schedule"
  app_id             = %q
  mapping_ids        = [%q]
  approver_group_ids = [%q]
  allowed_durations  = [60]
%s
}
`, appID, mappingID, groupID, body))
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{Config: config("  max_start_delay_mins = 43201"), PlanOnly: true, ExpectError: wrappedPattern(`(?s)max_start_delay_mins.*must be between 0 and 43200`)},
			{Config: config("  max_start_delay_mins = -1"), PlanOnly: true, ExpectError: wrappedPattern(`(?s)max_start_delay_mins.*must be between 0 and 43200`)},
			{
				Config:      config(fmt.Sprintf("  max_start_delay_mins = 60\n  trigger {\n    script_id    = %q\n    failure_mode = \"block\"\n  }", groupID)),
				PlanOnly:    true,
				ExpectError: wrappedPattern(`(?s)Scheduled start with a blocking trigger.*max_start_delay_mins cannot be set with a trigger whose failure_mode is "block"`),
			},
		},
	})
}

func ptrString(v *int64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}
